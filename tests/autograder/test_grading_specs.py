"""The course's grading specs against the assignments' own notebooks.

In-process (no sandbox): the instructor solution passes every check, the blank release fails every check, and a
deliberately wrong option fails exactly the checks of its grade cell. Then a3 end to end through the sandbox and the
gradebook, with a submission that cheats the way that fooled stock nbgrader (a wrong SGD plus a patched
``torch.allclose``).
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path

import pytest
import torch
from ag_helpers import scores
from helpers.courses import copy_course

from autograder import cells as nbcells
from autograder.grading import reference_output
from autograder.notebook import without_magics
from autograder.pipeline import grade_assignment
from autograder.replay import run_replay
from autograder.sandbox import ProbeResult, decode_records, encode_record, to_plain
from autograder.spec import Spec, compare_outputs, load_spec, spec_path

ROOT = Path(__file__).resolve().parents[2]
SLOW = {
    "test_train_digits",
    "experiment",
}  # trainings: covered end to end below (a3) and by the assignments' tests


def solution_cells(assignment: str, release: bool = False) -> dict[str, str]:
    """The cells of the instructor notebook; with ``release``, solutions replaced by nbgrader's stub."""
    nb = json.loads((ROOT / "assignments" / "source" / assignment / f"{assignment}.ipynb").read_text())
    return {
        gid: "raise NotImplementedError()" if release else source.replace("### ", "# ")
        for gid, source in nbcells.by_grade_id(nb["cells"], "solution").items()
    }


class InProcessSession:
    """A stand-in for :class:`autograder.sandbox.Session` that runs probes on a namespace in this process
    (trusted test code: the assignments' own solutions), through the same record encoding as the sandbox."""

    def __init__(self, ns: dict) -> None:
        self.ns = ns

    def probe(self, payload: bytes, cpu_s: float) -> ProbeResult:
        import pickle

        try:
            record = encode_record(
                "check", "", to_plain(pickle.loads(payload)(self.ns, torch.device("cpu"), torch.float64))
            )
        except Exception as exc:  # noqa: BLE001 - an error record, as the runner sends it
            record = encode_record("check", "", error=f"{type(exc).__name__}: {exc}")
        records, problem = decode_records(record)
        assert problem is None
        return ProbeResult("ok", records[0])


def notebook_namespace(assignment: str, cells: dict[str, str]) -> dict:
    """Every code cell of the instructor notebook except the tests, in order, with ``cells`` as the solutions."""
    nb = json.loads((ROOT / "assignments" / "source" / assignment / f"{assignment}.ipynb").read_text())
    ns: dict = {"__name__": "__main__"}
    with contextlib.redirect_stdout(io.StringIO()):
        for cell in nb["cells"]:
            if cell["cell_type"] != "code" or nbcells.kind(cell) == "tests":
                continue
            source = cells.get(nbcells.grade_id(cell), nbcells.source(cell))
            with contextlib.suppress(Exception):  # as nbgrader: a failing cell does not stop the notebook
                exec(without_magics(source), ns)
    return ns


def failing_cells(spec: Spec, cells: dict[str, str]) -> set[str]:
    """Grade cells with at least one failing check, running the checks in this process (trusted test code)."""
    ns = notebook_namespace(spec.assignment, cells)
    session = InProcessSession(ns)
    failed = set()
    for check in spec.checks:
        if check.name in SLOW:
            continue
        if check.replay is not None:
            if run_replay(Path(check.replay), check.grade_id, session, "cpu", 60.0).messages:  # type: ignore[arg-type]
                failed.add(check.grade_id)
            continue
        try:
            got = to_plain(check.run(ns, torch.device("cpu"), torch.float64))
        except Exception:  # noqa: BLE001 - a raising check is a failing check
            failed.add(check.grade_id)
            continue
        ref = reference_output(spec, check.name, "cpu", "float64")
        compare = check.compare or compare_outputs
        if compare(got, ref, check.tolerance.for_dtype("float64")):
            failed.add(check.grade_id)
    return failed


def _assignment_mutations() -> dict[str, list]:
    """The course's one table of wrong-option submissions (``assignments/tools/mutations.py``)."""
    import importlib.util

    path = ROOT / "assignments" / "tools" / "mutations.py"
    module_spec = importlib.util.spec_from_file_location("assignment_mutations", path)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules["assignment_mutations"] = module  # dataclasses look their module up
    module_spec.loader.exec_module(module)
    return module.MUTATIONS


MUTATIONS = _assignment_mutations()


@pytest.mark.parametrize("assignment", sorted(MUTATIONS))
def test_spec_matches_the_assignment(assignment: str) -> None:
    spec = load_spec(spec_path(assignment))
    graded = {c.grade_id for c in spec.checks if c.name not in SLOW}
    assert failing_cells(spec, solution_cells(assignment)) == set()
    assert failing_cells(spec, solution_cells(assignment, release=True)) == graded


def test_a3_end_to_end_with_a_cheat(tmp_path: Path, generated_assignment) -> None:
    assignment = "a3-sgd-momentum-schedules"
    course = copy_course(generated_assignment(assignment), tmp_path / "course")  # after generate_assignment
    source = json.loads((course / "source" / assignment / f"{assignment}.ipynb").read_text())
    release = json.loads((course / "release" / assignment / f"{assignment}.ipynb").read_text())
    cheat = json.loads(json.dumps(source))
    for cell in cheat["cells"]:
        if nbcells.grade_id(cell) == "sgd":
            src = "".join(cell["source"]).replace("p.add_(g, alpha=-lr)", "p.add_(g, alpha=-2 * lr)")
            cell["source"] = src + "\ntorch.allclose = lambda *a, **k: True\n"
    for student, nb in (("solution", source), ("blank", release), ("cheat", cheat)):
        path = course / "submitted" / student / assignment / f"{assignment}.ipynb"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(nb))
    summary = grade_assignment(assignment, course, workers=2, device="cpu")
    got = scores(course)
    assert summary.graded == 3 and summary.timeouts == 0
    assert sum(got["solution"].values()) == summary.max_score == 20
    assert sum(got["blank"].values()) == 0
    sgd_cells = {g for g in got["cheat"] if g.startswith("test_sgd")} - {"test_sgd_errors"}
    assert all(got["cheat"][g] == 0 for g in sgd_cells)
    assert got["cheat"]["test_sgd_errors"] == 1 and got["cheat"]["test_step_lr"] == 1
    assert got["cheat"]["test_clip_grad_norm"] == 2


@pytest.mark.parametrize("assignment", sorted(MUTATIONS))
def test_specs_agree_with_the_assignments_mutations(assignment: str) -> None:
    """Each wrong option caught by the notebook's tests is caught by the spec, in exactly the same grade cells."""
    spec = load_spec(spec_path(assignment))
    slow_cells = {c.grade_id for c in spec.checks if c.name in SLOW}
    mutations = MUTATIONS[assignment]
    assert mutations, f"no mutations listed for {assignment}"
    for mutation in mutations:
        cells = solution_cells(assignment)
        assert cells[mutation.cell].count(mutation.old) == 1, (
            f"{mutation.student}: its snippet left the solution"
        )
        cells[mutation.cell] = cells[mutation.cell].replace(mutation.old, mutation.new)
        assert failing_cells(spec, cells) == set(mutation.breaks) - slow_cells, mutation.student
