"""Extract every TeX formula from the kexue.fm seed pages into ``seed_formulas.json``.

Run once (and again whenever the seeds change) from the repository root::

    .venv/bin/python tests/blog/data/extract_seed_formulas.py [SEEDS_DIR]

The seeds live in ``shared/seeds`` beside the repository (``<repo>/../shared/seeds``); CI clones
the repository without it, so ``tests/blog/test_seed_formulas.py`` reads the JSON written here.

A formula is kept verbatim with its delimiters: ``$$..$$`` (display), ``$..$`` (inline) or a
bare ``\\begin{env}..\\end{env}`` that stands outside any dollar delimiters. Duplicates are
dropped, first occurrence wins, so the output is deterministic.
"""

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
OUTPUT = HERE / "seed_formulas.json"

# Seed pages that hold kexue.fm posts. 002 is a page from another site whose formulas were
# replaced by "[Math]" placeholders; it has no TeX to extract and is skipped on purpose.
SEED_FILES = (
    "000_4c4f0d667055eb72.txt",
    "001_849ac6c16a9b5f8f.txt",
    "003_cd2ff486c44e3a46.txt",
    "004_ba66e2540e67729c.txt",
)


def find_seeds_dir(explicit: str | None = None) -> Path | None:
    candidates = [Path(explicit)] if explicit else []
    candidates.append(REPO.parent / "shared" / "seeds")
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return None


def _env_end(text: str, start: int) -> int:
    """Index just past the ``\\end{env}`` matching the ``\\begin{env}`` at ``start``."""
    name_end = text.index("}", start)
    env = text[start + len("\\begin{") : name_end]
    begin, end = f"\\begin{{{env}}}", f"\\end{{{env}}}"
    depth, i = 0, start
    while True:
        next_begin = text.find(begin, i)
        next_end = text.find(end, i)
        if next_end < 0:
            raise ValueError(f"unclosed {begin} at offset {start}")
        if 0 <= next_begin < next_end:
            depth += 1
            i = next_begin + len(begin)
        else:
            depth -= 1
            i = next_end + len(end)
            if depth == 0:
                return i


def extract_formulas(text: str) -> list[str]:
    """All formulas of one page, in order of appearance."""
    formulas = []
    i = 0
    while i < len(text):
        if text.startswith("$$", i):
            close = text.index("$$", i + 2)
            formulas.append(text[i : close + 2])
            i = close + 2
        elif text[i] == "$":
            close = i + 1
            while text[close] != "$":
                close += 2 if text[close] == "\\" else 1
            formulas.append(text[i : close + 1])
            i = close + 1
        elif text.startswith("\\begin{", i):
            end = _env_end(text, i)
            formulas.append(text[i:end])
            i = end
        elif text[i] == "\\":
            i += 2  # an escaped character (e.g. \$) is never a delimiter
        else:
            i += 1
    return formulas


def extract_all(seeds_dir: Path) -> list[str]:
    seen: dict[str, None] = {}
    for name in SEED_FILES:
        for formula in extract_formulas((seeds_dir / name).read_text(encoding="utf-8")):
            seen.setdefault(formula, None)
    return list(seen)


def main(argv: list[str]) -> int:
    seeds_dir = find_seeds_dir(argv[1] if len(argv) > 1 else None)
    if seeds_dir is None:
        print("seeds not found: pass the seeds directory as the first argument", file=sys.stderr)
        return 1
    formulas = extract_all(seeds_dir)
    OUTPUT.write_text(json.dumps(formulas, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {len(formulas)} formulas to {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
