// Typesets the math in stored HTML at save time. blog/mathjax.py keeps one of these running per
// Python process and sends it one request per line (MathJax loads once, not once per save).
//
// stdin, one JSON object per line:
//   {"documents": [{"html": "...", "profile": "post" | "comment", "idPrefix": "mjx-eqn:"}, ...]}
// stdout, one line per request: {"documents": ["...", ...]} (the same HTML with every formula
//   typeset) or {"error": "..."}; the process keeps serving until stdin closes.
// node typeset.mjs --stylesheet  prints the CHTML stylesheet for every glyph instead.
//
// The configuration is static/js/mathjax-config.js's, read from that file (the one source; the
// browser loads it as a static script), so a page typeset here looks exactly like one MathJax 3
// typesets in the browser: the same version (mathjax-full 3.2.2 is what django-static-mathjax
// serves), packages (tex-chtml-full's: all of them and require, with the config's additions),
// options, AMS numbering, label ids and length limits. Each document gets its own TeX input jax,
// so equation numbers and labels start afresh per document, and a forward \eqref is resolved
// because MathJax re-typesets a document whose references it could not resolve.
import { TeX } from "mathjax-full/js/input/tex.js";
import { CHTML } from "mathjax-full/js/output/chtml.js";
import { liteAdaptor } from "mathjax-full/js/adaptors/liteAdaptor.js";
import { HTMLHandler } from "mathjax-full/js/handlers/html/HTMLHandler.js";
import { AssistiveMmlHandler } from "mathjax-full/js/a11y/assistive-mml.js";
import { SafeHandler } from "mathjax-full/js/ui/safe/SafeHandler.js";
import { AllPackages } from "mathjax-full/js/input/tex/AllPackages.js";
import "mathjax-full/js/input/tex/require/RequireConfiguration.js";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";

// The browser's configuration script, run with a bare window (in this realm: MathJax merges
// options only when they are this realm's plain objects): window.MathJax and its length limits.
const window = {};
const { limitLengths } = new Function(
  "window",
  readFileSync(new URL("../static/js/mathjax-config.js", import.meta.url), "utf8") + "\nreturn { limitLengths };",
)(window);
const CONFIG = window.MathJax;

const adaptor = liteAdaptor();
const handlers = {
  post: AssistiveMmlHandler(new HTMLHandler(adaptor)),
  comment: SafeHandler(AssistiveMmlHandler(new HTMLHandler(adaptor))),
};

const PACKAGES = [...new Set(["require", ...AllPackages, ...CONFIG.tex.packages["[+]"]])];

// Comments come from anyone: no html package (\style, \class, \cssId, \href), no \unicode, no
// \require of further packages, and ui/safe filters what is left (blog/comments/tex.py checks the
// TeX itself when the comment is posted).
const PROFILES = {
  post: PACKAGES,
  comment: PACKAGES.filter((name) => !["html", "unicode", "require", "autoload"].includes(name)),
};

function texInput(profile, idPrefix) {
  return new TeX({
    ...CONFIG.tex,
    tagformat: { id: (id) => idPrefix + id.replace(/\s/g, "_") },
    packages: PROFILES[profile],
  });
}

const { safeOptions, ...DOCUMENT_OPTIONS } = CONFIG.options;

// The stylesheet is static/css/mathjax-chtml.css (make mathjax-css): every glyph of the font, so
// one cached file serves every page; the font URL is relative to it (hashed by collectstatic).
const chtml = () => new CHTML({ fontURL: "../mathjax/output/chtml/fonts/woff-v2", adaptiveCSS: false });

function mathDocument(html, profile, idPrefix) {
  const options = { ...DOCUMENT_OPTIONS, InputJax: texInput(profile, idPrefix), OutputJax: chtml() };
  if (profile === "comment") options.safeOptions = safeOptions;
  const doc = handlers[profile].create(html, options);
  if (profile === "comment") limitLengths(doc.safe);
  // The page links the stylesheet for every glyph (static/css/mathjax-chtml.css): building it
  // again for each document cost as much as typesetting a dozen formulas.
  doc.addStyleSheet = () => {};
  return doc;
}

function typeset({ html, profile = "post", idPrefix = "mjx-eqn:" }) {
  if (!PROFILES[profile]) throw new Error(`unknown profile ${profile}`);
  const wrapped = `<!DOCTYPE html><html><head></head><body>${html}</body></html>`;
  const doc = mathDocument(wrapped, profile, idPrefix);
  doc.render();
  return adaptor.innerHTML(adaptor.body(doc.document));
}

function respond(line) {
  try {
    return { documents: JSON.parse(line).documents.map(typeset) };
  } catch (error) {
    return { error: String(error.stack || error) };
  }
}

if (process.argv.includes("--stylesheet")) {
  const doc = handlers.post.create("", { InputJax: texInput("post", "mjx-eqn:"), OutputJax: chtml() });
  process.stdout.write(adaptor.textContent(doc.outputJax.styleSheet(doc)));
} else {
  createInterface({ input: process.stdin, crlfDelay: Infinity }).on("line", (line) => {
    if (line.trim()) process.stdout.write(JSON.stringify(respond(line)) + "\n");
  });
}
