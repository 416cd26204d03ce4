/* The phone camera reading a QR code (jsQR on video frames), shared by the scanners. QrCamera.attach(opts) shows
   the start button where a camera API and jsQR exist; found(text) is called once per start. */
(function () {
  "use strict";

  function attach(opts) {
    var stream = null, done = false;
    if (!opts.button || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia ||
        typeof window.jsQR !== "function") {
      return;
    }
    opts.button.hidden = false;

    function say(text) { opts.status.textContent = text; }

    function stop() {
      if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
    }

    function tick() {
      if (done || !stream) { return; }
      var video = opts.video;
      if (video.readyState >= 2 && video.videoWidth > 0) {
        var w = video.videoWidth, h = video.videoHeight;
        opts.canvas.width = w; opts.canvas.height = h;
        var ctx = opts.canvas.getContext("2d", { willReadFrequently: true });
        ctx.drawImage(video, 0, 0, w, h);
        var found = window.jsQR(ctx.getImageData(0, 0, w, h).data, w, h, { inversionAttempts: "attemptBoth" });
        if (found && found.data) {
          done = true;
          stop();
          opts.found(found.data);
          return;
        }
      }
      window.requestAnimationFrame(tick);
    }

    opts.button.addEventListener("click", function () {
      done = false;
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
        .then(function (s) {
          stream = s;
          opts.box.hidden = false;
          opts.video.srcObject = s;
          opts.video.setAttribute("playsinline", "");
          return opts.video.play();
        })
        .then(function () { say(opts.looking); window.requestAnimationFrame(tick); })
        .catch(function () { opts.box.hidden = false; say(opts.noCamera); if (opts.input) { opts.input.focus(); } });
    });
    window.addEventListener("pagehide", stop);
  }

  window.QrCamera = { attach: attach };
})();
