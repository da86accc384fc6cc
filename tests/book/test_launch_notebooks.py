"""The .ipynb twins of the chapters that the launch buttons open (Colab, Binder, JupyterHub).

They must exist for every notebook chapter, be up to date with the chapter (same code cells, converted by jupytext;
markdown translated from MyST to what Colab and JupyterLab render), start with the setup cell that installs the
course from the repository of ``_config.yml`` at the versions of ``requirements.txt`` — and that cell must do
nothing where ``course_pkg`` is importable. The Binder environment pins the same versions, with torch's CPU build.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import launch_notebooks  # noqa: E402

CHAPTERS = launch_notebooks.chapters()


def test_every_toc_chapter_with_code_has_a_twin_and_all_are_up_to_date(capsys) -> None:
    # every chapter of _toc.yml (read here with plain YAML, independently of launch_notebooks; the intro has no code)
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    listed = {ROOT / f"{c['file']}.md" for part in toc["parts"] for c in part["chapters"]}
    with_code = {p for p in listed if "```{code-cell}" in p.read_text(encoding="utf-8")}
    assert set(CHAPTERS) == with_code and len(with_code) >= 17
    for chapter in CHAPTERS:
        assert chapter.with_suffix(".ipynb").is_file(), (
            f"{chapter.name}: no .ipynb twin (run `make notebooks`)"
        )
    status = launch_notebooks.main(["--check"])
    assert status == 0, capsys.readouterr().err


def _markdown(nb) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_twin_is_the_setup_cell_then_the_chapter(chapter: Path) -> None:
    twin = nbformat.read(chapter.with_suffix(".ipynb"), as_version=4)
    nbformat.validate(twin)
    source = jupytext.read(chapter)
    assert twin.cells[0].cell_type == "markdown" and twin.cells[1].cell_type == "code"
    assert [c.cell_type for c in twin.cells[2:]] == [c.cell_type for c in source.cells]
    assert [c.source for c in twin.cells[2:] if c.cell_type == "code"] == [
        c.source for c in source.cells if c.cell_type == "code"
    ]
    assert all(not c.get("outputs") for c in twin.cells if c.cell_type == "code")
    setup = twin.cells[1].source
    url, branch = launch_notebooks.repository()
    assert f"optdl-course @ git+{url}@{branch}" in setup
    assert twin.metadata.kernelspec.name == "python3"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_twin_markdown_has_no_myst_left(chapter: Path) -> None:
    text = _markdown(nbformat.read(chapter.with_suffix(".ipynb"), as_version=4))
    assert not re.findall(r"\{[\w:-]+\}`", text), "a MyST role is left"
    assert not re.findall(r"^\s*(:::|```\{)", text, re.M), "a MyST directive is left"
    assert not re.findall(r"^\s*\([\w:.-]+\)=\s*$", text, re.M), "a MyST target is left"
    assert not re.findall(r"^\$\$[ \t]*\(", text, re.M), "an equation label is left"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_twin_exercises_are_numbered_and_solutions_fold(chapter: Path) -> None:
    source = chapter.read_text(encoding="utf-8")
    text = _markdown(nbformat.read(chapter.with_suffix(".ipynb"), as_version=4))
    n_exercises = len(re.findall(r"^:{3,}\{exercise\}", source, re.M))
    n_solutions = len(re.findall(r"^:{3,}\{solution\}", source, re.M))
    assert [int(n) for n in re.findall(r"^\*\*Exercise (\d+)\*\*", text, re.M)] == list(
        range(1, n_exercises + 1)
    )
    solved = [int(n) for n in re.findall(r"<details><summary><b>Solution to Exercise (\d+)</b>", text)]
    assert len(solved) == n_solutions and set(solved) <= set(range(1, n_exercises + 1))
    assert text.count("<details>") == text.count("</details>") == n_solutions
    # equations: one \tag per labelled equation of the chapter, numbered 1, 2, ... in order
    n_equations = len(re.findall(r"^[ \t]*\$\$[ \t]*\([^)]+\)[ \t]*$", source, re.M))
    assert [int(n) for n in re.findall(r"\\tag\{(\d+)\}", text)] == list(range(1, n_equations + 1))


def test_twin_citations_are_author_year_text() -> None:
    # transcribed from the papers: the first author's surname (and the second's, for two authors) and the year
    gd = _markdown(nbformat.read(ROOT / "book" / "optimization" / "gradient_descent.ipynb", as_version=4))
    assert "by Cauchy in 1847 (Cauchy, 1847)" in gd
    assert "(Dauphin et al., 2014; Goodfellow et al., 2016)" in gd
    assert "(Pascanu et al., 2013; Goodfellow et al., 2016)" in gd
    # the reference list at the end names each cited paper once, author-year first
    assert re.search(r"^- \*\*Cauchy, 1847\.\*\* ", gd, re.M)
    assert len(re.findall(r"^- \*\*Goodfellow et al\., 2016\.\*\*", gd, re.M)) == 1
    # an equation reference becomes its number: (1) is the chapter's first labelled equation, eq-gd
    assert "Equation (1) is an *iteration*" in gd


def _requirement_lines(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            name = re.match(r"[A-Za-z0-9_.-]+", line).group(0).lower()
            found[name] = line
    return found


def test_setup_cell_pins_the_versions_of_requirements_txt() -> None:
    setup = nbformat.read(CHAPTERS[0].with_suffix(".ipynb"), as_version=4).cells[1].source
    pinned = _requirement_lines(ROOT / "requirements.txt")
    depends = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = [re.match(r"[A-Za-z0-9_.-]+", d).group(0).lower() for d in depends]
    expected = [pinned[n] for n in names if n in pinned]
    assert "torch==2.13.0" in expected  # the exact pin of the CPU build that the book is built with
    installed = re.findall(r"'([^']+)'", setup.split("pip", 1)[1])
    assert sorted(installed[1:]) == sorted(expected)


def test_binder_installs_the_cpu_build_of_torch_at_the_same_versions() -> None:
    text = (ROOT / "binder" / "requirements.txt").read_text(encoding="utf-8")
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in text
    binder = _requirement_lines(ROOT / "binder" / "requirements.txt")
    pinned = _requirement_lines(ROOT / "requirements.txt")
    assert binder["torch"] == pinned["torch"] + "+cpu"
    for name, line in binder.items():
        if name in pinned and name != "torch":
            assert line == pinned[name], f"binder pins {line!r}, requirements.txt {pinned[name]!r}"
    # every package the course depends on is there
    depends = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert {re.match(r"[A-Za-z0-9_.-]+", d).group(0).lower() for d in depends} <= set(binder)
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.11"
    assert "pip install --no-deps" in (ROOT / "binder" / "postBuild").read_text()


def test_stale_or_missing_twin_is_reported(tmp_path, monkeypatch, capsys) -> None:
    # a copy of the book's sources, so that the checkout is never touched
    for name in ("_config.yml", "_toc.yml", "pyproject.toml", "requirements.txt"):
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
    source = nbformat.read(CHAPTERS[0].with_suffix(".ipynb"), as_version=4).cells[1].source
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
    assert call.startswith(f"-m pip install --quiet optdl-course @ git+{url}@{branch} torch==2.13.0 ")
