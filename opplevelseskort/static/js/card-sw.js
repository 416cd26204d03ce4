/* Service worker for the family's card: after the first visit the card (page, QR, styles) opens offline,
   e.g. at a counter with no signal. Network first, cache as fallback; nothing else is cached. */
"use strict";
var CACHE = "opplevelseskort-card-v1";

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

self.addEventListener("fetch", function (event) {
  var req = event.request;
  if (req.method !== "GET") { return; }
  var url = new URL(req.url);
  var cacheable = url.origin === self.location.origin &&
    (url.pathname.indexOf("/kort/") === 0 || url.pathname.indexOf("/static/") === 0);
  if (!cacheable || url.pathname.endsWith(".pdf")) { return; }
  event.respondWith(
    fetch(req).then(function (resp) {
      if (resp.ok) {
        var copy = resp.clone();
        caches.open(CACHE).then(function (c) { c.put(req, copy); });
      }
      return resp;
    }).catch(function () {
      return caches.match(req, { ignoreSearch: true });
    })
  );
});
