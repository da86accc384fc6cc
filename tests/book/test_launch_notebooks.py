"""The .ipynb twins of the chapters that the launch buttons open (Colab, Binder, JupyterHub).

They must exist for every notebook chapter, be up to date with the chapter (same cells, converted by jupytext), start
with the setup cell that installs the course from the repository of ``_config.yml`` — and that cell must do nothing
where ``course_pkg`` is importable.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import launch_notebooks  # noqa: E402

CHAPTERS = launch_notebooks.chapters()


def test_every_toc_chapter_with_code_has_a_twin_and_all_are_up_to_date(capsys) -> None:
    assert len(CHAPTERS) == 15  # every chapter of _toc.yml (the intro has no code)
    for chapter in CHAPTERS:
        assert chapter.with_suffix(".ipynb").is_file(), (
            f"{chapter.name}: no .ipynb twin (run `make notebooks`)"
        )
    status = launch_notebooks.main(["--check"])
    assert status == 0, capsys.readouterr().err


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_twin_is_the_setup_cell_then_the_chapter(chapter: Path) -> None:
    twin = nbformat.read(chapter.with_suffix(".ipynb"), as_version=4)
    nbformat.validate(twin)
    source = jupytext.read(chapter)
    assert [(c.cell_type, c.source) for c in twin.cells[1:]] == [
        (c.cell_type, c.source) for c in source.cells
    ]
    assert all(not c.get("outputs") for c in twin.cells if c.cell_type == "code")
    setup = twin.cells[0].source
    url, branch = launch_notebooks.repository()
    assert f"optdl-course @ git+{url}@{branch}" in setup
    assert twin.metadata.kernelspec.name == "python3"


def test_stale_or_missing_twin_is_reported(tmp_path, monkeypatch, capsys) -> None:
    # a copy of the book's sources, so that the checkout is never touched
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "book", tmp_path / "book", ignore=shutil.ignore_patterns("_vendor", "_build"))
    monkeypatch.setattr(launch_notebooks, "ROOT", tmp_path)
    assert launch_notebooks.main(["--check"]) == 0
    stale = tmp_path / CHAPTERS[0].relative_to(ROOT).with_suffix(".ipynb")
    stale.write_text(
        stale.read_text(encoding="utf-8").replace("Learning goals", "Old goals", 1), encoding="utf-8"
    )
    missing = tmp_path / CHAPTERS[-1].relative_to(ROOT).with_suffix(".ipynb")
    missing.unlink()
    assert launch_notebooks.main(["--check"]) == 1
    err = capsys.readouterr().err
    assert str(stale.relative_to(tmp_path)) in err and str(missing.relative_to(tmp_path)) in err
    assert launch_notebooks.main([]) == 0  # `make notebooks` rewrites both
    assert launch_notebooks.main(["--check"]) == 0


def test_setup_cell_installs_only_where_course_pkg_is_missing(tmp_path) -> None:
    source = nbformat.read(CHAPTERS[0].with_suffix(".ipynb"), as_version=4).cells[0].source
    # stand in for pip: a fake `python -m pip` records its arguments
    probe = tmp_path / "calls.txt"
    runner = (
        "import subprocess, sys\n"
        f"def fake(args, **kw): open({str(probe)!r}, 'a').write(' '.join(args[1:]) + '\\n')\n"
        "subprocess.check_call = fake\n"
        f"exec(compile({source!r}, 'setup-cell', 'exec'))\n"
    )
    assert importlib.util.find_spec("course_pkg") is not None
    subprocess.run([sys.executable, "-c", runner], check=True, cwd=ROOT)
    assert not probe.exists(), "the setup cell ran pip although course_pkg is importable"
    # an interpreter that cannot see course_pkg: isolated mode, no site-packages (nor the editable install's hook)
    subprocess.run([sys.executable, "-I", "-S", "-c", runner], check=True, cwd=tmp_path)
    (call,) = probe.read_text().splitlines()
    url, branch = launch_notebooks.repository()
    assert call == f"-m pip install --quiet optdl-course @ git+{url}@{branch}"
