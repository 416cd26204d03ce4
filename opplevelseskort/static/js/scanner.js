/* Scanner: read the card's QR with the phone camera (jsQR on video frames) and submit the form.
   Typing the code always works; the camera button only appears where a camera API exists. */
(function () {
  "use strict";
  var script = document.currentScript;
  var form = document.getElementById("scan-form");
  if (!form) { return; }
  var startButton = document.getElementById("camera-start");
  var box = document.getElementById("camera");
  var video = document.getElementById("camera-video");
  var canvas = document.getElementById("camera-canvas");
  var status = document.getElementById("camera-status");
  var codeInput = document.getElementById("code");
  var source = document.getElementById("scan-source");
  var stream = null;
  var done = false;

  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || typeof window.jsQR !== "function") {
    return;
  }
  startButton.hidden = false;

  function say(text) { status.textContent = text; }

  function stop() {
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
  }

  function tick() {
    if (done || !stream) { return; }
    if (video.readyState >= 2 && video.videoWidth > 0) {
      var w = video.videoWidth, h = video.videoHeight;
      canvas.width = w; canvas.height = h;
      var ctx = canvas.getContext("2d", { willReadFrequently: true });
      ctx.drawImage(video, 0, 0, w, h);
      var image = ctx.getImageData(0, 0, w, h);
      var found = window.jsQR(image.data, w, h, { inversionAttempts: "attemptBoth" });
      if (found && found.data) {
        done = true;
        say(script.dataset.found);
        codeInput.value = found.data;
        source.value = "camera";
        stop();
        form.submit();
        return;
      }
    }
    window.requestAnimationFrame(tick);
  }

  startButton.addEventListener("click", function () {
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (s) {
        stream = s;
        box.hidden = false;
        video.srcObject = s;
        video.setAttribute("playsinline", "");
        return video.play();
      })
      .then(function () { say(script.dataset.looking); window.requestAnimationFrame(tick); })
      .catch(function () { box.hidden = false; say(script.dataset.noCamera); codeInput.focus(); });
  });
  window.addEventListener("pagehide", stop);
})();
