/* Sharing and printing on the post page: copy-link and print buttons (shown only when JS runs). */
(function () {
  "use strict";

  document.querySelectorAll(".copy-link").forEach(function (button) {
    var status = button.parentNode.querySelector(".copy-link-status");
    button.hidden = false;
    button.addEventListener("click", function () {
      window.copyText(button.dataset.copyUrl).then(
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
