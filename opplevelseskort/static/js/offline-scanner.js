/* The scanner where the network ends (issue 39). With a network it fetches the partner's offers' rules, the
   municipality's trust list and revocation lists; without one it verifies a signed card code on the phone
   (Base45, deflate, COSE_Sign1, Ed25519 with WebCrypto), applies the offer's rules, shows yes or no, and queues
   each yes in IndexedDB with an id made here. "Sync now" (and coming back online) sends the queue; the server
   judges every scan again (checkin/offline.py) and answers each one. */
(function () {
  "use strict";
  var script = document.currentScript;
  var d = script.dataset;
  var form = document.getElementById("offline-form");
  if (!form) { return; }
  var offerSelect = document.getElementById("offline-offer");
  var codeInput = document.getElementById("offline-code");
  var DAY_MS = 86400000;
  var S = window.SignedCodes;
  var db = null, bundle = null, fetchedAt = 0, offsetMs = 0, csrf = d.csrf, deviceId = null;

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (_m, k) { return values[k] === undefined ? "" : String(values[k]); });
  }
  function el(id) { return document.getElementById(id); }

  // --- storage: IndexedDB (queue and cached lists) ------------------------------------------------------------
  function openDb() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open("opplevelseskort-scanner", 1);
      req.onupgradeneeded = function () {
        req.result.createObjectStore("events", { keyPath: "event_id" });
        req.result.createObjectStore("meta", { keyPath: "key" });
      };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }
  function tx(store, mode, fn) {
    return new Promise(function (resolve, reject) {
      var t = db.transaction(store, mode);
      var result = fn(t.objectStore(store));
      t.oncomplete = function () { resolve(result && "result" in result ? result.result : result); };
      t.onerror = function () { reject(t.error); };
    });
  }
  function getMeta(key) { return tx("meta", "readonly", function (s) { return s.get(key); }).then(function (r) { return r ? r.value : null; }); }
  function setMeta(key, value) { return tx("meta", "readwrite", function (s) { s.put({ key: key, value: value }); }); }
  function allEvents() { return tx("events", "readonly", function (s) { return s.getAll(); }); }

  function refuse(reason) { var e = new Error(reason); e.reason = reason; throw e; }

  function verifyCertificate(msg) {  // a COSE_Sign1 (tag 18) of card claims, by a key of the trust list
    if (msg && msg.tag === 18) { msg = msg.value; }
    if (!Array.isArray(msg) || msg.length !== 4) { refuse("bad"); }
    var header;
    try { header = S.cborDecode(msg[0]); } catch (e) { refuse("bad"); }
    if (!(header instanceof Map) || header.get(1) !== -8 || !(header.get(4) instanceof Uint8Array)) { refuse("bad"); }
    var kid = S.hex(header.get(4));
    var key = (bundle.trust.keys || []).filter(function (k) { return k.kid === kid; })[0];
    if (!key) { refuse("unknownKey"); }
    return crypto.subtle.importKey("raw", S.fromB64url(key.x), { name: "Ed25519" }, false, ["verify"])
      .then(function (publicKey) {
        return crypto.subtle.verify({ name: "Ed25519" }, publicKey, msg[3], S.sigStructure(msg[0], msg[2]));
      })
      .then(function (ok) {
        if (!ok) { refuse("bad"); }
        var claims = S.cborDecode(msg[2]);
        return { key: key, kid: header.get(4), municipality: String(claims.get(1)), card: String(claims.get(2)),
                 exp: claims.get(4), iat: claims.get(6), band: claims.get(-65537) || "", cnf: claims.get(8) };
      });
  }

  function verifyPhone(outer) {  // [bound card, time, the phone's signature]: both signatures, and the time
    if (!Array.isArray(outer) || outer.length !== 3 || !(outer[0] instanceof Uint8Array)) { refuse("bad"); }
    var certificate = outer[0], t = outer[1], signature = outer[2], claims;
    return verifyCertificate(S.cborDecode(certificate)).then(function (c) {
      claims = c;
      var cose = c.cnf instanceof Map ? c.cnf.get(1) : null;
      if (!(cose instanceof Map) || cose.get(1) !== 2 || cose.get(-1) !== 1) { refuse("bad"); }
      var point = S.concat([new Uint8Array([4]), cose.get(-2), cose.get(-3)]);
      return crypto.subtle.importKey("raw", point, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
    }).then(function (deviceKey) {
      return crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, deviceKey, signature,
                                  S.rotatingSigned(certificate, t));
    }).then(function (ok) {
      if (!ok) { refuse("bad"); }
      if (Math.abs(now().getTime() - t * 1000) > ((bundle && bundle.rotating_window_seconds) || 30) * 1000) {
        refuse("stale");
      }
      return claims;
    });
  }

  function verify(code) {
    var phone = code.indexOf("OK2:") === 0;
    if (!phone && code.indexOf("OK1:") !== 0) { return Promise.reject(Object.assign(new Error(), { reason: "notSigned" })); }
    var message;
    try { message = S.base45Decode(code.slice(4).trim()); } catch (e) { return Promise.reject(Object.assign(e, { reason: "bad" })); }
    return S.inflate(message).catch(function () { refuse("bad"); }).then(function (raw) {
      var decoded;
      try { decoded = S.cborDecode(raw); } catch (e) { refuse("bad"); }
      return phone ? verifyPhone(decoded) : verifyCertificate(decoded);
    });
  }

  function revoked(claims) {
    var id = new Uint8Array(claims.kid.length + claims.card.length);
    id.set(claims.kid, 0);
    id.set(new TextEncoder().encode(claims.card), claims.kid.length);
    return crypto.subtle.digest("SHA-256", id).then(function (digest) {
      var name = S.b64url(new Uint8Array(digest).slice(0, 16));
      return (claims.key.revoked || []).some(function (r) {
        return r.id === name && Date.parse(r.issued_before) > claims.iat * 1000;
      });
    });
  }

  // --- the offer's rules -----------------------------------------------------------------------------------------
  function now() { return new Date(Date.now() + offsetMs); }
  function osloDay(date) { return date.toLocaleDateString("sv-SE", { timeZone: "Europe/Oslo" }); }  // YYYY-MM-DD
  function bandRange(band) {
    var m = /^(\d+)(?:-(\d+)|\+)?$/.exec(band || "");
    return m ? [Number(m[1]), m[2] ? Number(m[2]) : 99] : null;
  }
  function periodStart(offer, day) {
    var date = new Date(day + "T12:00:00Z");
    if (offer.use_limit_period === "week") { date = new Date(date.getTime() - ((date.getUTCDay() + 6) % 7) * DAY_MS); }
    else if (offer.use_limit_period === "month") { date.setUTCDate(1); }
    else { return ""; }
    return date.toISOString().slice(0, 10);
  }

  function judge(claims, offer, events) {
    var at = now(), day = osloDay(at);
    if (claims.municipality !== bundle.trust.municipality) { refuse("otherMunicipality"); }
    if (claims.exp * 1000 < at.getTime()) { refuse("expired"); }
    if (day < offer.start_date || day > offer.end_date || (offer.dated && offer.days.indexOf(day) < 0)) { refuse("closed"); }
    var band = bandRange(claims.band);
    if (band && ((offer.age_min !== null && band[1] < offer.age_min) || (offer.age_max !== null && band[0] > offer.age_max))) {
      refuse("age");
    }
    var mine = events.filter(function (e) { return e.card === claims.card && e.offer_id === offer.id; });
    if (mine.some(function (e) { return e.day === day; })) { return "repeat"; }
    if (offer.use_limit) {
      var start = periodStart(offer, day);
      var used = mine.filter(function (e) { return e.day >= start; }).length;
      if (used >= offer.use_limit) { refuse("quota"); }
    }
    return "yes";
  }

  // --- the page ---------------------------------------------------------------------------------------------------
  function show(kind, heading, reason) {
    var box = el("verdict");
    box.hidden = false;
    box.className = "verdict verdict-" + kind;
    box.setAttribute("role", kind === "no" ? "alert" : "status");
    el("verdict-icon").textContent = kind === "no" ? "\u2718" : "\u2714";
    el("verdict-heading").textContent = heading;
    el("verdict-reason").textContent = reason;
    el("verdict-heading").focus();
  }

  function age(ms) {
    if (ms < 2 * 3600000) { return fill(d.minutes, { n: Math.max(0, Math.round(ms / 60000)) }); }
    if (ms < 2 * DAY_MS) { return fill(d.hours, { n: Math.round(ms / 3600000) }); }
    return fill(d.days, { n: Math.floor(ms / DAY_MS) });
  }

  function refreshState() {
    el("net-state").textContent = navigator.onLine ? d.online : d.offline;
    var lists = el("lists-age");
    if (!bundle) {
      lists.textContent = d.listsNone;
      lists.className = "stale";
    } else {
      var old = Date.now() - fetchedAt;
      lists.textContent = fill(old > 7 * DAY_MS ? d.listsStale : d.listsAge, { age: age(old) });
      lists.className = old > 7 * DAY_MS ? "stale" : "";
    }
    return allEvents().then(function (events) { el("waiting").textContent = fill(d.waiting, { n: events.length }); });
  }

  function showOffers() {
    var chosen = localStorage.getItem("offline-offer");
    offerSelect.textContent = "";
    (bundle ? bundle.offers : []).forEach(function (o) {
      var opt = document.createElement("option");
      opt.value = String(o.id);
      opt.textContent = o.title;
      opt.selected = String(o.id) === chosen;
      offerSelect.appendChild(opt);
    });
  }

  function fetchBundle() {
    if (!navigator.onLine) { return Promise.resolve(false); }
    var asked = Date.now();
    return fetch(d.bundle, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok || r.redirected || (r.headers.get("Content-Type") || "").indexOf("json") < 0) { return false; }
        return r.json().then(function (data) {
          bundle = data;
          fetchedAt = Date.now();
          offsetMs = Date.parse(data.server_time) - (asked + fetchedAt) / 2;
          if (data.csrf_token) { csrf = data.csrf_token; }
          return setMeta("bundle", { data: data, fetchedAt: fetchedAt, offsetMs: offsetMs }).then(function () { return true; });
        });
      })
      .catch(function () { return false; });
  }

  function sync() {
    var status = el("sync-status");
    return fetchBundle().then(function () { return allEvents(); }).then(function (events) {
      if (!events.length) { status.textContent = d.nothing; return refreshState(); }
      var batch = events.slice(0, (bundle && bundle.max_events) || 500).map(function (e) {
        return { event_id: e.event_id, offer_id: e.offer_id, code: e.code, device_at: e.device_at,
                 clock_offset_s: e.clock_offset_s, companions: e.companions };
      });
      return fetch(d.sync, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify({ device_id: deviceId, sent_at: new Date().toISOString(), events: batch })
      }).then(function (r) {
        var json = (r.headers.get("Content-Type") || "").indexOf("json") >= 0;
        if (r.redirected || r.status === 401 || r.status === 403 || !json) { status.textContent = d.loginAgain; return; }
        if (!r.ok) { status.textContent = d.syncFailed; return; }
        return r.json().then(function (answer) {
          var counts = { accepted: 0, duplicate: 0, rejected: 0 };
          answer.results.forEach(function (v) { counts[v.status] += 1; });
          return tx("events", "readwrite", function (s) {
            answer.results.forEach(function (v) { s.delete(v.event_id); });
          }).then(function () {
            status.textContent = fill(d.synced, { a: counts.accepted, d: counts.duplicate, r: counts.rejected });
          });
        });
      }).catch(function () { status.textContent = d.syncFailed; });
    }).then(refreshState);
  }

  function check(code) {
    var offer = bundle && bundle.offers.filter(function (o) { return String(o.id) === offerSelect.value; })[0];
    if (!offer) { show("no", d.no, d.noOffer); return Promise.resolve(); }
    localStorage.setItem("offline-offer", String(offer.id));
    var claims;
    return verify(code.trim())
      .then(function (c) { claims = c; return revoked(c); })
      .then(function (isRevoked) {
        if (isRevoked) { refuse("revoked"); }
        return allEvents();
      })
      .then(function (events) {
        var verdict = judge(claims, offer, events);
        if (verdict === "repeat") { show("repeat", d.repeat, claims.card); return; }
        var at = now();
        var asked = Math.max(0, parseInt(el("offline-companions").value, 10) || 0);
        var event = { event_id: crypto.randomUUID(), offer_id: offer.id, code: code.trim(),
                      device_at: new Date().toISOString(), clock_offset_s: Math.round(offsetMs / 1000),
                      companions: Math.min(asked, offer.companions_allowed || 0),
                      card: claims.card, day: osloDay(at) };
        return tx("events", "readwrite", function (s) { s.add(event); }).then(function () {
          var reason = fill(d.queued, { card: claims.card, band: claims.band });
          show("yes", d.yes, offer.requires_booking ? reason + " " + d.booking : reason);
        });
      })
      .catch(function (e) { show("no", d.no, d[e.reason] || d.bad); })
      .then(refreshState)
      .then(function () { codeInput.value = ""; el("offline-companions").value = "0"; if (navigator.onLine) { sync(); } });
  }

  form.addEventListener("submit", function (event) { event.preventDefault(); check(codeInput.value); });
  el("sync-now").addEventListener("click", function () { sync(); });
  window.addEventListener("online", function () { sync(); });
  window.addEventListener("offline", refreshState);
  if (window.QrCamera) {
    window.QrCamera.attach({
      button: el("camera-start"), box: el("camera"), video: el("camera-video"), canvas: el("camera-canvas"),
      status: el("camera-status"), input: codeInput, looking: d.looking, noCamera: d.noCamera,
      found: function (text) { codeInput.value = text; check(text); }
    });
  }
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(d.sw, { scope: d.scope }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (registration) {
      // what opens this page offline: its address and every script and style it loaded
      var keep = [location.pathname].concat(
        Array.from(document.querySelectorAll("script[src]")).map(function (s) { return s.src; }),
        Array.from(document.querySelectorAll("link[rel=stylesheet], link[rel=manifest], link[rel=icon]")).map(function (l) { return l.href; }));
      navigator.serviceWorker.addEventListener("message", function (event) {
        if (event.data && event.data.kept) { form.dataset.kept = String(event.data.kept); }
      });
      registration.active.postMessage({ keep: keep });
    }).catch(function () {});
  }

  openDb().then(function (opened) {
    db = opened;
    return getMeta("device");
  }).then(function (device) {
    deviceId = device || crypto.randomUUID();
    return setMeta("device", deviceId);
  }).then(function () { return getMeta("bundle"); }).then(function (stored) {
    if (stored) { bundle = stored.data; fetchedAt = stored.fetchedAt; offsetMs = stored.offsetMs; }
    return fetchBundle();
  }).then(function () {
    showOffers();
    form.dataset.ready = "1";
    return refreshState();
  });
  if (navigator.storage && navigator.storage.persist) {
    navigator.storage.persist().then(function (kept) {
      el("storage-state").textContent = kept ? d.storageYes : d.storageNo;
    });
  } else {
    el("storage-state").textContent = d.storageNo;
  }
})();
