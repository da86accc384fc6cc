"""Chapters use only the public names of ``course_pkg`` (checked on the chapter sources, no build needed).

A chapter that asserts what an explorable shows calls the explorable's own compute
(:meth:`course_pkg.explore.Explorable.result`), and numbers it computes come from ``course_pkg.experiments``;
neither reaches into a module's ``_``-prefixed helpers, which may change without notice. These tests parse every
code cell of every chapter and fail on ``from course_pkg… import _name``, on an import of a ``_``-prefixed
``course_pkg`` module, and on ``alias._name`` where ``alias`` is bound to a ``course_pkg`` module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _chapters() -> list[Path]:
    """Every page of the book: ``book/*.md`` and ``book/<part>/*.md`` (``_``-prefixed folders are not pages)."""
    book = ROOT / "book"
    pages = [*book.glob("*.md"), *book.glob("*/*.md")]
    return sorted(p for p in pages if not p.relative_to(book).parts[0].startswith(("_", ".")))


def _code(text: str) -> str:
    """The chapter's code cells, every other line blanked (so line numbers are the chapter's); cell options
    (``:tags: …``) and IPython magics are blanked too."""
    out, in_cell = [], False
    for line in text.splitlines():
        if not in_cell:
            in_cell = line.startswith("```{code-cell}")
            out.append("")
        elif line.startswith("```"):
            in_cell = False
            out.append("")
        else:
            out.append("" if line.startswith(":") or line.lstrip().startswith(("%", "!")) else line)
    return "\n".join(out)


def _is_course(module: str | None) -> bool:
    return module is not None and (module == "course_pkg" or module.startswith("course_pkg."))


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_uses(code: str) -> list[str]:
    """Every use of a ``_``-prefixed ``course_pkg`` name in ``code``, as ``"line: what"``."""
    tree = ast.parse(code)
    aliases: set[str] = set()  # names bound to course_pkg modules (or to anything imported from course_pkg)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if _is_course(a.name):
                    aliases.add(a.asname or a.name.split(".")[0])
                    if any(_private(part) for part in a.name.split(".")):
                        found.append(f"{node.lineno}: import {a.name}")
        elif isinstance(node, ast.ImportFrom) and _is_course(node.module):
            if any(_private(part) for part in node.module.split(".")):
                found.append(f"{node.lineno}: from {node.module} import …")
            for a in node.names:
                aliases.add(a.asname or a.name)
                if _private(a.name):
                    found.append(f"{node.lineno}: from {node.module} import {a.name}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            base = node.value
            while isinstance(base, ast.Attribute):
                base = base.value
            if isinstance(base, ast.Name) and base.id in aliases:
                found.append(f"{node.lineno}: {ast.unparse(node)}")
    return sorted(set(found), key=lambda s: int(s.split(":")[0]))


@pytest.mark.parametrize("path", _chapters(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_chapter_uses_no_private_course_pkg_name(path: Path) -> None:
    uses = private_uses(_code(path.read_text(encoding="utf-8")))
    assert not uses, (
        f"{path.relative_to(ROOT)} reaches into private course_pkg names (call the explorable's .result(...) or "
        "move the number to course_pkg.experiments):\n" + "\n".join(uses)
    )


def test_the_check_catches_what_it_should() -> None:
    """The rule itself, on a toy chapter: private imports and attributes of course_pkg are caught, nothing else."""
    page = (
        "Prose mentioning `sgd_explore._compute_sharp_flat` is not code.\n"
        "```{code-cell} ipython3\n"
        ":tags: [remove-cell]\n"
        "%matplotlib inline\n"
        "import numpy as np\n"
        "from course_pkg.explore.chapters import sgd as sgd_explore\n"
        "from course_pkg.explore.chapters.momentum import ROSEN_HESSIAN, _rosenbrock_run\n"
        "import course_pkg.explore._textcache as tc\n"
        "```\n"
        "```{code-cell} ipython3\n"
        "frac = sgd_explore._compute_sharp_flat(1, 0.01)\n"
        "ok = sgd_explore.sharp_flat().result(batch_size=1)\n"
        "x = np.random._bit_generator\n"
        "class A:\n"
        "    def __init__(self):\n"
        "        self._hidden = sgd_explore.__name__\n"
        "```\n"
    )
    code = _code(page)
    assert "Prose" not in code and "%matplotlib" not in code
    uses = private_uses(code)
    assert uses == [
        "7: from course_pkg.explore.chapters.momentum import _rosenbrock_run",
        "8: import course_pkg.explore._textcache",
        "11: sgd_explore._compute_sharp_flat",
    ]
    assert private_uses("from course_pkg.explore.chapters import sgd\nsgd.sharp_flat()\n") == []


CHAPTER_EXPLORABLES = "course_pkg.explore.chapters"


def explore_uses(code: str) -> list[tuple[int, str, str]]:
    """Every name a chapter takes from a chapter-explorable module, as ``(line, module, name)``.

    Both ``alias.name`` with ``alias`` bound to ``course_pkg.explore.chapters.<chapter>`` and ``from
    course_pkg.explore.chapters.<chapter> import name`` count.
    """
    tree = ast.parse(code)
    aliases: dict[str, str] = {}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == CHAPTER_EXPLORABLES:
            for a in node.names:
                aliases[a.asname or a.name] = f"{CHAPTER_EXPLORABLES}.{a.name}"
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(CHAPTER_EXPLORABLES + "."):
            found.extend((node.lineno, node.module, a.name) for a in node.names)
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith(CHAPTER_EXPLORABLES + ".") and a.asname:
                    aliases[a.asname] = a.name
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            found.append((node.lineno, aliases[node.value.id], node.attr))
    return sorted(set(found))


@pytest.mark.parametrize("path", _chapters(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_chapter_takes_only_explorables_from_explore(path: Path) -> None:
    """explore/ holds figures: a chapter takes explorable factories from it, and every number or algorithm it
    computes from ``course_pkg.experiments`` or ``course_pkg.data`` (issue 17, item 2)."""
    import importlib

    wrong = []
    for line, module, name in explore_uses(_code(path.read_text(encoding="utf-8"))):
        factories = {factory.__name__ for factory in importlib.import_module(module).EXPLORABLES}
        if name not in factories:
            wrong.append(f"{line}: {module}.{name}")
    assert not wrong, (
        f"{path.relative_to(ROOT)} takes more than explorable factories from explore/ (move the function or "
        "constant to course_pkg.experiments or course_pkg.data, or read it from the explorable's .result()):\n"
        + "\n".join(wrong)
    )


def test_the_explore_check_sees_aliases_and_from_imports() -> None:
    code = _code(
        "```{code-cell} ipython3\n"
        "from course_pkg.explore.chapters import sgd as sgd_explore, adam\n"
        "import course_pkg.explore.chapters.momentum as momentum_explore\n"
        "from course_pkg.explore.chapters.erm import DEGREES, degree_sample_size\n"
        "sgd_explore.sharp_flat()\n"
        "x = momentum_explore.ROSEN_STEPS + adam.adam_dynamics().result()['t']\n"
        "```\n"
    )
    chapters = CHAPTER_EXPLORABLES
    assert explore_uses(code) == [
        (4, f"{chapters}.erm", "DEGREES"),
        (4, f"{chapters}.erm", "degree_sample_size"),
        (5, f"{chapters}.sgd", "sharp_flat"),
        (6, f"{chapters}.adam", "adam_dynamics"),
        (6, f"{chapters}.momentum", "ROSEN_STEPS"),
    ]
