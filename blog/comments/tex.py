"""What TeX a comment may give MathJax: an allow-list of commands and environments, and limits.

A comment's formulas are typeset in every reader's browser and on the moderator's admin page, so
they may only do what a commenter needs. Deep nesting crashed a Chromium tab (150 nested
``\\frac{``, 600 ``\\left(``), nested scripts froze one for seconds, ``\\def`` expanded to a
66,000-pixel formula, and ``\\unicode[font]`` wrote its option into a ``style`` attribute. Here a
small TeX scanner reads every formula MathJax would find in the sanitised comment HTML and refuses
anything outside the allow-list or the limits below, which no real comment comes near.

The browser applies the same rules to formulas inside ``.comment-body`` elements before MathJax
parses them (``static/js/comment-tex.js``, whose ``RULES`` must equal ``client_rules()``: a test
compares them), so a hostile comment already in the database is harmless too.
"""

import re
from html.parser import HTMLParser

from django.utils.translation import gettext as _

MAX_DEPTH = 40  # nested groups, \left..\right and environments in one formula
MAX_FORMULA_CHARS = 2_000
MAX_TEX_CHARS = 6_000  # all formulas of one comment
MAX_FORMULAS = 100
MAX_LENGTH_EM = 20  # \hspace, \kern, \\[..], lengths in \style

