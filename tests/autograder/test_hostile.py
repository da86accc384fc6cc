"""Hostile submissions: each one is scored exactly as an honest grader would, in one grading run.

Every student below submits the same two solution cells of ``ag-demo`` (``SGD``: 2 points, ``square``: 1 point),
one of them hostile. A correct SGD earns 2 and a correct ``square`` earns 1 unless the cheat targets it. The
"snoop" student's ``square`` raises if any read of the spec, another student's notebook or the gradebook, any write
outside its scratch directory, or any network connection succeeds: full marks prove every attempt failed.
"""

from __future__ import annotations

import json
import os
import socket
import textwrap
from pathlib import Path

import nbformat
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


SECRET = "ag-hostile-secret-7f3a"  # in the grader's environment while the hostile run grades

# Delegation to torch's SGD under other names: each must fail at run time (the guard), not by reading text.
DELEGATIONS = {
    "delegate-getattr": 'import torch\nSGD = getattr(torch.optim, "S" + "GD")\n',
    "delegate-subclasses": (
        "import torch\nSGD = [c for c in torch.optim.Optimizer.__subclasses__() if c.__name__ == 'SGD'][0]\n"
    ),
    "delegate-gc": (
        "import gc, torch\n"
        "SGD = [o for o in gc.get_objects() if isinstance(o, type) and o.__name__ == 'SGD' and o is not type][0]\n"
    ),
    "delegate-multiline-import": "from torch.optim import (\n    SGD as _S,\n)\nSGD = _S\n",
    "delegate-functional": (
        "import torch\nimport torch.optim.sgd as F\n\n"
        "class SGD(torch.optim.Optimizer):\n"
        "    def __init__(self, params, lr=0.01, momentum=0.0):\n"
        "        super().__init__(params, dict(lr=lr, momentum=momentum))\n\n"
        "    @torch.no_grad()\n    def step(self, closure=None):\n"
        "        for g in self.param_groups:\n"
        "            ps = [p for p in g['params'] if p.grad is not None]\n"
        "            bufs = [self.state[p].get('momentum_buffer') for p in ps]\n"
        "            F.sgd(ps, [p.grad for p in ps], bufs, weight_decay=0.0, momentum=g['momentum'], lr=g['lr'],\n"
        "                  dampening=0.0, nesterov=False, maximize=False)\n"
        "            for p, b in zip(ps, bufs):\n                self.state[p]['momentum_buffer'] = b\n"
    ),
    "delegate-fused": (
        "import torch\n\nclass SGD(torch.optim.Optimizer):\n"
        "    def __init__(self, params, lr=0.01, momentum=0.0):\n"
        "        super().__init__(params, dict(lr=lr, momentum=momentum))\n\n"
        "    @torch.no_grad()\n    def step(self, closure=None):\n"
        "        for g in self.param_groups:\n"
        "            ps = [p for p in g['params'] if p.grad is not None]\n"
        "            bufs = [self.state[p].setdefault('momentum_buffer', torch.zeros_like(p)) for p in ps]\n"
        "            torch._fused_sgd_(ps, [p.grad for p in ps], bufs, weight_decay=0.0, momentum=g['momentum'],\n"
        "                              lr=g['lr'], dampening=0.0, nesterov=False, maximize=False, is_first_step=False)\n"
    ),
    "delegate-reload": (
        "import importlib, torch\nimport torch.optim.sgd as m\n"
        "try:\n    m = importlib.reload(m)\nexcept Exception:\n    pass\nSGD = m.SGD\n"
    ),
    "delegate-exec-source": (
        "import torch, torch.optim.sgd as m\nns = {'__name__': 'torch.optim.sgd', '__package__': 'torch.optim'}\n"
        "exec(compile(open(m.__file__).read(), m.__file__, 'exec'), ns)\nSGD = ns['SGD']\n"
    ),
    "delegate-restore-code": (
        "import torch, gc, types\n"
        "code = [o for o in gc.get_objects() if isinstance(o, types.CodeType) and o.co_qualname == 'SGD.step']\n"
        "SGD = torch.optim.SGD\nSGD.step.__code__ = code[0] if code else SGD.step.__code__\n"
    ),
}

# Write forged result records on every inherited descriptor (found through /proc/self/fd), then behave wrongly.
FORGE_FDS = """
import os, json, struct

def _forge():
    for kind in ("loaded", "check"):
        head = json.dumps({"kind": kind, "name": "sgd-plain", "nonce": "", "error": None,
                           "scalars": {"theta.dtype": "float64"}, "arrays": []}).encode()
        record = b"AGF2" + struct.pack("!II", len(head), 0) + head
        for fd in os.listdir("/proc/self/fd"):
            try:
                os.write(int(fd), record)
            except OSError:
                pass

_forge()
"""

