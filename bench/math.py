"""Math in the browser before and after server-side typesetting: `python -m bench.math`.

A real gunicorn server (tests/servers.py, the test settings on a SQLite file) serves two copies of
a math-heavy post (every seed formula of tests/blog/data/seed_formulas.json, as
tests/browser/test_math_server.py builds it): "before" left to the browser's MathJax, "after"
typeset at save time in Node, directly and behind deploy/nginx.conf as deployed (its cache warmed
by one earlier reader). Chromium (Playwright, /usr/bin/chromium) opens each at a phone
viewport with the CPU at 1x and 4x (CDP Emulation.setCPUThrottlingRate), from a cold cache, and
reports first contentful paint, the time until all math is painted (every formula typeset,
`document.fonts.ready`), when the last MathJax font had arrived (resource timing),
the cumulative layout shift, requests, MathJax requests and the bytes (each response gzipped).
It also prints the save-time cost (cold worker, then warm) of that post, of 300 display equations
and of 300 formulas as the seeds mix them, and how much more two workers typeset at once than one
(the most a save split over the machine's cores could gain). docs/math.md has figures.
"""

import gzip
import json
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from bench.harness import Nginx
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
// Each shift with what moved: an element inside a formula or holding one counts as math.
window.__shifts = [];
new PerformanceObserver(list => list.getEntries().forEach(e => {
  const nodes = e.sources.map(s => s.node).filter(n => n && n.nodeType === 1);
  window.__shifts.push({
    value: e.value,
    at: Math.round(e.startTime),
    math: nodes.some(n => n.closest('mjx-container') || n.querySelector('mjx-container')),
    nodes: nodes.map(n => n.localName + (n.className ? '.' + String(n.className).split(' ')[0] : '')),
  });
})).observe({type: 'layout-shift', buffered: true});
"""

SAVE = """
import json, os, re, time
from django.conf import settings
from blog import mathjax
from blog.models import Post
from bench.math import SEEDS
settings.BLOG_MATHJAX_NODE = "node"
post = Post.objects.get(title="after")
displays = [re.sub(r"\\\\label\\{[^}]*\\}", "", f) for f in SEEDS if f.startswith(("\\\\", "$$"))]
display300 = Post.objects.get(title="display300")
display300.body = "\\n\\n".join((displays * 30)[:300])
# 300 formulas as the seeds mix them (about one display in four), labels dropped.
mixed300 = Post.objects.get(title="mixed300")
mixed = [re.sub(r"\\\\label\\{[^}]*\\}", "", f) for f in SEEDS]
mixed300.body = "\\n\\n".join(f if f.startswith("\\\\begin") else f"公式：{f}" for f in (mixed * 8)[:300])
def worker_cpu():  # the Node worker's user + system CPU seconds (Linux /proc)
    fields = open(f"/proc/{mathjax.WORKER.pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
for each in (post, display300, mixed300):
    times, python, node = [], [], []
    for _ in range(3):
        start, cpu = time.perf_counter(), time.process_time()
        node_start = worker_cpu() if mathjax.WORKER.pid else 0
        each.save()
        times.append(round(time.perf_counter() - start, 3))
        python.append(round(time.process_time() - cpu, 3))
        node.append(round(worker_cpu() - node_start, 2))
    formulas = each.body_html.count("<mjx-container")
    print(json.dumps({"post": each.title, "save_seconds": times, "python_cpu": python,
                      "worker_cpu": node, "formulas": formulas, "typeset": each.math_typeset,
                      "worker_requests": mathjax.WORKER.requests}))
# What a second core could give a save split over two workers, at most: mixed300's body typeset
# by one worker alone, then by two workers at the same time (each the whole body).
from concurrent.futures import ThreadPoolExecutor
from blog.markup import render_post
documents = [{"html": render_post(mixed300.body).html}]
binary, second = mathjax.node(), mathjax.Worker()
second.request(binary, documents)
alone, together = [], []
with ThreadPoolExecutor(2) as pool:
    for _ in range(3):
        start = time.perf_counter()
        mathjax.WORKER.request(binary, documents)
        alone.append(round(time.perf_counter() - start, 3))
        start = time.perf_counter()
        list(pool.map(lambda worker: worker.request(binary, documents), (mathjax.WORKER, second)))
        together.append(round(time.perf_counter() - start, 3))
second.stop()
print(json.dumps({"two_workers": "mixed300", "alone_seconds": alone, "together_seconds": together,
                  "throughput_x": round(2 * sum(alone) / sum(together), 2)}))
"""


def measure(browser, url: str, rate: int, formulas: int) -> dict:
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=3,
        is_mobile=True,
    )
    page = context.new_page()
    page.add_init_script(MATH_PAINTED.replace("FORMULAS", str(formulas)))
    cdp = context.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})
    responses = []
    page.on("response", lambda response: responses.append(response))
    page.goto(url, wait_until="load")
    page.wait_for_function("() => window.__math.done !== undefined", timeout=120_000)
    page.wait_for_timeout(1000)
    result = page.evaluate(
        """() => ({
        fcp: performance.getEntriesByName('first-contentful-paint')[0].startTime,
        math: window.__math.done, shifts: window.__shifts,
        fonts: Math.max(0, ...performance.getEntriesByType('resource')
            .filter(r => r.name.endsWith('.woff')).map(r => r.responseEnd))})"""
    )
    shifts = result["shifts"]
    sizes = [len(gzip.compress(r.body())) for r in responses if r.status == 200]
    context.close()
    return {
        "cpu": f"{rate}x",
        "fcp_ms": round(result["fcp"]),
        "math_painted_ms": round(result["math"]),
        "fonts_arrived_ms": round(result["fonts"]),
        "layout_shift": round(sum(shift["value"] for shift in shifts), 4),
        "layout_shift_math": round(sum(shift["value"] for shift in shifts if shift["math"]), 4),
        "shifts": [
            f"{shift['value']:.4f}@{shift['at']}ms:{'/'.join(shift['nodes'][:3])}"
            for shift in shifts
        ],
        "requests": len(responses),
        "mathjax_requests": sum("mathjax" in r.url.lower() for r in responses),
        "gzip_kb": round(sum(sizes) / 1024, 1),
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        database = ServerDatabase(Path(tmp))
        database.seed(
            [
                {"id": 1, "title": "before", "body": BODY},
                {"id": 2, "title": "after", "body": BODY},
                {"id": 3, "title": "display300", "body": "$$x$$"},
                {"id": 4, "title": "mixed300", "body": "$$x$$"},
            ],
            Path(tmp),
        )
        saves = [
            json.loads(line)
            for line in database.manage("shell", "-c", SAVE).strip().splitlines()[-4:]
        ]
        for saved in saves:
            print(json.dumps(saved), flush=True)
        saved = saves[0]
        ids = {"before": 1, "after": 2}
        database.manage("collectstatic", "--no-input", "-v", "0")  # whitenoise serves staticfiles/
        server = database.serve(Path(tmp) / "server.log", workers=1)
        static = Path(tmp) / "static.html"
        static.write_text("static")
        try:
            # gunicorn alone (one worker serves the page and every static file), and behind
            # deploy/nginx.conf as deployed, its cache warmed by one earlier reader.
            with Nginx(server.port, static, Path(tmp)) as nginx, sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
                for origin, via in ((server.origin, "gunicorn"), (nginx.url, "nginx")):
                    for title, pk in ids.items():
                        url = f"{origin}/archives/{pk}"
                        if via == "nginx":
                            measure(browser, url, 1, saved["formulas"])
                        for rate in (1, 4):
                            result = measure(browser, url, rate, saved["formulas"])
                            print(json.dumps({"post": title, "via": via, **result}), flush=True)
                browser.close()
        finally:
            server.stop()
            database.drop()


if __name__ == "__main__":
    main()
