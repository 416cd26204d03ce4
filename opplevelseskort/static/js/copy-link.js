// The caseworker's "copy the family's link" and "print" buttons (no inline script: the CSP forbids it).
(function () {
  "use strict";
  var copy = document.getElementById("copy-link");
  var status = document.getElementById("copy-status");
  if (copy) {
    copy.addEventListener("click", function () {
      var input = document.querySelector(copy.getAttribute("data-copy"));
      var done = function () { status.textContent = copy.getAttribute("data-done"); };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(done, function () { input.select(); });
      } else {
        input.select();
        try { document.execCommand("copy"); done(); } catch (e) { /* the text stays selected to copy by hand */ }
      }
    });
  }
  var print = document.getElementById("print-link");
  if (print) { print.addEventListener("click", function () { window.print(); }); }
})();
