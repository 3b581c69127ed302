/* MathJax 3 configuration, as on kexue.fm. Kept in a static file so that a strict
   Content-Security-Policy (script-src 'self') needs no nonce on cached pages. */
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
      MathJax.startup.promise.then(() => document.documentElement.classList.add("mathjax-ready"));
    },
  },
};
