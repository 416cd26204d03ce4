/* Keeps the state of the messages on a page true: polls the outbox for the ones still queued or being sent and
   rewrites each one's words when it is sent or fails (the page's first words come from the same server text). */
(function () {
  "use strict";
  var box = document.querySelector("[data-message-status-url]");
  if (!box) { return; }
  var tries = 0;
  function waiting() {
    return document.querySelectorAll(".message-state[data-final='false']").length > 0;
  }
  function poll() {
    tries += 1;
    fetch(box.dataset.messageStatusUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (data && data.messages) {
          Object.keys(data.messages).forEach(function (id) {
            var state = data.messages[id];
            document.querySelectorAll(".message-state[data-message-id='" + id + "']").forEach(function (el) {
              if (el.textContent !== state.text) { el.textContent = state.text; }
              el.className = "message-state message-" + state.status;
              el.dataset.final = state.final ? "true" : "false";
            });
          });
        }
        // every 3 s for the first minute, then every 15 s for a quarter of an hour: an outbox run is due by then
        if (waiting() && tries < 80) { setTimeout(poll, tries < 20 ? 3000 : 15000); }
      })
      .catch(function () { if (tries < 80) { setTimeout(poll, 15000); } });
  }
  setTimeout(poll, 2000);
})();
