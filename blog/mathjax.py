"""Math typeset on the server when a post or an approved comment is saved.

``mathjax-node/typeset.mjs`` runs MathJax 3.2.2 (the version the browser loads) in Node with the
browser's configuration and turns the ``\\(..\\)`` / ``\\[..\\]`` / ``\\begin{equation}`` left by
``blog.markup`` into CommonHTML (with MathJax's assistive MathML inside), so pages need no
MathJax; feeds keep only the MathML (:func:`mathml_only`). One Node process typesets a batch.

Where Node or the npm packages are missing (``BLOG_MATHJAX_NODE`` empty or not found, ``make
install`` not run), or Node fails, :func:`typeset` returns ``None``: the caller stores the HTML as
it is and the page loads MathJax as before. ``manage.py typeset_math`` catches up later.
"""

import json
import logging
import re
import shutil
import subprocess
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


@dataclass(frozen=True)
class TypesetPost:
    html: str
    teaser_html: str


def node() -> str | None:
    """The Node binary to run, or None when server-side typesetting is unavailable."""
    binary = settings.BLOG_MATHJAX_NODE and shutil.which(settings.BLOG_MATHJAX_NODE)
    return binary if binary and PACKAGE.exists() else None


def typeset(documents: list[dict]) -> list[str] | None:
    """Typeset each document (``html``, ``profile``, ``output``, ``idPrefix``: see typeset.mjs)
    in one Node process; None when Node is unavailable or fails."""
    binary = node()
    if binary is None:
        return None
    try:
        result = subprocess.run(
            [binary, str(SCRIPT)],
            input=json.dumps({"documents": documents}),
            capture_output=True,
            text=True,
            check=True,
            timeout=settings.BLOG_MATHJAX_TIMEOUT,
        )
        return json.loads(result.stdout)["documents"]
    except (OSError, subprocess.SubprocessError, ValueError, KeyError) as error:
        stderr = getattr(error, "stderr", "") or ""
        logger.warning("Server-side MathJax failed, math left to the browser: %s %s", error, stderr)
        return None


def typeset_post(html: str, teaser_html: str) -> TypesetPost | None:
    """The body and the teaser as the page shows them."""
    documents = typeset([{"html": html}, {"html": teaser_html}])
    return TypesetPost(*documents) if documents else None


def typeset_comment(html: str, number: int) -> str | None:
    """A sanitised comment body typeset with the restricted comment configuration; its equation
    ids carry the comment's number so that they never clash with the post's."""
    documents = typeset([{"html": html, "profile": "comment", "idPrefix": f"mjx-c{number}-eqn:"}])
    return documents[0] if documents else None


def mathml_only(html: str) -> str:
    """Typeset HTML for places without MathJax's stylesheet (feeds): each formula becomes the
    MathML MathJax put beside it for screen readers, and one that is only an ``\\eqref``
    becomes a plain "(n)" link (browsers follow no MathML links)."""
    html = _CONTAINER.sub(lambda m: m["math"], html)
    return _EQREF_ONLY.sub(lambda m: f'<a href="{m["href"]}">{m["tag"]}</a>', html)


def check_node(app_configs, **kwargs):
    """Say once, when the server starts, that math falls back to the browser."""
    if not settings.BLOG_MATHJAX_NODE or node():
        return []
    return [
        checks.Warning(
            "Node or MathJax's npm packages are missing: math will be typeset in the readers' "
            "browsers.",
            hint="Run `make install` (needs Node and npm), then `manage.py typeset_math`.",
            id="blog.W001",
        )
    ]
