"""Math typeset on the server when a post or an approved comment is saved.

``mathjax-node/typeset.mjs`` runs MathJax 3.2.2 (the version the browser loads) in Node with the
browser's configuration and turns the ``\\(..\\)`` / ``\\[..\\]`` / ``\\begin{equation}`` left by
``blog.markup`` into CommonHTML (with MathJax's assistive MathML inside), so pages need no
MathJax; feeds keep only the MathML (:func:`mathml_only`). Each Python process keeps one Node
worker (:class:`Worker`), started on first use and restarted when it dies or times out: MathJax
loads once, and a save pays only for its own formulas.

Where Node or the npm packages are missing (``BLOG_MATHJAX_NODE`` empty or not found, ``make
install`` not run), or Node fails, :func:`typeset` returns ``None``: the caller stores the HTML as
it is and the page loads MathJax as before. ``manage.py typeset_math`` catches up later.
"""

import atexit
import contextlib
import json
import logging
import os
import re
import selectors
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core import checks

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent / "mathjax-node"
SCRIPT = ROOT / "typeset.mjs"
PACKAGE = ROOT / "node_modules" / "mathjax-full" / "package.json"

_CONTAINER = re.compile(
    r"<mjx-container\b[^>]*>.*?<mjx-assistive-mml\b[^>]*>(?P<math>.*?)</mjx-assistive-mml>"
    r"</mjx-container>",
    re.DOTALL,
)
_EQREF_ONLY = re.compile(
    r'<math\b[^>]*><mrow href="(?P<href>#[^"]*)" class="MathJax_ref"><mtext>(?P<tag>[^<]*)'
    r"</mtext></mrow></math>"
)

# A list page shows many teasers: their equations carry no ids and their \eqrefs link nowhere.
_TEASER_TARGET = re.compile(r' (?:id="|href="#)mjx-eqn[^"]*"')  # the MathML keeps an mrow href
_TEASER_REF = re.compile(r'<a href="#mjx-eqn[^"]*">(?P<ref>.*?)</a>', re.DOTALL)

# The fonts of static/css/mathjax-chtml.css: a glyph's class names its font (none: MJXTEX).
FONT_DIR = "mathjax/output/chtml/fonts/woff-v2/"
FONTS = {
    "": "Main-Regular",
    "TEX-B": "Main-Bold",
    "TEX-I": "Math-Italic",
    "TEX-MI": "Main-Italic",
    "TEX-BI": "Math-BoldItalic",
    "TEX-S1": "Size1-Regular",
    "TEX-S2": "Size2-Regular",
    "TEX-S3": "Size3-Regular",
    "TEX-S4": "Size4-Regular",
    "TEX-A": "AMS-Regular",
    "TEX-C": "Calligraphic-Regular",
    "TEX-CB": "Calligraphic-Bold",
    "TEX-FR": "Fraktur-Regular",
    "TEX-FRB": "Fraktur-Bold",
    "TEX-SS": "SansSerif-Regular",
    "TEX-SSB": "SansSerif-Bold",
    "TEX-SSI": "SansSerif-Italic",
    "TEX-SC": "Script-Regular",
    "TEX-T": "Typewriter-Regular",
    "TEX-V": "Vector-Regular",
    "TEX-VB": "Vector-Bold",
}
# MathJax_Zero heads every font stack of the stylesheet: it sets the formulas' line metrics.
ZERO_FONT = f"{FONT_DIR}MathJax_Zero.woff"
COMMON_FONTS = [ZERO_FONT] + [f"{FONT_DIR}MathJax_{FONTS[name]}.woff" for name in ("", "TEX-I")]
_GLYPH_FONT = re.compile(r'<mjx-c class="mjx-c[0-9A-F]+(?: (TEX-[A-Z0-9]+))?"')


