/* The scanner's answer is said in words and with an icon; this adds a sound and a vibration where the
   device allows, and moves focus to the answer so screen readers announce it. */
(function () {
  "use strict";
  var verdict = document.querySelector("[data-feedback]");
  if (!verdict) { return; }
  var kind = verdict.getAttribute("data-feedback");
  var heading = document.getElementById("verdict-heading");
  if (heading) { heading.focus(); }
  try {
    if (navigator.vibrate) { navigator.vibrate(kind === "no" ? [120, 80, 120, 80, 120] : [150]); }
  } catch (e) { /* vibration is optional */ }
  try {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) { return; }
    var ctx = new Ctx();
    var tones = kind === "no" ? [220, 180] : (kind === "repeat" ? [660] : [660, 880]);
    tones.forEach(function (freq, i) {
      var osc = ctx.createOscillator();
      var gain = ctx.createGain();
      osc.frequency.value = freq;
      gain.gain.value = 0.08;
      osc.connect(gain); gain.connect(ctx.destination);
      osc.start(ctx.currentTime + i * 0.18);
      osc.stop(ctx.currentTime + i * 0.18 + 0.15);
    });
  } catch (e) { /* sound is optional */ }
})();
