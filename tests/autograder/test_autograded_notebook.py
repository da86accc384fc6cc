"""The autograded notebook that nbgrader's own tools show is the executed notebook, with the autograder's verdicts
as the outputs of the locked test cells, never what the student saved there; hidden checks stay hidden in it, in
the feedback page, in the results file and in every export.

One grading run of the small test course (module scope): ``mallory`` has a wrong momentum (a check that this
test's copy of the spec marks hidden), a wrong ``square`` (a visible check), prints a script tag, forges "All hidden
tests passed" under a locked test cell and writes active HTML in markdown and raw cells.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from ag_helpers import CORRECT_SGD, SPECS, env, submit

from autograder.cli import main as cli
from autograder.gradebook import grade_cell_points, open_gradebook
from autograder.notebook import Course
from autograder.reports import export

WRONG_MOMENTUM = CORRECT_SGD.replace('mul_(group["momentum"]).add_(g)', 'mul_(group["momentum"]).add_(2 * g)')
# built at run time, so that the notebook's source never holds the strings the output must not show
PRINTS = (
    '\nprint("<scr" + "ipt>alert(1)</scr" + "ipt>")\nprint("grad_fn=" + chr(60) + "MulBackward0" + chr(62))\n'
)
FORGED = "All hidden tests passed"
HIDDEN_MARKERS = ("theta:", "rtol=1e-07")  # the hidden momentum check's message (the visible one has rtol=0)


@pytest.fixture(scope="module")
def graded(generated_course: Path, tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("autograded-nb")
    course = base / "course"
    shutil.copytree(generated_course, course)
    specs = base / "specs"
    specs.mkdir()
    text = (SPECS / "ag-demo.py").read_text()
    assert '"momentum 0.9",' in text
    (specs / "ag-demo.py").write_text(
        text.replace('"momentum 0.9",', '"momentum 0.9",\n            hidden=True,')
    )

    path = submit(
        course, "mallory", sgd=WRONG_MOMENTUM + PRINTS, square="def square(x):\n    return x ** 3\n"
    )
    nb = nbformat.read(path, 4)
    for cell in nb.cells:
        if cell.metadata["nbgrader"]["grade_id"] == "test_sgd":
            cell.outputs = [
                nbformat.v4.new_output("stream", name="stdout", text=FORGED + "\n"),
                nbformat.v4.new_output(
                    "display_data", data={"text/html": "<b>" + FORGED + "</b>", "text/plain": FORGED}
                ),
            ]
    nb.cells.insert(
        2, nbformat.v4.new_code_cell('print("from the added cell")\nraise ValueError("boom " + "x")')
    )
    nb.cells.insert(3, nbformat.v4.new_code_cell('print("after the error")'))
    nb.cells.append(nbformat.v4.new_markdown_cell("My answer <scr" + "ipt>alert(3)</scr" + "ipt> $a<b$"))
    nb.cells.append(nbformat.v4.new_raw_cell("<scr" + "ipt>alert(4)</scr" + "ipt>"))
    nbformat.write(nb, path)
    submit(course, "alice")

    args = ["--course", str(course), "--specs", str(specs)]
    assert cli([*args, "grade", "ag-demo", "--device", "cpu", "--workers", "2", "--no-progress"]) == 0
    # stock nbgrader's feedback from the autograded copies (kept aside: ours is written to the same place)
    fb = subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_feedback", "ag-demo", "--force"],
        cwd=course,
        env=env(),
        capture_output=True,
        text=True,
    )
    assert fb.returncode == 0, fb.stderr[-3000:]
    stock = base / "nbgrader-feedback"
    shutil.copytree(course / "feedback", stock)
    assert cli([*args, "feedback", "ag-demo"]) == 0
    return course, specs, stock


def cells_by_id(nb: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if "nbgrader" in c.metadata}


def test_test_cells_show_the_autograders_verdicts(graded) -> None:
    course, _, stock = graded
    nb = nbformat.read(course / "autograded" / "mallory" / "ag-demo" / "ag-demo.ipynb", 4)
    nbformat.validate(nb)
    cells = cells_by_id(nb)
    (sgd,) = cells["test_sgd"].outputs
    assert sgd.output_type == "error" and sgd.traceback[0].startswith("FAILED: 1 of 2 check(s)")
    assert "sgd-momentum (cpu, float64): failed (a hidden test" in "\n".join(sgd.traceback)
    (square,) = cells["test_square"].outputs
    assert square.output_type == "error"
    assert (
        "square (cpu, float64):\ny: 9 of 11 values differ; first at index (0,): expected 4.0, got -8.0"
        in ("\n".join(square.traceback))
    )
    # the honest student's cells pass
    ok = cells_by_id(nbformat.read(course / "autograded" / "alice" / "ag-demo" / "ag-demo.ipynb", 4))
    for gid in ("test_sgd", "test_square"):
        (out,) = ok[gid].outputs
        assert out.output_type == "stream" and out.text.startswith("PASSED")
    # the instructor's source and points, the gradebook's max scores
    with open_gradebook(Course(course).db_url) as gb:
        points = grade_cell_points(gb, "ag-demo", "ag-demo")
    for gid, max_score in points.items():
        assert cells[gid].metadata["nbgrader"]["points"] == max_score
    assert "assert torch.allclose(p, torch.tensor([0.9, -2.1]))" in cells["test_sgd"].source


def test_student_cells_carry_their_own_sandbox_outputs_as_text(graded) -> None:
    course, _, stock = graded
    nb = nbformat.read(course / "autograded" / "mallory" / "ag-demo" / "ag-demo.ipynb", 4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    impl = cells_by_id(nb)["sgd_impl"]
    assert [o.output_type for o in impl.outputs] == ["stream"]
    assert impl.outputs[0].text == "&lt;script>alert(1)&lt;/script>\ngrad_fn=<MulBackward0>\n"
    added = next(c for c in code if c.source.startswith('print("from the added cell")'))
    assert [o.output_type for o in added.outputs] == ["stream", "error"]
    assert added.outputs[0].text == "from the added cell\n"
    assert added.outputs[1].ename == "ValueError" and added.outputs[1].evalue == "boom x"
    after = next(c for c in code if c.source == 'print("after the error")')
    assert [o.text for o in after.outputs] == ["after the error\n"]
    kinds = {o.output_type for c in code for o in c.outputs}
    assert kinds <= {"stream", "error"}


def test_no_student_html_script_or_forged_verdict_anywhere(graded) -> None:
    course, _, stock = graded
    autograded = (course / "autograded" / "mallory" / "ag-demo" / "ag-demo.ipynb").read_text()
    nbgrader_page = (stock / "mallory" / "ag-demo" / "ag-demo.html").read_text()
    for text in (autograded, nbgrader_page):
        assert FORGED not in text
        for n in (1, 3, 4):
            assert f"<script>alert({n})" not in text
    assert "FAILED: 1 of 2 check(s) of this cell failed" in nbgrader_page
    assert "PASSED" in (stock / "alice" / "ag-demo" / "ag-demo.html").read_text()


def test_hidden_checks_show_name_and_verdict_only_everywhere(graded, tmp_path: Path) -> None:
    course, specs, stock = graded
    from autograder.spec import load_spec

    spec = load_spec(specs / "ag-demo.py")
    assert spec.check("sgd-momentum").hidden
    gradescope = export(Course(course), spec, "gradescope", tmp_path / "gs") / "mallory" / "results.json"
    doc = json.loads(gradescope.read_text())
    (sgd,) = [t for t in doc["tests"] if t["name"] == "test_sgd"]
    assert (
        sgd["output"]
        == "sgd-momentum (cpu, float64): failed (a hidden test: its arguments and values are not shown)"
    )
    texts = {
        "gradescope": gradescope.read_text(),
        "results file": (course / "autograded" / "mallory" / "ag-demo" / "autograder.json").read_text(),
        "results file nbgrader releases": (stock / "mallory" / "ag-demo" / "autograder.json").read_text(),
        "nbgrader's feedback page": (stock / "mallory" / "ag-demo" / "ag-demo.html").read_text(),
        "feedback page": (course / "feedback" / "mallory" / "ag-demo" / "ag-demo.html").read_text(),
        "autograded notebook": (course / "autograded" / "mallory" / "ag-demo" / "ag-demo.ipynb").read_text(),
    }
    # the hidden check's name and verdict are there ...
    assert all("sgd-momentum" in t for t in texts.values())
    for where, text in texts.items():
        for marker in HIDDEN_MARKERS:
            assert marker not in text, f"{where} shows the hidden check's message ({marker})"
    # ... and the visible failure's message is, in full precision
    assert (
        "expected 4.0, got -8.0" in texts["gradescope"] and "expected 4.0, got -8.0" in texts["feedback page"]
    )


def _test_cell_ids(cells: list) -> list[str]:
    """grade_id of every autograded test cell (a graded code cell that is not a solution), in order."""
    return [
        c.metadata["nbgrader"]["grade_id"]
        for c in cells
        if c.metadata.get("nbgrader", {}).get("grade")
        and c.cell_type == "code"
        and not c.metadata["nbgrader"].get("solution")
    ]


def test_hidden_tests_are_removed_and_a_deleted_test_cell_comes_back(tmp_path: Path) -> None:
    from autograder.notebook import autograded_notebook
    from autograder.spec import Spec

    a3 = "a3-sgd-momentum-schedules"
    source = Path(__file__).resolve().parents[2] / "assignments" / "source" / a3 / f"{a3}.ipynb"
    nb = nbformat.read(source, 4)
    tests = _test_cell_ids(nb.cells)
    hidden_lines, inside = set(), False
    for cell in nb.cells:
        for line in cell.source.splitlines():
            if "### BEGIN HIDDEN TESTS" in line or "### END HIDDEN TESTS" in line:
                inside = "BEGIN" in line
            elif inside and len(line.strip()) > 20:
                hidden_lines.add(line.strip())
    assert hidden_lines and len(tests) > 3
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != tests[0]]
    submitted = tmp_path / "sub.ipynb"
    nbformat.write(nb, submitted)
    result = {"outcomes": [], "cells": [], "scores": {}, "max_scores": {}}
    out = autograded_notebook(submitted, source, result, Spec(a3, a3, [], []))
    text = "\n".join(c.source for c in out.cells)
    assert not [line for line in hidden_lines if line in text]
    got = _test_cell_ids(out.cells)
    assert sorted(got) == sorted(tests) and got[-1] == tests[0]  # the deleted one is appended
    for cell in out.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") in tests:
            (verdict,) = cell.outputs
            assert verdict.text.startswith("Not graded by the autograder")
