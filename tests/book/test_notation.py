"""The book's one notation, checked on the chapter sources (no build needed).

The notation page (``book/notation.md``) says: inline formulas are written in LaTeX, never in Unicode and never as a
mix of the two within one expression. These tests read every chapter's prose (code cells, inline code, roles and
display math excluded) and fail on a bare Greek letter, a Unicode sub/superscript or a math operator outside
``$…$``, and on Unicode symbols inside ``$…$``. A word such as "bias²" (the name of a quantity, not a formula) and
arrows between layer sizes ("64 → 128 → 10") are prose and allowed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]

# Greek letters, sub/superscripts and the operators that only appear in formulas.
UNICODE_MATH = re.compile(r"[α-ωΑ-Ωϑϕ≤≥≠≈∝∇∑∏√∞ℝ∈ᵀᵗ₀₁₂₃ₜ⁻⁰¹³⁴⁵⁶⁷⁸⁹½¼]|(?<!bias)²")
PROTECTED = re.compile(r"\{[a-z:-]+\}`[^`]*`|`[^`]*`|\$[^$]*\$")


def _chapters() -> list[Path]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc["parts"]:
        files += [c["file"] for c in part["chapters"]]
    return [ROOT / f"{f}.md" for f in files]


def _prose_lines(path: Path):
    """(line number, text) of the prose: outside code cells, fenced blocks, display math and directive options."""
    in_code = in_math = False
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if line.startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            continue
        if line.startswith("$$"):
            in_math = not in_math
            continue
        if in_math or line.startswith(":") or line.startswith("#") or line.lstrip().startswith("|"):
            continue
        yield number, line


@pytest.mark.parametrize("path", _chapters(), ids=lambda p: p.stem)
def test_inline_math_is_latex(path: Path) -> None:
    bare, mixed = [], []
    for number, line in _prose_lines(path):
        for piece in PROTECTED.split(line):
            if UNICODE_MATH.search(piece):
                bare.append(f"{number}: {piece.strip()[:90]}")
        for math in re.findall(r"\$[^$]+\$", re.sub(r"`[^`]*`", "", line)):
            if UNICODE_MATH.search(math.replace("²", "^2")) or "²" in math:
                mixed.append(f"{number}: {math[:90]}")
    assert not bare, f"{path.name}: Unicode math outside $…$ (write it in LaTeX):\n" + "\n".join(bare)
    assert not mixed, f"{path.name}: Unicode inside $…$:\n" + "\n".join(mixed)


def test_the_check_catches_what_it_should(tmp_path: Path) -> None:
    """The rule itself: a bare η, a β₁ᵗ and a mix inside $…$ are caught; code, roles and "bias²" are not."""
    page = tmp_path / "page.md"
    page.write_text(
        "Fine: $\\eta$, `η = 0.1`, {eq}`eq-η`, the bias² term, 64 → 10.\n"
        "```{code-cell}\nlr = 0.1  # η\n```\n"
        "Bare η here.\n"
        "Mixed $θ_t$ here.\n"
    )
    lines = dict(_prose_lines(page))
    assert 1 in lines and 5 in lines and 6 in lines and 3 not in lines
    assert not any(UNICODE_MATH.search(p) for p in PROTECTED.split(lines[1]))
    assert any(UNICODE_MATH.search(p) for p in PROTECTED.split(lines[5]))
    assert UNICODE_MATH.search("$θ_t$")
