/* The admin's MathJax typesets only where math is meant: the editor's live preview and rendered
   bodies (.article-body), never the admin's own help text, messages or lists, which name TeX as
   words. Loaded after mathjax-config.js and before MathJax, so that MathJax's first pass covers
   these elements only. The preview is re-typeset after each update: markdownx fires
   `markdownx.update` on the preview element and the event does not bubble, so it is caught in
   the capture phase at the document. */
(function () {
  "use strict";
  window.MathJax.startup.elements = [".markdownx-preview", ".article-body"];

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
