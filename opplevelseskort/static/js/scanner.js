/* Scanner: read the card's QR with the phone camera (qr-camera.js) and submit the form.
   Typing the code always works; the camera button only appears where a camera API exists. */
(function () {
  "use strict";
  var script = document.currentScript;
  var form = document.getElementById("scan-form");
  if (!form || !window.QrCamera) { return; }
  var codeInput = document.getElementById("code");
  window.QrCamera.attach({
    button: document.getElementById("camera-start"), box: document.getElementById("camera"),
    video: document.getElementById("camera-video"), canvas: document.getElementById("camera-canvas"),
    status: document.getElementById("camera-status"), input: codeInput,
    looking: script.dataset.looking, noCamera: script.dataset.noCamera,
    found: function (text) {
      document.getElementById("camera-status").textContent = script.dataset.found;
      codeInput.value = text;
      document.getElementById("scan-source").value = "camera";
      form.submit();
    }
  });
})();
