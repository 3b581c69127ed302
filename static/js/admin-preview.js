/* The admin editor's live preview: the public article's styles, re-typeset after each update.
   markdownx fires `markdownx.update` on the preview element and the event does not bubble,
   so it is caught in the capture phase at the document. */
(function () {
  "use strict";
  let pending = Promise.resolve();
  function typeset(element) {
    if (!window.MathJax || !MathJax.startup || !MathJax.startup.promise) return;
    pending = pending
      .then(() => MathJax.startup.promise)
      .then(() => {
        MathJax.typesetClear([element]);
        MathJax.texReset();
        return MathJax.typesetPromise([element]);
      })
      .then(() => element.dispatchEvent(new CustomEvent("preview:typeset", { bubbles: true })))
      .catch((error) => console.error("MathJax preview failed", error));
  }
  document.addEventListener("markdownx.update", (event) => typeset(event.target), true);
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll(".markdownx-preview").forEach((preview) => {
      preview.classList.add("article-body");
    });
  });
})();
