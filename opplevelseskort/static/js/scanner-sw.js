/* Service worker for the offline scanner (/skann/): its page and the files it needs open with no network. The page
   tells it what to keep (its own address, scripts and styles); network first, the kept copy when offline. Scans
   and lists are kept by the page itself (IndexedDB), never here. */
"use strict";
var CACHE = "opplevelseskort-scanner-v1";

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

self.addEventListener("message", function (event) {
  var urls = (event.data && event.data.keep) || [];
  var same = urls.filter(function (u) { return new URL(u, self.location.href).origin === self.location.origin; });
  event.waitUntil(caches.open(CACHE).then(function (c) { return c.addAll(same); }).then(function () {
    if (event.source) { event.source.postMessage({ kept: same.length }); }
  }).catch(function () {}));
});

self.addEventListener("fetch", function (event) {
  var req = event.request;
  if (req.method !== "GET") { return; }
  var url = new URL(req.url);
  var page = url.pathname === "/skann/uten-nett";
  if (url.origin !== self.location.origin || !(page || url.pathname.indexOf("/static/") === 0)) { return; }
  event.respondWith(
    fetch(req).then(function (resp) {
      if (resp.ok && !resp.redirected) {
        var copy = resp.clone();
        caches.open(CACHE).then(function (c) { c.put(req, copy); });
      }
      return resp;
    }).catch(function () {
      return caches.match(req, { ignoreSearch: true });
    })
  );
});
