// Passkeys (WebAuthn): register one on the account page, sign in with one at the second step.
// The server's options come as JSON with base64url strings; the browser's API wants ArrayBuffers, and the
// server wants the answer back as base64url JSON (the shape py_webauthn parses).
(function () {
  "use strict";

  function toBuffer(b64url) {
    var b64 = b64url.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var raw = atob(b64), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
    return out.buffer;
  }

  function toB64url(buffer) {
    var bytes = new Uint8Array(buffer), s = "";
    for (var i = 0; i < bytes.length; i++) { s += String.fromCharCode(bytes[i]); }
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function post(url, form, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json",
                "X-CSRFToken": form.querySelector("input[name=csrf_token]").value},
      body: JSON.stringify(body || {})
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) { throw new Error(data.message || ""); }
        return data;
      });
    });
  }

  function fail(form, box, message) {
    box.textContent = message || form.dataset.failed;
    box.hidden = false;
    form.querySelector("button").disabled = false;
  }

  function credentialJSON(cred) {
    var r = cred.response, response = {clientDataJSON: toB64url(r.clientDataJSON)};
    if (r.attestationObject) {
      response.attestationObject = toB64url(r.attestationObject);
      if (r.getTransports) { response.transports = r.getTransports(); }
    } else {
      response.authenticatorData = toB64url(r.authenticatorData);
      response.signature = toB64url(r.signature);
      if (r.userHandle) { response.userHandle = toB64url(r.userHandle); }
    }
    return {id: cred.id, rawId: toB64url(cred.rawId), type: cred.type, response: response,
            clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {}};
  }

  var add = document.getElementById("passkey-add");
  if (add) {
    add.addEventListener("submit", function (event) {
      event.preventDefault();
      var box = document.getElementById("passkey-add-error");
      box.hidden = true;
      if (!window.PublicKeyCredential) { fail(add, box, add.dataset.unsupported); return; }
      add.querySelector("button").disabled = true;
      post(add.dataset.options, add).then(function (o) {
        o.challenge = toBuffer(o.challenge);
        o.user.id = toBuffer(o.user.id);
        (o.excludeCredentials || []).forEach(function (c) { c.id = toBuffer(c.id); });
        return navigator.credentials.create({publicKey: o});
      }).then(function (cred) {
        return post(add.dataset.add, add, {credential: credentialJSON(cred), name: add.elements.name.value});
      }).then(function (data) {
        window.location.assign(data.next);
      }).catch(function (err) { fail(add, box, err && err.message); });
    });
  }

  var login = document.getElementById("passkey-login");
  if (login) {
    login.addEventListener("submit", function (event) {
      event.preventDefault();
      var box = document.getElementById("passkey-login-error");
      box.hidden = true;
      if (!window.PublicKeyCredential) { fail(login, box, login.dataset.unsupported); return; }
      login.querySelector("button").disabled = true;
      post(login.dataset.options, login).then(function (o) {
        o.challenge = toBuffer(o.challenge);
        (o.allowCredentials || []).forEach(function (c) { c.id = toBuffer(c.id); });
        return navigator.credentials.get({publicKey: o});
      }).then(function (cred) {
        return post(login.dataset.verify, login, {credential: credentialJSON(cred)});
      }).then(function (data) {
        window.location.assign(data.next);
      }).catch(function (err) { fail(login, box, err && err.message); });
    });
  }
})();
