// bench/mathjax4.py's Node side: typesets the documents of a JSON file (argv[3]) with MathJax
// argv[2] ("3": mathjax-full 3.2.2 from mathjax-node/, the blog's; "4": @mathjax/src 4 with the
// New Computer Modern font; "3svg": 3.2.2's SVG output), the blog's TeX options and assistive
// MathML, and writes one JSON
// line: per document the CPU milliseconds of warm runs, the HTML and the stylesheet it needs.
import { readFileSync } from "node:fs";

const [version, input] = process.argv.slice(2);
const three = "../../mathjax-node/node_modules/mathjax-full/js/";
const src = version === "4" ? "@mathjax/src/js/" : three;
const load = (path) => import(src + path);
const { TeX } = await load("input/tex.js");
// "3svg": 3.2.2's SVG output, glyphs as paths (one cache per page), no fonts at all.
const Output = version === "3svg" ? (await load("output/svg.js")).SVG : (await load("output/chtml.js")).CHTML;
const outputOptions = version === "3svg" ? { fontCache: "global" } : { fontURL: "fonts", adaptiveCSS: true };
const { liteAdaptor } = await load("adaptors/liteAdaptor.js");
const { HTMLHandler } = await load("handlers/html/HTMLHandler.js");
const { AssistiveMmlHandler } = await load("a11y/assistive-mml.js");
const { mathjax } = await load("mathjax.js");
let font = {};
if (version === "4") {
  await load("util/asyncLoad/esm.js"); // the font's further ranges load on demand
  font = { fontData: (await import("@mathjax/mathjax-newcm-font/js/chtml.js")).MathJaxNewcmFont };
}
// The packages of the blog's configuration (mathjax-config.js) that both versions ship.
const PACKAGES = ["base", "ams", "newcommand", "noundefined", "configmacros", "cancel", "color",
  "extpfeil", "amscd", "boldsymbol", "noerrors", "tagformat", "html"];
const CONFIGURATION = { amscd: "AmsCd", noundefined: "NoUndefined", configmacros: "ConfigMacros", noerrors: "NoErrors", tagformat: "TagFormat" };
for (const name of PACKAGES) {
  const file = (CONFIGURATION[name] || name[0].toUpperCase() + name.slice(1)) + "Configuration.js";
  await load(`input/tex/${name}/${file}`);
}

const adaptor = liteAdaptor();
const handler = AssistiveMmlHandler(new HTMLHandler(adaptor));

async function typeset(html) {
  const doc = handler.create(`<!DOCTYPE html><html><head></head><body>${html}</body></html>`, {
    skipHtmlTags: ["script", "noscript", "style", "textarea", "pre", "code"],
    InputJax: new TeX({ inlineMath: [["\\(", "\\)"]], displayMath: [["\\[", "\\]"]], processEscapes: false,
      processEnvironments: true, tags: "ams", useLabelIds: true, packages: PACKAGES }),
    OutputJax: new Output({ ...font, ...outputOptions }),
  });
  await mathjax.handleRetriesFor(() => doc.render());
  return { html: adaptor.innerHTML(adaptor.body(doc.document)), css: adaptor.textContent(doc.outputJax.styleSheet(doc)) };
}

const result = {};
for (const [name, html] of Object.entries(JSON.parse(readFileSync(input, "utf8")))) {
  await typeset(html); // warm
  const cpu = [];
  let output;
  for (let run = 0; run < 3; run++) {
    const start = process.cpuUsage();
    output = await typeset(html);
    const used = process.cpuUsage(start);
    cpu.push(Math.round((used.user + used.system) / 1000));
  }
  result[name] = { cpu_ms: cpu, ...output };
}
process.stdout.write(JSON.stringify(result) + "\n");
