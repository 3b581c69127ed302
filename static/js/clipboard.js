/* copyText(text): copy to the clipboard, a Promise. The one copy helper of the site (sharing.js,
   citations.js); loaded deferred in base.html before the scripts that use it. */
window.copyText = (function () {
  "use strict";

  // execCommand("copy") from an off-screen textarea: for pages served over plain http (no
  // navigator.clipboard there) and browsers that refuse the asynchronous API.
  function legacyCopy(text) {
    var area = document.createElement("textarea");
    area.className = "clipboard-field";
    area.value = text;
    area.setAttribute("readonly", "");
    var focused = document.activeElement;
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try {
      ok = document.execCommand("copy");
    } catch (err) {
      ok = false;
    }
    area.remove();
    if (focused && focused.focus) focused.focus({ preventScroll: true });
    return ok ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  return function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () {
        return legacyCopy(text);
      });
    }
    return legacyCopy(text);
  };
})();
