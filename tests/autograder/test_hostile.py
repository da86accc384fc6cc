"""Hostile submissions: each one is scored exactly as an honest grader would, in one grading run.

Every student below submits the same two solution cells of ``ag-demo`` (``SGD``: 2 points, ``square``: 1 point),
one of them hostile. A correct SGD earns 2 and a correct ``square`` earns 1 unless the cheat targets it. The
"snoop" student's ``square`` raises if any read of the spec, another student's notebook or the gradebook, any write
outside its scratch directory, or any network connection succeeds: full marks prove every attempt failed.
"""

from __future__ import annotations

import socket
import textwrap
from pathlib import Path

import pytest
from ag_helpers import CORRECT_SGD, CORRECT_SQUARE, SPECS, scores, submit

from autograder.pipeline import grade_assignment, load_result
from autograder.reports import write_feedback
from autograder.spec import load_spec

WRONG_SGD = CORRECT_SGD.replace('alpha=-group["lr"]', 'alpha=-2 * group["lr"]')
assert WRONG_SGD != CORRECT_SGD

PATCH_COMPARISONS = """
import numpy as np
torch.allclose = lambda *a, **k: True
torch.equal = lambda *a, **k: True
torch.testing.assert_close = lambda *a, **k: None
np.allclose = lambda *a, **k: True
np.array_equal = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
np.isclose = lambda a, b, **k: np.ones(np.shape(a), dtype=bool)
"""

PATCH_BUILTINS = """
import builtins
builtins.AssertionError = type("AssertionError", (Exception,), {})
builtins.abs = lambda x: 0
builtins.max = lambda *a, **k: 0
builtins.all = lambda it: True
builtins.print = lambda *a, **k: None
"""


def sgd_with_step(body: str) -> str:
    """An SGD class whose ``step`` runs ``body``."""
    return (
        "import os\n\n"
        "class SGD(torch.optim.Optimizer):\n"
        "    def __init__(self, params, lr=0.01, momentum=0.0):\n"
        "        super().__init__(params, dict(lr=lr, momentum=momentum))\n\n"
        "    def step(self, closure=None):\n" + textwrap.indent(textwrap.dedent(body), "        ")
    )


def square_returning(expr: str, prefix: str = "") -> str:
    """A ``square`` returning ``expr`` (of ``x``), after ``prefix`` code."""
    return prefix + "\ndef square(x):\n    return " + expr + "\n"


LIAR = """
class Liar(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        return torch.linspace(-2, 3, 11, dtype=torch.float64) ** 2

    def __eq__(self, other):
        return torch.ones(11, dtype=torch.bool)

    def numpy(self, *a, **k):
        import numpy
        return numpy.linspace(-2, 3, 11) ** 2

    def tolist(self):
        return [4.0] * 11
"""


def snoop_square(course: Path, port: int) -> str:
    spec = SPECS / "ag-demo.py"
    repo = Path(__file__).resolve().parents[2]
    reads = [
        spec,
        course / "gradebook.db",
        course / "submitted" / "honest" / "ag-demo" / "ag-demo.ipynb",
        repo / "autograder" / "specs" / "a3-sgd-momentum-schedules.py",  # another course's hidden spec
        repo / "assignments" / "README.md",  # the instructor notebooks (solutions) live next to it
        repo / "course_pkg" / "__init__.py",  # reference implementations
    ]
    writes = [
        course / "gradebook.db",
        course / "submitted" / "honest" / "ag-demo" / "pwned.txt",
        Path(__file__).resolve().parents[2] / "pwned.txt",
        Path("/etc/pwned.txt"),
    ]
    return textwrap.dedent(
        f"""
        import os, socket

        def square(x):
            leaks = []
            for path in {[str(p) for p in reads]!r}:
                try:
                    with open(path, "rb") as fh:
                        fh.read(1)
                    leaks.append("read " + path)
                except OSError:
                    pass
            for path in {[str(p) for p in writes]!r}:
                try:
                    with open(path, "ab") as fh:
                        fh.write(b"pwned")
                    leaks.append("wrote " + path)
                except OSError:
                    pass
            try:
                socket.create_connection(("127.0.0.1", {port}), timeout=1).close()
                leaks.append("network")
            except OSError:
                pass
            with open("scratch-file.txt", "w") as fh:  # the private scratch directory is writable
                fh.write("fine")
            if os.getuid() == 0:
                leaks.append("running as root")
            if leaks:
                raise RuntimeError("sandbox leak: " + ", ".join(leaks))
            return x * x
        """
    )


