/* The family's card on a phone, a code that a screenshot cannot copy (issue 39, item 2). The first time, with a
   network, the page makes a key on this phone (WebCrypto ECDSA P-256; the private key cannot leave it) and the
   server binds the card to it once. From then on the page signs the time every few seconds and shows a new QR
   ("OK2:"), with or without a network. Without the APIs it needs, or before the first binding, the card's
   printed code stays (the image the page came with). */
(function () {
  "use strict";
  var script = document.currentScript;
  var d = script.dataset;
  var img = document.querySelector("img.member-card-qr");
  var S = window.SignedCodes;
  if (!img || !S || !window.crypto || !crypto.subtle || !window.indexedDB || typeof window.qrcode !== "function" ||
      typeof window.CompressionStream !== "function") {
    return;
  }
  var STORE = "devices", key = location.pathname;

  function openDb() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open("opplevelseskort-card", 1);
      req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: "page" }); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }
  function read(db) {
    return new Promise(function (resolve) {
      var r = db.transaction(STORE, "readonly").objectStore(STORE).get(key);
      r.onsuccess = function () { resolve(r.result || null); };
      r.onerror = function () { resolve(null); };
    });
  }
  function write(db, record) {
    return new Promise(function (resolve, reject) {
      var t = db.transaction(STORE, "readwrite");
      t.objectStore(STORE).put(record);
      t.oncomplete = function () { resolve(record); };
      t.onerror = function () { reject(t.error); };
    });
  }

  function bind(db) {
    var pair;
    return crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"])
      .then(function (p) { pair = p; return crypto.subtle.exportKey("raw", p.publicKey); })
      .then(function (raw) {
        var asked = Date.now();
        return fetch(d.bind, {
          method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": d.csrf },
          body: JSON.stringify({ public_key: S.b64url(new Uint8Array(raw)) })
        }).then(function (r) {
          if (!r.ok) { throw new Error("bind " + r.status); }
          return r.json();
        }).then(function (answer) {
          var offset = Date.parse(answer.server_time) - (asked + Date.now()) / 2;
          return write(db, { page: key, pair: pair, certificate: S.fromB64url(answer.certificate),
                             offsetMs: offset, refresh: answer.refresh_seconds || 5 });
        });
      });
  }

  function show(record) {
    var t = Math.floor((Date.now() + record.offsetMs) / 1000);
    return crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, record.pair.privateKey,
                              S.rotatingSigned(record.certificate, t))
      .then(function (signature) {
        return S.deflate(S.rotatingMessage(record.certificate, t, new Uint8Array(signature)));
      })
      .then(function (packed) {
        var qr = window.qrcode(0, "M");
        qr.addData("OK2:" + S.base45Encode(packed), "Alphanumeric");
        qr.make();
        img.src = qr.createDataURL(8, 4);
        img.dataset.live = "1";
        img.dataset.shownAt = String(t);
      });
  }

  openDb().then(function (db) {
    return read(db).then(function (record) { return record || (navigator.onLine ? bind(db) : null); });
  }).then(function (record) {
    if (!record) { return; }
    show(record);
    window.setInterval(function () { show(record); }, record.refresh * 1000);
  }).catch(function () { /* the printed card's code stays */ });
})();
