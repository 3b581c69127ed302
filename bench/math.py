"""Math in the browser before and after server-side typesetting: `python -m bench.math`.

A real gunicorn server (tests/servers.py, the test settings on a SQLite file) serves two copies of
a math-heavy post (every seed formula of tests/blog/data/seed_formulas.json, as
tests/browser/test_math_server.py builds it): "before" left to the browser's MathJax, "after"
typeset at save time in Node. Chromium (Playwright, /usr/bin/chromium) opens each at a phone
viewport with the CPU at 1x and 4x (CDP Emulation.setCPUThrottlingRate), from a cold cache, and
reports first contentful paint, the time until all math is painted (every formula typeset, fonts ready),
the cumulative layout shift, requests, MathJax requests and the bytes (each response gzipped).
It also prints the save-time cost of the post (cold worker, then warm). docs/math.md has figures.
"""

import gzip
import json
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.servers import ServerDatabase

SEEDS = json.loads(Path("tests/blog/data/seed_formulas.json").read_text())
BODY = (
    "由式$\\eqref{eq:sdpa}$可知。\n\n"
    + "\n\n".join(f + "\n" if f.startswith("\\begin") else f"公式：{f}" for f in SEEDS)
    + "\n"
)

MATH_PAINTED = r"""
window.__math = {};
(function poll() {
  const body = document.querySelector('.article-body');
  if (body && body.querySelectorAll('mjx-container').length >= FORMULAS) {
    document.fonts.ready.then(() => { window.__math.done = performance.now(); });
    return;
  }
  requestAnimationFrame(poll);
})();
new PerformanceObserver(list => list.getEntries().forEach(e => {
  window.__math.shift = (window.__math.shift || 0) + e.value;
})).observe({type: 'layout-shift', buffered: true});
"""

SAVE = """
import json, time
from django.conf import settings
from blog.models import Post
settings.BLOG_MATHJAX_NODE = "node"
post = Post.objects.get(title="after")
times = []
for _ in range(3):
    start = time.perf_counter()
    post.save()
    times.append(round(time.perf_counter() - start, 3))
formulas = post.body_html.count("<mjx-container")
print(json.dumps({"save_seconds": times, "formulas": formulas, "typeset": post.math_typeset}))
"""


def measure(browser, url: str, rate: int, formulas: int) -> dict:
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=3,
        is_mobile=True,
        bypass_csp=True,
    )
    page = context.new_page()
    page.add_init_script(MATH_PAINTED.replace("FORMULAS", str(formulas)))
    cdp = context.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})
    responses = []
    page.on("response", lambda response: responses.append(response))
    page.goto(url, wait_until="load")
    page.wait_for_function("window.__math.done !== undefined", timeout=120_000)
    page.wait_for_timeout(1000)
    result = page.evaluate(
        """() => ({
        fcp: performance.getEntriesByName('first-contentful-paint')[0].startTime,
        math: window.__math.done, shift: window.__math.shift || 0})"""
    )
    sizes = [len(gzip.compress(r.body())) for r in responses if r.status == 200]
    context.close()
    return {
        "cpu": f"{rate}x",
        "fcp_ms": round(result["fcp"]),
        "math_painted_ms": round(result["math"]),
        "layout_shift": round(result["shift"], 4),
        "requests": len(responses),
        "mathjax_requests": sum("mathjax" in r.url.lower() for r in responses),
        "gzip_kb": round(sum(sizes) / 1024, 1),
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        database = ServerDatabase(Path(tmp))
        database.seed(
            [{"id": 1, "title": "before", "body": BODY}, {"id": 2, "title": "after", "body": BODY}],
            Path(tmp),
        )
        saved = json.loads(database.manage("shell", "-c", SAVE).strip().splitlines()[-1])
        print(json.dumps(saved), flush=True)
        ids = {"before": 1, "after": 2}
        database.manage("collectstatic", "--no-input", "-v", "0")  # whitenoise serves staticfiles/
        server = database.serve(Path(tmp) / "server.log", workers=1)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
                for title, pk in ids.items():
                    for rate in (1, 4):
                        url = f"{server.origin}/archives/{pk}"
                        print(
                            json.dumps(
                                {"post": title, **measure(browser, url, rate, saved["formulas"])}
                            ),
                            flush=True,
                        )
                browser.close()
        finally:
            server.stop()
            database.drop()


if __name__ == "__main__":
    main()