def fonts_used(html: str) -> list[str]:
    """The static paths of the MathJax fonts that typeset HTML draws with."""
    names = {match[1] or "" for match in _GLYPH_FONT.finditer(html)}
    fonts = [f"{FONT_DIR}MathJax_{FONTS[name]}.woff" for name in sorted(names) if name in FONTS]
    return [ZERO_FONT, *fonts] if fonts else []


@dataclass(frozen=True)
class TypesetPost:
    html: str
    teaser_html: str
    toc_html: str = ""


def node() -> str | None:
    """The Node binary to run, or None when server-side typesetting is unavailable."""
    binary = settings.BLOG_MATHJAX_NODE and shutil.which(settings.BLOG_MATHJAX_NODE)
    return binary if binary and PACKAGE.exists() else None


class Worker:
    """One ``typeset.mjs`` process speaking JSON lines, shared by the threads of this process.

    Requests take turns (a lock); a worker that died, belongs to the parent of a forked process
    or was started with another binary is replaced; one that overruns ``BLOG_MATHJAX_TIMEOUT`` is
    killed, and the next request starts a fresh one. ``requests`` and ``documents`` count what
    it has typeset in this process.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._process = None
        self._owner = None  # (pid of the Python process, Node binary) the worker was started for
        self.requests = 0
        self.documents = 0

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def request(self, binary: str, documents: list[dict]) -> list[str]:
        """The typeset documents; raises OSError, ValueError or TimeoutError on failure."""
        line = json.dumps({"documents": documents}).encode() + b"\n"
        with self._lock:
            fresh = self._ensure(binary)
            try:
                reply = self._exchange(line)
            except (OSError, EOFError):
                if fresh:
                    raise
                self._ensure(binary)  # it died since the last request: once more, on a new one
                reply = self._exchange(line)
            self.requests += 1
            self.documents += len(documents)
        if "error" in reply:
            raise ValueError(reply["error"])
        return reply["documents"]

    def stop(self):
        process, self._process = self._process, None
        if process and self._owner[0] == os.getpid():
            process.kill()
            process.wait()
            process.stdout.close()
            with contextlib.suppress(BrokenPipeError):  # a request the worker never read
                process.stdin.close()

    def _ensure(self, binary: str) -> bool:
        """Start a worker unless a live one is ours; whether it was just started."""
        owner = (os.getpid(), binary)
        if self._process and self._owner == owner and self._process.poll() is None:
            return False
        self.stop()
        self._process = subprocess.Popen(
            [binary, str(SCRIPT)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        self._owner = owner
        return True

    def _exchange(self, line: bytes) -> dict:
        process = self._process
        deadline = time.monotonic() + settings.BLOG_MATHJAX_TIMEOUT
        try:
            process.stdin.write(line)
            process.stdin.flush()
            chunks = []
            with selectors.DefaultSelector() as selector:
                selector.register(process.stdout, selectors.EVENT_READ)
                while not chunks or not chunks[-1].endswith(b"\n"):
                    if not selector.select(max(deadline - time.monotonic(), 0)):
                        raise TimeoutError(f"MathJax took over {settings.BLOG_MATHJAX_TIMEOUT} s")
                    chunk = os.read(process.stdout.fileno(), 1 << 20)
                    if not chunk:
                        raise EOFError(f"the MathJax worker exited ({process.poll()})")
                    chunks.append(chunk)
        except BaseException:
            self.stop()
            raise
        return json.loads(b"".join(chunks))


WORKER = Worker()
# Documents per request: a long post's body and teaser take MathJax up to a second or two on a
# busy machine, so a request of 20 (10 posts) stays well inside BLOG_MATHJAX_TIMEOUT. Even, so
# that a post's body and teaser go in the same request.
BATCH_DOCUMENTS = 20
atexit.register(WORKER.stop)


def typeset(documents: list[dict]) -> list[str] | None:
    """Typeset each document (``html``, ``profile``, ``idPrefix``: see typeset.mjs)
    in the Node worker; None when Node is unavailable or fails."""
    binary = node()
    if binary is None:
        return None
    try:
        return WORKER.request(binary, documents)
    except (OSError, EOFError, ValueError) as error:  # TimeoutError is an OSError
        logger.warning("Server-side MathJax failed, math left to the browser: %s", error)
        return None


def typeset_post(html: str, teaser_html: str, toc_html: str = "") -> TypesetPost | None:
    """The body as its page shows it, the teaser as a list page does (without equation ids
    or \\eqref links, which would clash between teasers or point to no equation), and the table
    of contents (math in headings)."""
    return typeset_posts([(html, teaser_html, toc_html)])[0]


def typeset_posts(posts: list[tuple[str, str, str]]) -> list[TypesetPost | None]:
    """``typeset_post`` for many (body, teaser, table of contents) triples, a few posts per
    request to the worker (an import typesets thousands); None for those Node could not typeset.
    A teaser that is the whole body is typeset once, with it; an empty table of contents is not
    sent."""
    sources = []
    for html, teaser_html, toc_html in posts:
        sources += [html] if teaser_html == html else [html, teaser_html]
        sources += [toc_html] if toc_html else []
    documents = iter(_typeset_in_batches([{"html": source} for source in sources]))
    results = []
    for html, teaser_html, toc_html in posts:
        body = next(documents)
        teaser = body if teaser_html == html else next(documents)
        toc = next(documents) if toc_html else ""
        if body is None or teaser is None or toc is None:
            results.append(None)
        else:
            teaser = _TEASER_TARGET.sub("", _TEASER_REF.sub(r"\g<ref>", teaser))
            results.append(TypesetPost(body, teaser, toc))
    return results


def typeset_comment(html: str, number: int) -> str | None:
    """A sanitised comment body typeset with the restricted comment configuration; its equation
    ids carry the comment's number so that they never clash with the post's."""
    return typeset_comments([(html, number)])[0]


def typeset_comments(comments: list[tuple[str, int]]) -> list[str | None]:
    """``typeset_comment`` for many (html, number) pairs, in a few requests to the worker."""
    return _typeset_in_batches(
        [
            {"html": html, "profile": "comment", "idPrefix": f"mjx-c{number}-eqn:"}
            for html, number in comments
        ]
    )


def _typeset_in_batches(documents: list[dict]) -> list[str | None]:
    """Each document typeset, ``BATCH_DOCUMENTS`` per request (one request must finish within
    ``BLOG_MATHJAX_TIMEOUT``); None for the documents of a request that failed."""
    results = []
    for start in range(0, len(documents), BATCH_DOCUMENTS):
        batch = documents[start : start + BATCH_DOCUMENTS]
        results += typeset(batch) or [None] * len(batch)
    return results


def mathml_only(html: str) -> str:
    """Typeset HTML for places without MathJax's stylesheet (feeds): each formula becomes the
    MathML MathJax put beside it for screen readers, and one that is only an ``\\eqref``
    becomes a plain "(n)" link (browsers follow no MathML links)."""
    html = _CONTAINER.sub(lambda m: m["math"], html)
    return _EQREF_ONLY.sub(lambda m: f'<a href="{m["href"]}">{m["tag"]}</a>', html)


def missing() -> bool:
    """Whether math is meant to be typeset here (``BLOG_MATHJAX_NODE`` set) but Node or
    MathJax's npm packages are missing."""
    return bool(settings.BLOG_MATHJAX_NODE) and node() is None


def check_node(app_configs, **kwargs):
    """Say once, when the server starts, that math falls back to the browser (the admin says
    so too, when math is saved: ``blog.admin.say_if_math_left_to_browsers``)."""
    if not missing():
        return []
    return [
        checks.Warning(
            "Node or MathJax's npm packages are missing: math will be typeset in the readers' "
            "browsers.",
            hint="Run `make install` (needs Node and npm), then `manage.py typeset_math`.",
            id="blog.W001",
        )
    ]