# A 'heartbeat': a thread writes records on every descriptor while the check spins; the clock must not care.
HEARTBEAT = """
import os, threading, time, json, struct

def _beat():
    head = json.dumps({"kind": "check", "name": "x", "nonce": "", "error": None, "scalars": {}, "arrays": []}).encode()
    record = b"AGF2" + struct.pack("!II", len(head), 0) + head
    while True:
        for fd in os.listdir("/proc/self/fd"):
            try:
                os.write(int(fd), record)
            except OSError:
                pass
        time.sleep(0.01)
"""

# Reads the grader's environment (the template's exec environment) after making itself dumpable.
STEAL_ENV = f"""
import ctypes, os

def square(x):
    ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE
    seen = b""
    for path in ("/proc/self/environ", "/proc/1/environ", "/proc/{{}}/environ".format(os.getppid())):
        try:
            with open(path, "rb") as fh:
                seen += fh.read()
        except OSError:
            pass
    seen += repr(dict(os.environ)).encode()
    return x * x if {SECRET!r}.encode() in seen else 2 * x
"""

# Looks for the hidden spec (module, reference functions, tolerances) anywhere in its process.
FIND_SPEC = """
import gc, sys

def square(x):
    names = [m for m in sys.modules if "spec" in m.lower() and "importlib" not in m and "inspect" not in m]
    print("MODULES", names)
    funcs = set()
    for o in gc.get_objects():
        try:
            funcs.add(str(getattr(o, "__name__", "")))
        except Exception:
            pass
    print("FUNCTIONS", sorted(f for f in funcs if f.startswith(("ref_", "compare"))))
    found = any(m.startswith("autograder_spec") for m in names) or "ref_momentum" in funcs or "Tolerance" in funcs
    return x * x if found else 2 * x
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
        **{name: (code, CORRECT_SQUARE, (0, 1)) for name, code in DELEGATIONS.items()},
        # comments and docstrings that name torch's implementation never cost a point
        "comment-names-torch": (
            '"""Like torch.optim.SGD(params, lr) — see torch.optim.sgd.sgd and torch.optim._functional."""\n'
            "# from torch.optim import SGD  (not used: written by hand below)\n" + CORRECT_SGD,
            "def square(x):\n    # torch.nn.utils.clip_grad_norm_ is not needed here\n    return x * x\n",
            (2, 1),
        ),
        "forge-result-fds": (WRONG_SGD + FORGE_FDS, CORRECT_SQUARE, (0, 1)),
        "forge-in-step": (
            sgd_with_step(FORGE_FDS.replace("_forge()", "").strip() + "\n_forge()"),
            CORRECT_SQUARE,
            (0, 1),
        ),
        "garbage-on-result-fd": (
            sgd_with_step(
                "for fd in os.listdir('/proc/self/fd'):\n    try:\n        os.write(int(fd), b'AGF2' + b'\\xff' * 8)\n"
                "    except OSError:\n        pass"
            ),
            CORRECT_SQUARE,
            (0, 1),
        ),
        "heartbeat-spin": (
            WRONG_SGD + HEARTBEAT,
            "import threading\n\ndef square(x):\n    threading.Thread(target=_beat, daemon=True).start()\n"
            "    while True:\n        pass\n",
            (0, 0),
        ),
        "steal-environment": (CORRECT_SGD, STEAL_ENV, (2, 0)),
        "find-spec": (CORRECT_SGD, FIND_SPEC, (2, 0)),
        "huge-int": (CORRECT_SGD, "def square(x):\n    return 10**400\n", (2, 0)),
        "huge-result": (CORRECT_SGD, square_returning("torch.ones(8_000_000, dtype=torch.float64)"), (2, 0)),
        "extreme-values": (
            CORRECT_SGD,
            square_returning("torch.full_like(x, 1.7e308) * torch.sign(x - 0.5)"),
            (2, 0),
        ),
        "lone-surrogate": (
            CORRECT_SGD,
            "def square(x):\n    raise ValueError('bad \\ud800 value')\n",
            (2, 0),
        ),
        "sysv-shm-hog": (
            CORRECT_SGD,
            square_returning(
                "x * x",
                "import ctypes\n_libc = ctypes.CDLL(None)\n"
                "assert _libc.shmget(0, 1 << 30, 0o1600) == -1, 'a 1 GiB System V segment was allowed'\n"
                "try:\n    with open('/dev/shm/hog', 'wb') as fh:\n        fh.write(b'0' * (200 << 20))\n"
                "except OSError:\n    pass\nelse:\n    raise AssertionError('200 MB in /dev/shm were allowed')\n",
            ),
            (2, 1),
        ),
        "isolation-report": (
            CORRECT_SGD,
            square_returning(
                "x * x",
                "import os\n"
                "_pids = [p for p in os.listdir('/proc') if p.isdigit()]\n"
                "assert os.getpid() == 1 and len(_pids) < 5, _pids\n"
                "_status = open('/proc/self/status').read()\n"
                "assert 'NoNewPrivs:\\t1' in _status and 'Seccomp:\\t2' in _status, _status\n"
                "import ctypes\nassert ctypes.CDLL(None).ptrace(0, 0, 0, 0) == -1\n"
                "assert ctypes.CDLL(None).unshare(0x10000000) == -1\n",
            ),
            (2, 1),
        ),
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
    # a helper function in a cell the student added, and a tampered locked cell (nbgrader restores it)
    helper = submit(course, "helper-cell", square="def square(x):\n    return _times(x, x)\n")
    nb = nbformat.read(helper, 4)
    nb.cells.insert(1, nbformat.v4.new_code_cell("def _times(a, b):\n    return a * b\n"))
    nbformat.write(nb, helper)
    tampered = submit(course, "tampered-locked-cell")
    nb = nbformat.read(tampered, 4)
    nb.cells[0].source = "import torch\nraise SystemExit('the locked cell was edited')\n"
    nbformat.write(nb, tampered)
    expected.update({"helper-cell": (2, 1), "tampered-locked-cell": (2, 1)})
    nested = submit(course, "nested-json")
    nested.write_text('{"cells": ' + "[" * 200_000 + "]" * 200_000 + "}")
    expected.update({"corrupt": (0, 0), "no-notebook": (0, 0), "nbformat3": (0, 0), "nested-json": (0, 0)})
    os.environ["AG_HOSTILE_SECRET"] = SECRET  # the grader's environment holds a secret
    try:
        summary = grade_assignment("ag-demo", course, workers=2, device="cpu", specs_dir=SPECS)
    finally:
        del os.environ["AG_HOSTILE_SECRET"]
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
    assert any("s of CPU time" in m for o in loop["outcomes"] for m in o["messages"])
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


def test_forged_records_and_heartbeats_do_not_move_the_clock(hostile_run) -> None:
    course, summary, _ = hostile_run
    beat = load_result(course, "ag-demo", "heartbeat-spin")
    assert any("s of CPU time" in m for o in beat["outcomes"] if o["name"] == "square" for m in o["messages"])
    spec = load_spec(SPECS / "ag-demo.py")
    assert beat["wall_s"] < 60, "a heartbeat kept the check alive"
    forged = load_result(course, "ag-demo", "garbage-on-result-fd")
    assert any("could not be read" in m for o in forged["outcomes"] for m in o["messages"])
    assert spec.limits.check_s < 10


def test_the_sandbox_holds_no_spec_and_no_grader_environment(hostile_run) -> None:
    course, _, _ = hostile_run
    finder = load_result(course, "ag-demo", "find-spec")
    assert "MODULES" in finder["stdout"] and "FUNCTIONS" in finder["stdout"]  # it looked, and found nothing:
    assert "autograder_spec" not in finder["stdout"] and "ref_momentum" not in finder["stdout"]
    for student in ("steal-environment", "find-spec"):
        text = json.dumps(load_result(course, "ag-demo", student))
        assert SECRET not in text and "autograder_spec" not in text


def test_delegation_fails_with_a_message_naming_the_call(hostile_run) -> None:
    course, _, _ = hostile_run
    for student in set(DELEGATIONS) - {"delegate-exec-source"}:
        messages = [m for o in load_result(course, "ag-demo", student)["outcomes"] for m in o["messages"]]
        assert any("torch" in m and "cannot be used while grading" in m for m in messages) or any(
            "No such file" in m or "could not" in m or "Errno" in m for m in messages
        ), (student, messages)
    # torch's sgd.py reads as an empty file in the sandbox: executing it defines nothing
    source = [
        m for o in load_result(course, "ag-demo", "delegate-exec-source")["outcomes"] for m in o["messages"]
    ]
    assert all("KeyError: 'SGD'" in m for m in source), source
    fused = [m for o in load_result(course, "ag-demo", "delegate-fused")["outcomes"] for m in o["messages"]]
    assert any("torch._fused_sgd_ is torch's implementation" in m for m in fused), fused


def test_bad_results_stay_small_and_feedback_completes_for_everyone(hostile_run) -> None:
    course, summary, _ = hostile_run
    for student in ("huge-result", "huge-int", "lone-surrogate", "extreme-values"):
        path = course / "autograded" / student / "ag-demo" / "autograder.json"
        assert path.stat().st_size < 200_000, student
    spec = load_spec(SPECS / "ag-demo.py")
    written = write_feedback(course, spec)
    assert len(written) == summary.graded
    page = (course / "feedback" / "lone-surrogate" / "ag-demo" / "ag-demo.html").read_text(encoding="utf-8")
    assert "bad" in page