def cases(course: Path, port: int) -> dict[str, tuple[str | None, str | None, tuple[float, float]]]:
    """student → (SGD cell, square cell, expected (test_sgd, test_square))."""
    return {
        "honest": (CORRECT_SGD, CORRECT_SQUARE, (2, 1)),
        "wrong-square": (CORRECT_SGD, square_returning("2 * x"), (2, 0)),
        "patch-comparisons": (WRONG_SGD + PATCH_COMPARISONS, CORRECT_SQUARE, (0, 1)),
        "patch-builtins": (WRONG_SGD + PATCH_BUILTINS, CORRECT_SQUARE, (0, 1)),
        "sys-exit-cell": (CORRECT_SGD + "\nimport sys\nsys.exit(0)\n", CORRECT_SQUARE, (2, 1)),
        "system-exit-square": (CORRECT_SGD, "def square(x):\n    raise SystemExit(0)\n", (2, 0)),
        "keyboard-interrupt": (CORRECT_SGD, "def square(x):\n    raise KeyboardInterrupt\n", (2, 0)),
        "os-exit-step": (sgd_with_step("os._exit(0)"), CORRECT_SQUARE, (0, 1)),
        "os-exit-load": (CORRECT_SGD + "\nimport os\nos._exit(0)\n", CORRECT_SQUARE, (0, 0)),
        "infinite-loop": (sgd_with_step("while True:\n    pass"), CORRECT_SQUARE, (0, 1)),
        "fork-bomb": (sgd_with_step("while True:\n    os.fork()"), CORRECT_SQUARE, (0, 1)),
        "memory-bomb": (CORRECT_SGD, square_returning("x * x", "hog = bytearray(16 * 1024**3)"), (2, 0)),
        "torch-memory-bomb": (
            CORRECT_SGD,
            "def square(x):\n    hog = torch.ones(2 * 1024**3, dtype=torch.float64)\n    return x * x\n",
            (2, 0),
        ),
        "huge-output": (
            CORRECT_SGD
            + "\nprint('x' * 20_000_000)\nimport sys\nfor i in range(20_000):\n    print(i, file=sys.stderr)\n",
            CORRECT_SQUARE,
            (2, 1),
        ),
        "snoop": (CORRECT_SGD, snoop_square(course, port), (2, 1)),
        "eq-always-true": (
            CORRECT_SGD,
            "class Yes:\n    def __eq__(self, other):\n        return True\n\n    def __float__(self):\n"
            "        return 4.0\n\ndef square(x):\n    return Yes()\n",
            (2, 0),
        ),
        "liar-wrong-values": (
            CORRECT_SGD,
            LIAR + "\ndef square(x):\n    return (2 * x).as_subclass(Liar)\n",
            (2, 0),
        ),
        "liar-right-values": (
            CORRECT_SGD,
            LIAR + "\ndef square(x):\n    return (x * x).as_subclass(Liar)\n",
            (2, 1),
        ),
        "wrong-dtype": (CORRECT_SGD, square_returning("(x * x).float()"), (2, 0)),
        "wrong-shape": (CORRECT_SGD, square_returning("(x * x)[:5]"), (2, 0)),
        "wrong-device": (CORRECT_SGD, square_returning("(x * x).to('meta')"), (2, 0)),
        "nan": (CORRECT_SGD, square_returning("torch.where(x > 2.5, float('nan'), x * x)"), (2, 0)),
        "inf": (CORRECT_SGD, square_returning("torch.where(x < -1.5, float('inf'), x * x)"), (2, 0)),
        "sgd-nan": (
            sgd_with_step("for g in self.param_groups:\n    g['params'][0].data.fill_(float('nan'))"),
            CORRECT_SQUARE,
            (0, 1),
        ),
        "missing-cell": (CORRECT_SGD, None, (2, 0)),
        "forbidden-call": (
            "class SGD(torch.optim.SGD):\n    pass\n",
            CORRECT_SQUARE,
            (0, 1),
        ),
        "wrong-sgd": (WRONG_SGD, CORRECT_SQUARE, (0, 1)),
    }


