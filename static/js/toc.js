/* The table of contents is open where it stands beside the article (wide screens, as in
   static/css/site.css) and folded on phones; without this script it is folded everywhere. */
(function () {
  "use strict";
  var wide = window.matchMedia("(min-width: 861px)");
  function place() {
    document.querySelectorAll("details.post-toc").forEach(function (toc) {
      toc.open = wide.matches;
    });
  }
  place();
  wide.addEventListener("change", place);
})();