GREEK = (
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa varkappa lambda "
    "mu nu xi omicron pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega "
    "Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega digamma"
)
SYMBOLS = (
    # operators with limits, functions
    "sum prod coprod int iint iiint oint bigcup bigcap bigsqcup bigvee bigwedge bigoplus "
    "bigotimes bigodot biguplus lim liminf limsup sup inf max min arg det exp log ln lg sin cos "
    "tan cot sec csc arcsin arccos arctan sinh cosh tanh coth dim ker hom deg gcd Pr mod bmod "
    "pmod operatorname mathop mathbin mathrel mathord mathopen mathclose mathpunct limits "
    "nolimits "
    # relations and arrows
    "le leq ge geq ne neq approx sim simeq cong equiv propto ll gg lll ggg subset subseteq "
    "supset supseteq subsetneq supsetneq in notin ni to gets rightarrow leftarrow Rightarrow "
    "Leftarrow leftrightarrow Leftrightarrow iff implies impliedby mapsto longmapsto "
    "longrightarrow longleftarrow Longrightarrow Longleftarrow longleftrightarrow "
    "Longleftrightarrow uparrow downarrow Uparrow Downarrow updownarrow nearrow searrow nwarrow "
    "swarrow hookrightarrow hookleftarrow rightharpoonup rightleftharpoons leadsto perp parallel "
    "mid nmid prec succ preceq succeq vdash dashv models triangleq doteq lesssim gtrsim "
    "leqslant geqslant nleq ngeq nless ngtr asymp bowtie sqsubseteq sqsupseteq lt gt "
    "xrightarrow xleftarrow xRightarrow xLeftarrow xleftrightarrow xLeftrightarrow "
    "xmapsto xhookrightarrow xtwoheadrightarrow "
    # binary operators
    "pm mp times div cdot ast star circ bullet oplus ominus otimes oslash odot cup cap sqcup "
    "sqcap setminus wedge vee land lor lnot neg dagger ddagger amalg uplus wr diamond "
    "triangleleft triangleright bigtriangleup bigtriangledown "
    # letters and ordinary symbols
    "infty partial nabla forall exists nexists emptyset varnothing hbar hslash ell imath jmath "
    "wp Re Im aleph beth prime backprime angle triangle square Box blacksquare checkmark top "
    "bot because therefore flat natural sharp clubsuit diamondsuit heartsuit spadesuit "
    "dots ldots cdots vdots ddots dotsb dotsc dotsi dotsm dotso cdotp ldotp colon surd "
    "lbrace rbrace lbrack rbrack langle rangle lfloor rfloor lceil rceil vert Vert lvert rvert "
    "lVert rVert backslash S P copyright degree "
    # fractions, roots, accents, fonts, text
    "frac dfrac tfrac cfrac binom dbinom tbinom over atop choose sqrt root of "
    "hat check tilde acute grave dot ddot dddot breve bar vec mathring widehat widetilde "
    "overline underline overrightarrow overleftarrow overleftrightarrow overbrace underbrace "
    "overset underset stackrel substack not boxed cancel bcancel xcancel cancelto "
    "mathbb mathcal mathscr mathfrak mathrm mathit mathbf mathsf mathtt mathnormal boldsymbol "
    "bm pmb text textrm textit textbf textsf texttt textnormal mbox "
    "displaystyle textstyle scriptstyle scriptscriptstyle "
    # delimiters, spacing, layout
    "left right middle big Big bigg Bigg bigl bigr Bigl Bigr biggl biggr Biggl Biggr "
    "quad qquad enspace thinspace negthinspace phantom hphantom vphantom smash mathstrut strut "
    "begin end hline hdashline tag notag nonumber label ref eqref "
    # checked arguments (see ARGUMENTS)
    "style color textcolor colorbox hspace kern mkern"
)
COMMANDS = frozenset(f"\\{name}" for name in f"{GREEK} {SYMBOLS}".split())
# Control symbols: spaces, escaped specials, \\ (line break; its [length] is checked).
CONTROL_SYMBOLS = frozenset(["\\" + char for char in ",;:!> \n\t{}|#$%&_\\"])
ENVIRONMENTS = frozenset({
    "matrix", "pmatrix", "bmatrix", "Bmatrix", "vmatrix", "Vmatrix", "smallmatrix", "cases",
    "array", "aligned", "gathered", "split", "equation", "equation*", "align", "align*",
    "gather", "gather*", "multline", "multline*",
})  # fmt: skip
# Commands whose first arguments are not TeX but a value that is checked: CSS declarations,
# a colour, a length. The rest of their arguments are ordinary TeX.
ARGUMENTS = {
    "\\style": "css",
    "\\color": "colour",
    "\\textcolor": "colour",
    "\\colorbox": "colour",
    "\\hspace": "length",
    "\\kern": "length",
    "\\mkern": "length",
}
CSS_PROPERTIES = frozenset({
    "color", "background-color", "border", "border-color", "border-style", "border-width",
    "border-radius", "padding", "padding-top", "padding-right", "padding-bottom", "padding-left",
    "display", "width", "height", "font-weight", "font-style",
})  # fmt: skip
# Written so that Python's re and JavaScript's RegExp read them the same way.
PATTERNS = {
    "colour": r"^ *(#[0-9A-Fa-f]{3}|#[0-9A-Fa-f]{6}|[A-Za-z]{1,20}) *$",
    "length": r"^ *([-+]?)([0-9]+\.?[0-9]*|\.[0-9]+) *(em|ex|px|pt|pc|mm|cm|in|mu) *$",
    "css_value": r"^[ #A-Za-z0-9.-]{1,60}$",
    "css_length": r"([0-9]*\.?[0-9]+)(em|ex|px|pt|pc|mm|cm|in|mu)",
    "preamble": r"^[lcr| :]{1,60}$",
}
EM_PER_UNIT = {
    "em": 1,
    "ex": 0.5,
    "px": 1 / 16,
    "pt": 0.1,
    "pc": 1.2,
    "mm": 0.24,
    "cm": 2.4,
    "in": 6,
    "mu": 1 / 18,
}


def client_rules() -> dict:
    """Everything static/js/comment-tex.js needs to apply the same rules in the browser."""
    return {
        "maxDepth": MAX_DEPTH,
        "maxFormulaChars": MAX_FORMULA_CHARS,
        "maxLengthEm": MAX_LENGTH_EM,
        "commands": sorted(COMMANDS | CONTROL_SYMBOLS),
        "environments": sorted(ENVIRONMENTS),
        "arguments": ARGUMENTS,
        "cssProperties": sorted(CSS_PROPERTIES),
        "patterns": PATTERNS,
        "emPerUnit": EM_PER_UNIT,
    }


