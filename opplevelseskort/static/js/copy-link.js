// The caseworker's "copy the family's link" button and the question before a new link replaces the old one
// (no inline script: the CSP forbids it).
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
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });
})();
