"""The chapters' explorables are found, not listed: every module of ``course_pkg.explore.chapters``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import course_pkg.explore.chapters as chapters
from course_pkg.explore import all_explorables, explorable_modules

TOY = """
from course_pkg.explore import Choice, Explorable


def _compute(a):
    return {"a": a}


def toy_figure():
    return Explorable(
        name="toy-figure", title="toy", params={"a": Choice([1, 2], default=1, label="a")},
        compute=_compute, draw=lambda result, fig: fig.subplots(),
    )


EXPLORABLES = [toy_figure]
"""


@pytest.fixture()
def extra_chapters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A second folder of the chapters package, for toy chapter modules; forgotten again afterwards."""
    monkeypatch.setattr(chapters, "__path__", [*chapters.__path__, str(tmp_path)])
    yield tmp_path
    for name in [m for m in sys.modules if m.startswith("course_pkg.explore.chapters.toy")]:
        del sys.modules[name]


def test_every_file_of_the_subpackage_is_a_chapter_module() -> None:
    files = sorted(p.stem for p in Path(chapters.__file__).parent.glob("*.py") if not p.stem.startswith("_"))
    assert explorable_modules() == [f"course_pkg.explore.chapters.{stem}" for stem in files]
    assert len(files) >= 19 and {"momentum", "sgd", "erm"} <= set(files)
    assert all(key.split(".")[0] in files for key in all_explorables())  # keys: "<chapter>.<factory>"


def test_a_new_module_is_found_and_an_underscored_one_is_not(extra_chapters: Path) -> None:
    (extra_chapters / "toy_chapter.py").write_text(TOY)
    (extra_chapters / "_toy_helpers.py").write_text("X = 1\n")
    assert "course_pkg.explore.chapters.toy_chapter" in explorable_modules()
    assert not any("_toy_helpers" in m for m in explorable_modules())
    found = all_explorables()
    assert found["toy_chapter.toy_figure"]().result(a=2) == {"a": 2}


def test_a_module_without_explorables_is_reported(extra_chapters: Path) -> None:
    (extra_chapters / "toy_empty.py").write_text("VALUE = 1\n")
    with pytest.raises(ValueError, match=r"course_pkg\.explore\.chapters\.toy_empty must define EXPLORABLES"):
        all_explorables()
