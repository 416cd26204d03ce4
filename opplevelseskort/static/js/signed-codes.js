/* Signed card codes in the browser (cards/signing.py is the server's side): Base45 (RFC 9285), deflate, the CBOR
   that COSE_Sign1 and the claims use, the Sig_structure an Ed25519 signature covers, and a phone's rotating code
   ("OK2:": the card bound to the phone's key, a time, the phone's ECDSA P-256 signature over "OK2:" + card + time).
   Shared by the offline scanner (verifies) and the family's card page (signs). window.SignedCodes. */
(function () {
  "use strict";
  var B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

  function base45Decode(text) {
    var out = [];
    for (var i = 0; i < text.length; i += 3) {
      var chunk = text.substr(i, 3), n = 0;
      for (var j = chunk.length - 1; j >= 0; j--) {
        var v = B45.indexOf(chunk[j]);
        if (v < 0) { throw new Error("base45"); }
        n = n * 45 + v;
      }
      if (chunk.length === 3) {
        if (n > 65535) { throw new Error("base45"); }
        out.push(n >> 8, n & 255);
      } else if (chunk.length === 2) {
        if (n > 255) { throw new Error("base45"); }
        out.push(n);
      } else { throw new Error("base45"); }
    }
    return new Uint8Array(out);
  }

  function base45Encode(bytes) {
    var out = "";
    for (var i = 0; i < bytes.length; i += 2) {
      if (i + 1 < bytes.length) {
        var n = bytes[i] * 256 + bytes[i + 1];
        out += B45[n % 45] + B45[Math.floor(n / 45) % 45] + B45[Math.floor(n / 2025)];
      } else {
        out += B45[bytes[i] % 45] + B45[Math.floor(bytes[i] / 45)];
      }
    }
    return out;
  }

  function through(bytes, stream) {
    return new Response(new Blob([bytes]).stream().pipeThrough(stream)).arrayBuffer()
      .then(function (b) { return new Uint8Array(b); });
  }
  function inflate(bytes) { return through(bytes, new DecompressionStream("deflate")); }
  function deflate(bytes) { return through(bytes, new CompressionStream("deflate")); }

  function cborDecode(bytes) {  // the subset COSE and the claims use: integers, byte and text strings, arrays, maps, tags
    var pos = 0;
    function length(info) {
      if (info < 24) { return info; }
      var size = { 24: 1, 25: 2, 26: 4, 27: 8 }[info], n = 0;
      if (!size) { throw new Error("cbor"); }
      for (var i = 0; i < size; i++) { n = n * 256 + bytes[pos++]; }
      return n;
    }
    function item() {
      if (pos >= bytes.length) { throw new Error("cbor"); }
      var head = bytes[pos++], major = head >> 5, n = length(head & 31), i, out;
      switch (major) {
        case 0: return n;
        case 1: return -1 - n;
        case 2: out = bytes.slice(pos, pos + n); pos += n; return out;
        case 3: out = new TextDecoder().decode(bytes.slice(pos, pos + n)); pos += n; return out;
        case 4: out = []; for (i = 0; i < n; i++) { out.push(item()); } return out;
        case 5: out = new Map(); for (i = 0; i < n; i++) { var k = item(); out.set(k, item()); } return out;
        case 6: return { tag: n, value: item() };
        default:
          if ((head & 31) === 20) { return false; }
          if ((head & 31) === 21) { return true; }
          if ((head & 31) === 22) { return null; }
          throw new Error("cbor");
      }
    }
    var value = item();
    if (pos !== bytes.length) { throw new Error("cbor"); }
    return value;
  }

  function head(major, n) {  // a CBOR head (n below 2^32)
    var m = major << 5;
    if (n < 24) { return [m | n]; }
    if (n < 256) { return [m | 24, n]; }
    if (n < 65536) { return [m | 25, n >> 8, n & 255]; }
    return [m | 26, (n >>> 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255];
  }
  function concat(parts) {
    var size = parts.reduce(function (a, p) { return a + p.length; }, 0), out = new Uint8Array(size), at = 0;
    parts.forEach(function (p) { out.set(p, at); at += p.length; });
    return out;
  }
  function bstr(bytes) { return concat([new Uint8Array(head(2, bytes.length)), bytes]); }

  function sigStructure(protectedBytes, payload) {  // COSE's Sig_structure for a COSE_Sign1, no external data
    var context = new TextEncoder().encode("Signature1");
    return concat([new Uint8Array([0x84]), new Uint8Array(head(3, context.length)), context, bstr(protectedBytes),
                   new Uint8Array([0x40]), bstr(payload)]);
  }

  function time8(t) {  // seconds as 8 bytes, big-endian
    var out = new Uint8Array(8), n = t;
    for (var i = 7; i >= 0; i--) { out[i] = n % 256; n = Math.floor(n / 256); }
    return out;
  }
  function rotatingSigned(certificate, t) {
    return concat([new TextEncoder().encode("OK2:"), certificate, time8(t)]);
  }
  function rotatingMessage(certificate, t, signature) {  // CBOR [bound card, time, signature]
    return concat([new Uint8Array([0x83]), bstr(certificate), new Uint8Array(head(0, t)), bstr(signature)]);
  }

  function hex(bytes) { return Array.from(bytes).map(function (b) { return ("0" + b.toString(16)).slice(-2); }).join(""); }
  function b64url(bytes) {
    return btoa(String.fromCharCode.apply(null, Array.from(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function fromB64url(text) {
    var s = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(s, function (c) { return c.charCodeAt(0); });
  }

  window.SignedCodes = {
    base45Decode: base45Decode, base45Encode: base45Encode, inflate: inflate, deflate: deflate,
    cborDecode: cborDecode, sigStructure: sigStructure, rotatingSigned: rotatingSigned,
    rotatingMessage: rotatingMessage, concat: concat, hex: hex, b64url: b64url, fromB64url: fromB64url
  };
})();
