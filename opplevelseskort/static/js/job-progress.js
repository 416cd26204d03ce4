/* Follows a queued job: polls its status, moves the progress bar, and reloads the page when it has finished
   (the page then shows the job's result). */
(function () {
  "use strict";
  var box = document.querySelector("[data-status-url]");
  if (!box) { return; }
  var bar = document.getElementById("job-progress");
  function poll() {
    fetch(box.dataset.statusUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (!s) { return setTimeout(poll, 3000); }
        if (s.total > 0) { bar.max = s.total; bar.value = s.done; bar.textContent = s.done + " / " + s.total; }
        if (s.finished) { window.location.reload(); return; }
        setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 500);
})();
