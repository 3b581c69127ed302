/* Sharing and printing on the post page: copy-link and print buttons (shown only when JS runs). */
(function () {
  "use strict";

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // Older browsers and plain-http pages: copy through a temporary text field.
    return new Promise(function (resolve, reject) {
      var field = document.createElement("textarea");
      field.value = text;
      field.setAttribute("readonly", "");
      field.className = "visually-hidden";
      document.body.appendChild(field);
      field.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(field);
      if (ok) { resolve(); } else { reject(new Error("copy failed")); }
    });
  }

  document.querySelectorAll(".copy-link").forEach(function (button) {
    var status = button.parentNode.querySelector(".copy-link-status");
    button.hidden = false;
    button.addEventListener("click", function () {
      copyText(button.dataset.copyUrl).then(
        function () { status.textContent = status.dataset.copied; },
        function () { status.textContent = status.dataset.failed + " " + button.dataset.copyUrl; }
      );
    });
  });

  document.querySelectorAll(".print-page").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();