class Refused(Exception):
    """A formula breaks a rule; the message names the limit or the command, for the reader."""


def comment_problem(html: str) -> str | None:
    """Why the sanitised comment HTML may not be published as it is, or None."""
    try:
        formulas = list(find_formulas(html))
        for tex in formulas:
            check_formula(tex)
        if sum(map(len, formulas)) > MAX_TEX_CHARS:
            raise Refused(
                _("Too much TeX in one comment (at most %(limit)s characters).")
                % {"limit": MAX_TEX_CHARS}
            )
    except Refused as refused:
        return str(refused)
    return None


_TOKEN = re.compile(r"\\([A-Za-z]+|.?)|%[^\n]*|[{}]|[^\\{}%]+", re.DOTALL)
_GROUP = re.compile(r" *\{([^{}]*)\}")
_BARE_LENGTH = re.compile(r" *[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+) *[a-z]{2}")
_PATTERNS = {name: re.compile(pattern) for name, pattern in PATTERNS.items()}


def check_formula(tex: str) -> None:
    """Raise Refused unless one formula (what MathJax parses, without its delimiters) is allowed.

    Groups ``{..}``, ``\\left..\\right`` and environments count towards the nesting depth.
    """
    if len(tex) > MAX_FORMULA_CHARS:
        raise Refused(
            _("A formula is too long (at most %(limit)s characters).")
            % {"limit": MAX_FORMULA_CHARS}
        )
    depth = 0
    position = 0
    while position < len(tex):
        token = _TOKEN.match(tex, position)
        text, position = token.group(), token.end()
        if text in {"{", "}"}:
            depth += 1 if text == "{" else -1
        elif text.startswith("\\"):
            command = text if text[1:].isalpha() else text[:2]
            if command not in COMMANDS and command not in CONTROL_SYMBOLS:
                raise Refused(_("%(command)s cannot be used in comments.") % {"command": command})
            if command in {"\\left", "\\begin"}:
                depth += 1
            elif command in {"\\right", "\\end"}:
                depth -= 1
            if command in {"\\begin", "\\end"}:
                position = _environment(tex, position, command)
            elif command == "\\\\":
                position = _line_break(tex, position)
            elif command in ARGUMENTS:
                position = _checked_argument(tex, position, command)
        if depth > MAX_DEPTH:
            raise Refused(
                _("Formulas are nested too deeply (at most %(limit)s levels).")
                % {"limit": MAX_DEPTH}
            )


def _group(tex: str, position: int, command: str) -> tuple[str, int]:
    """The text of the brace group starting at ``position`` (after spaces), and where it ends."""
    match = _GROUP.match(tex, position)
    if not match:
        raise Refused(
            _("%(command)s needs a simple {…} argument in comments.") % {"command": command}
        )
    return match.group(1), match.end()


def _environment(tex: str, position: int, command: str) -> int:
    name, position = _group(tex, position, command)
    if name not in ENVIRONMENTS:
        raise Refused(
            _("The environment %(name)s cannot be used in comments.") % {"name": name[:40]}
        )
    if command == "\\begin" and name == "array":
        preamble, position = _group(tex, position, "\\begin{array}")
        _require("preamble", preamble, "\\begin{array}")
    return position


def _line_break(tex: str, position: int) -> int:
    # MathJax reads \\*[length] only when the bracket follows at once.
    if tex.startswith("*", position):
        position += 1
    if not tex.startswith("[", position):
        return position
    end = tex.find("]", position)
    if end < 0:
        return position
    _check_length(tex[position + 1 : end], "\\\\")
    return end + 1


def _checked_argument(tex: str, position: int, command: str) -> int:
    kind = ARGUMENTS[command]
    if kind == "length":
        bare = _BARE_LENGTH.match(tex, position)
        if bare and not tex.startswith("{", position):
            _check_length(bare.group(), command)
            return bare.end()
    value, position = _group(tex, position, command)
    if kind == "length":
        _check_length(value, command)
    elif kind == "colour":
        _require("colour", value, command)
    else:
        _check_css(value, command)
    return position