@pytest.fixture(scope="module")
def hostile_run(generated_course: Path, tmp_path_factory: pytest.TempPathFactory):
    import shutil

    course = tmp_path_factory.mktemp("hostile") / "course"
    shutil.copytree(generated_course, course)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    expected = {}
    for student, (sgd, square, exp) in cases(course, port).items():
        submit(course, student, sgd, square)
        expected[student] = exp
    (course / "submitted" / "corrupt" / "ag-demo").mkdir(parents=True)
    (course / "submitted" / "corrupt" / "ag-demo" / "ag-demo.ipynb").write_text('{"cells": [ not json')
    (course / "submitted" / "no-notebook" / "ag-demo").mkdir(parents=True)
    old = submit(course, "nbformat3")
    old.write_text(old.read_text().replace('"nbformat": 4', '"nbformat": 3'))
    expected.update({"corrupt": (0, 0), "no-notebook": (0, 0), "nbformat3": (0, 0)})
    summary = grade_assignment("ag-demo", course, workers=2, device="cpu", specs_dir=SPECS)
    listener.close()
    return course, summary, expected


def test_every_hostile_submission_is_scored_honestly(hostile_run) -> None:
    course, summary, expected = hostile_run
    got = scores(course)
    wrong = {
        s: (got.get(s), exp)
        for s, exp in expected.items()
        if (got.get(s) or {}).get("test_sgd") != exp[0] or (got.get(s) or {}).get("test_square") != exp[1]
    }
    details = {
        s: [m for o in (load_result(course, "ag-demo", s) or {}).get("outcomes", []) for m in o["messages"]]
        for s in wrong
    }
    assert not wrong, f"mis-scored: {wrong}\n{details}"
    assert summary.students == summary.graded == len(expected)


def test_timeouts_and_failures_are_counted(hostile_run) -> None:
    course, summary, _ = hostile_run
    timed_out = {r.student for r in summary.results if r.timed_out}
    assert "infinite-loop" in timed_out and "honest" not in timed_out
    failed = {r.student for r in summary.results if r.failed}
    assert {"corrupt", "no-notebook", "nbformat3", "missing-cell"} <= failed
    assert "honest" not in failed and "wrong-sgd" not in failed


def test_nothing_escaped_the_sandbox(hostile_run) -> None:
    course, _, _ = hostile_run
    assert not (course / "submitted" / "honest" / "ag-demo" / "pwned.txt").exists()
    assert not (Path(__file__).resolve().parents[2] / "pwned.txt").exists()
    assert not Path("/etc/pwned.txt").exists()
    assert b"pwned" not in (course / "gradebook.db").read_bytes()


def test_output_is_capped_and_messages_explain(hostile_run) -> None:
    course, _, _ = hostile_run
    huge = load_result(course, "ag-demo", "huge-output")
    assert huge is not None and len(huge["stdout"]) < 40_000 and "more bytes not shown" in huge["stdout"]
    loop = load_result(course, "ag-demo", "infinite-loop")
    assert any("time limit" in m for o in loop["outcomes"] for m in o["messages"])
    dtype = load_result(course, "ag-demo", "wrong-dtype")
    assert any(
        "y.dtype: expected 'float64', got 'float32'" in m for o in dtype["outcomes"] for m in o["messages"]
    )


def test_feedback_shows_scores_and_messages_but_no_hidden_code(hostile_run) -> None:
    course, _, _ = hostile_run
    spec = load_spec(SPECS / "ag-demo.py")
    paths = write_feedback(course, spec, ["wrong-sgd", "honest"])
    page = (course / "feedback" / "wrong-sgd" / "ag-demo" / "ag-demo.html").read_text()
    assert len(paths) == 2
    assert "0 / 2" in page and "1 / 1" in page and "cpu" in page
    assert "values differ" in page and "data:image/png;base64," in page
    spec_source = (SPECS / "ag-demo.py").read_text()
    for secret in ("def run_momentum", "_trajectory", "manual_seed"):
        assert secret in spec_source and secret not in page
