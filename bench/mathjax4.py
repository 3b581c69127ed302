"""MathJax 4, and 3.2.2's SVG output, against 3.2.2's CHTML (the blog's) in one run:
`python -m bench.mathjax4`.

Installs MathJax 4 (@mathjax/src with its default New Computer Modern font) into
bench/mathjax4/node_modules from npm (bench/mathjax4/package-lock.json) if missing, then typesets,
with each version and the blog's TeX options, bench.math's post (every seed formula and an
\\eqref) and 300 display formulas (the seeds' display equations repeated, labels dropped), and
prints per version: save-time CPU (warm, best of three), HTML bytes gzipped with and without v4's
data-latex attributes, stylesheet bytes and the fonts each document needs (also for two lines of
ordinary inline math). Then Chromium opens each
version of the post as a static page (its stylesheet, its fonts preloaded) at bench.math's phone
viewport, 1x and 4x CPU, cold cache: first contentful paint, all math painted, layout shift,
bytes. "3svg" is 3.2.2 with SVG output (glyph paths, one cache per page, no fonts). Ratios are
against 3. docs/math.md has the figures and the decision.
"""

import gzip
import http.server
import json
import os
import re
import subprocess
import tempfile
import threading
from functools import partial
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parent / "mathjax4"
VERSIONS = ("3", "4", "3svg")
FONTS = {
    "3": ROOT.parent.parent
    / "mathjax-node/node_modules/mathjax-full/es5/output/chtml/fonts/woff-v2",
    "4": ROOT / "node_modules/@mathjax/mathjax-newcm-font/chtml/woff2",
}


def documents() -> dict:
    from bench.math import BODY, SEEDS
    from blog import markup

    displays = [
        re.sub(r"\\label\{[^}]*\}", "", f)
        for f in SEEDS
        if not f.startswith("$") or f.startswith("$$")
    ]
    return {
        "ordinary": markup.render_post("设 $a+b=c$，则 $x_1 \\le y^2$。").html,
        "post": markup.render_post(BODY).html,
        "display300": markup.render_post("\n\n".join((displays * 30)[:300])).html,
    }


def fonts_needed(version: str, css: str, html: str) -> list[str]:
    """The font files the page's formulas draw with, as the stylesheet names them."""
    faces = dict(re.findall(r'font-family: ([\w-]+);\s*src: url\("fonts/([^"]+)"', css))
    if version == "3svg":
        return []
    if version == "3":
        families = {"MJXZERO", "MJXTEX"} | {
            f"MJXTEX-{c}" for c in re.findall(r" TEX-([A-Z0-9]+)\"", html)
        }
    else:
        families = {"MJX-NCM-ZERO", "MJX-NCM-N"} | {
            f"MJX-NCM-{c}" for c in re.findall(r"NCM-([A-Z0-9]+)", html)
        }
    return sorted(faces[family] for family in families if family in faces)


def page(version: str, result: dict, directory: Path) -> None:
    html, css = result["html"], result["css"]
    fonts = fonts_needed(version, css, html)
    preload = "".join(f'<link rel="preload" as="font" href="fonts/{f}" crossorigin>' for f in fonts)
    directory.mkdir()
    if fonts:
        (directory / "fonts").symlink_to(FONTS[version])
    (directory / "math.css").write_text(css)
    (directory / "index.html").write_text(
        '<!DOCTYPE html><html lang="zh"><head><meta charset="utf-8"><meta name="viewport" '
        f'content="width=device-width, initial-scale=1"><link rel="stylesheet" href="math.css">{preload}'
        f'</head><body><div class="article-body">{html}</div></body></html>'
    )


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    django.setup()
    if not (ROOT / "node_modules").exists():
        subprocess.run(["npm", "ci", "--prefix", str(ROOT), "--no-audit", "--no-fund"], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "in.json").write_text(json.dumps(documents()))
        results = {}
        for version in VERSIONS:
            out = subprocess.run(
                ["node", "typeset.mjs", version, str(tmp / "in.json")],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            )
            results[version] = json.loads(out.stdout)
        rows = {}
        for version, result in results.items():
            for name, doc in result.items():
                stripped = re.sub(r' data-latex="[^"]*"', "", doc["html"])
                rows[version, name] = {
                    "cpu_ms": min(doc["cpu_ms"]),
                    "formulas": doc["html"].count("<mjx-container"),
                    "errors": doc["html"].count("merror"),
                    "html_gzip_kb": round(len(gzip.compress(doc["html"].encode())) / 1024, 1),
                    "html_gzip_kb_without_data_latex": round(
                        len(gzip.compress(stripped.encode())) / 1024, 1
                    ),
                    "css_gzip_kb": round(len(gzip.compress(doc["css"].encode())) / 1024, 1),
                    "fonts_kb": round(
                        sum(
                            (FONTS[version] / f).stat().st_size
                            for f in fonts_needed(version, doc["css"], doc["html"])
                        )
                        / 1024,
                        1,
                    ),
                }
            page(version, result["post"], tmp / f"v{version}")
        for (version, name), row in rows.items():
            print(json.dumps({"mathjax": version, "document": name, **row}), flush=True)
        for version in VERSIONS[1:]:
            for name in results["3"]:
                ratios = {
                    k: round(rows[version, name][k] / rows["3", name][k], 2)
                    for k in rows["3", name]
                    if isinstance(rows["3", name][k], float | int) and rows["3", name][k]
                }
                print(json.dumps({f"ratio_{version}_over_3": name, **ratios}), flush=True)
        browser_rows(tmp, rows["3", "post"]["formulas"])


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def browser_rows(tmp: Path, formulas: int) -> None:
    from playwright.sync_api import sync_playwright

    from bench.math import measure

    handler = partial(Quiet, directory=str(tmp))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
            for rate in (1, 4):
                for version in VERSIONS:
                    url = f"http://127.0.0.1:{server.server_port}/v{version}/index.html"
                    row = measure(browser, url, rate, formulas)
                    del row["mathjax_requests"]
                    print(json.dumps({"mathjax": version, **row}), flush=True)
            browser.close()
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()
