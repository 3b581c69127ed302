/* MathJax 3 configuration, as on kexue.fm. Kept in a static file so that a strict
   Content-Security-Policy (script-src 'self') needs no nonce on cached pages. It is the one
   configuration: mathjax-node/typeset.mjs reads this file to typeset at save time (window.MathJax
   and limitLengths; the rest only runs in the browser). */
window.MathJax = {
  loader: {
    // ui/safe filters URLs, styles, ids and sizes in TeX (\href{javascript:..}, \style{position:fixed}).
    load: ["ui/safe"],
  },
  tex: {
    // The server already wrapped every formula; dollars in prose are never math.
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: false,
    processEnvironments: true,
    tags: "ams",
    useLabelIds: true,
    packages: { "[+]": ["ams", "cancel", "color", "extpfeil", "html", "amscd", "boldsymbol", "noerrors", "noundefined"] },
    maxBuffer: 10 * 1024,
  },
  options: {
    skipHtmlTags: ["script", "noscript", "style", "textarea", "pre", "code"],
    ignoreHtmlClass: "tex2jax_ignore",
    safeOptions: {
      allow: { URLs: "safe", classes: "safe", cssIDs: "safe", styles: "safe" },
      // Keep equation ids such as "mjx-eqn:eq:attention" (the default pattern has no ":" and
      // dropped them, breaking \eqref links); the "mjx-" prefix still stops TeX from taking page ids.
      idPattern: /^mjx-[^\s]+$/,
      lengthMax: 3,
      scriptsizemultiplierRange: [0.6, 1],
      scriptlevelRange: [-2, 2],
      safeProtocols: { http: true, https: true, file: false, javascript: false, data: false },
    },
  },
  startup: {
    ready() {
      MathJax.startup.defaultReady();
      limitLengths(MathJax.startup.document.safe);
      limitCommentTex(MathJax.startup.input[0]);
      MathJax.startup.promise.then(() => document.documentElement.classList.add("mathjax-ready"));
    },
  },
};

/* ui/safe caps font sizes but not the lengths of \rule, \kern, \hspace, \mspace, \raise or
   \mmlToken attributes: `\rule{10000em}{10000em}` in a comment drew a 200,000-pixel box. Clamp
   every such length to +-LENGTH_LIMIT em (generous for real formulas); anything that is not a
   plain length ("0", "+1width", named spaces) passes unchanged. */
function limitLengths(safe) {
  var LENGTH_LIMIT = 20;
  var EM_PER_UNIT = { em: 1, ex: 0.5, px: 1 / 16, pt: 0.1, pc: 1.2, mm: 0.236, cm: 2.36, in: 6, mu: 1 / 18 };
  safe.filterMethods.filterLength = function (safe, value) {
    var match = String(value).match(/^\s*([-+]?)(\d*\.?\d+)\s*(em|ex|px|pt|pc|mm|cm|in|mu)\s*$/);
    if (!match) return value;
    var size = parseFloat(match[2]) * EM_PER_UNIT[match[3]];
    return size <= LENGTH_LIMIT ? value : match[1] + LENGTH_LIMIT + "em";
  };
  ["width", "height", "depth", "lspace", "rspace", "voffset", "minsize", "maxsize"].forEach(function (name) {
    safe.filterAttributes.set(name, "filterLength");
  });
}

/* ---- Comment TeX -------------------------------------------------------------------------
   A formula inside a comment (.comment-body: the thread, the preview, the admin's comment page)
   must pass the allow-list and limits of blog/comments/tex.py, applied by static/js/comment-tex.js
   (loaded before MathJax), before MathJax parses it; one that does not becomes MathJax's
   "Math input error" box, with the reason in its title. Without comment-tex.js no comment
   formula is parsed. */
function limitCommentTex(tex) {
  tex.preFilters.add(function (data) {
    var node = data.math.start.node;
    var element = node && (node.nodeType === 1 ? node : node.parentNode);
    if (!element || !element.closest(".comment-body")) return;
    var problem = window.CommentTeX ? window.CommentTeX.problem(data.math.math) : "comment-tex.js is missing";
    if (problem) throw new Error(problem);
  });
}