def _check_length(value: str, command: str) -> None:
    match = _require("length", value, command)
    if float(match.group(2)) * EM_PER_UNIT[match.group(3)] > MAX_LENGTH_EM:
        raise Refused(
            _("%(command)s: lengths in comments are at most %(limit)s em.")
            % {"command": command, "limit": MAX_LENGTH_EM}
        )


def _check_css(value: str, command: str) -> None:
    for declaration in filter(str.strip, value.split(";")):
        name, _colon, css_value = declaration.partition(":")
        if name.strip().lower() not in CSS_PROPERTIES:
            _refuse_value(command, declaration)
        _require("css_value", css_value.strip(), command)
        for number, unit in _PATTERNS["css_length"].findall(css_value):
            if float(number) * EM_PER_UNIT[unit] > MAX_LENGTH_EM:
                raise Refused(
                    _("%(command)s: lengths in comments are at most %(limit)s em.")
                    % {"command": command, "limit": MAX_LENGTH_EM}
                )


def _require(pattern: str, value: str, command: str) -> re.Match:
    match = _PATTERNS[pattern].search(value)
    if not match or match.end() != len(value):  # Python's $ also matches before a final "\n"
        _refuse_value(command, value)
    return match


def _refuse_value(command: str, value: str) -> None:
    raise Refused(
        _("%(command)s cannot be used with “%(value)s” in comments.")
        % {"command": command, "value": value.strip()[:40]}
    )


# Where MathJax finds math in a page (static/js/mathjax-config.js): \(..\), \[..\] and bare
# environments, in the text between two tags (a <br> is part of the text); not in <pre>/<code>.
_OPENER = re.compile(r"\\\(|\\\[|\\begin\{([^}]*)\}")
_SKIPPED_TAGS = {"pre", "code"}


def find_formulas(html: str):
    """The TeX of every formula MathJax would typeset in this (sanitised) comment HTML.

    Raises Refused past MAX_FORMULAS openers, which also bounds the work on hostile input.
    """
    openers = 0
    for text in _TextChunks.of(html):
        position = 0
        while match := _OPENER.search(text, position):
            openers += 1
            if openers > MAX_FORMULAS:
                raise Refused(
                    _("Too many formulas in one comment (at most %(limit)s).")
                    % {"limit": MAX_FORMULAS}
                )
            environment = match.group(1)
            if environment is None:
                close, start = ("\\)" if match.group() == "\\(" else "\\]"), match.end()
            else:  # MathJax parses a bare environment whole, \begin and \end included
                close, start = f"\\end{{{environment}}}", match.start()
            end = _closing(text, match.end(), close)
            if end < 0:
                position = match.end()
                continue
            position = end + len(close)
            yield text[start : end if environment is None else position]


def _closing(text: str, position: int, close: str) -> int:
    """Where ``close`` first appears outside braces, as MathJax's FindTeX looks for it.

    Only a formula's longest allowed length is scanned; a ``close`` further on still counts
    (braces ignored), so that a longer formula is found and refused as too long.
    """
    depth = 0
    limit = min(len(text), position + MAX_FORMULA_CHARS + 1)
    while position < limit:
        if depth == 0 and text.startswith(close, position):
            return position
        char = text[position]
        if char == "\\":
            position += 2
            continue
        depth += {"{": 1, "}": -1}.get(char, 0)
        position += 1
    return text.find(close, limit)


class _TextChunks(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.chunks, self.current, self.skipping = [], [], 0

    @classmethod
    def of(cls, html: str) -> list[str]:
        parser = cls()
        parser.feed(html)
        parser.close()
        parser.flush()
        return parser.chunks

    def flush(self):
        if self.current:
            self.chunks.append("".join(self.current))
        self.current = []

    def handle_starttag(self, tag, attrs):
        if tag == "br":
            self.current.append("\n")
            return
        self.flush()
        self.skipping += tag in _SKIPPED_TAGS

    def handle_endtag(self, tag):
        self.flush()
        self.skipping -= tag in _SKIPPED_TAGS

    def handle_data(self, data):
        if not self.skipping:
            self.current.append(data)
