/* Registers the card's service worker so the card opens offline after the first visit. */
(function () {
  "use strict";
  if (!("serviceWorker" in navigator)) { return; }
  var script = document.currentScript;
  navigator.serviceWorker.register(script.dataset.sw, { scope: script.dataset.scope }).catch(function () {});
})();
