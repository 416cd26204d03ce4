/* The main menu's groups as a disclosure navigation (WAI-ARIA APG): one group open at a time, Escape closes the
   open group and returns focus to its button, a click or focus outside closes it. Without JS the groups still open
   and close (<details>). */
(function () {
  "use strict";
  var groups = Array.prototype.slice.call(document.querySelectorAll(".nav-group details"));
  if (!groups.length) { return; }
  function closeAll(except) {
    groups.forEach(function (d) { if (d !== except && d.open) { d.open = false; } });
  }
  groups.forEach(function (d) {
    d.addEventListener("toggle", function () { if (d.open) { closeAll(d); } });
    d.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && d.open) {
        d.open = false;
        d.querySelector("summary").focus();
        e.preventDefault();
      }
    });
  });
  document.addEventListener("click", function (e) {
    groups.forEach(function (d) { if (d.open && !d.contains(e.target)) { d.open = false; } });
  });
  document.addEventListener("focusin", function (e) {
    groups.forEach(function (d) { if (d.open && !d.contains(e.target)) { d.open = false; } });
  });
})();
