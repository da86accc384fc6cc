"""The sandbox on its own: isolation, limits, clocks and the template's lifecycle (Session API)."""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import sys
from pathlib import Path

import cloudpickle
import pytest

from autograder.sandbox import SANDBOX_UIDS, Job, Limits, Sandbox

LIMITS = Limits(
    wall_s=30.0, check_s=4.0, cpu_s=10, cell_s=4.0, memory_mb=512, nproc=16, fsize_mb=1, wall_slack_s=4.0
)
cloudpickle.register_pickle_by_value(
    sys.modules[__name__]
)  # the probes below travel by value, as a spec's do


def probe_square(ns, device, dtype):  # noqa: ANN001, ANN201 - a probe, as a spec writes one
    import torch

    return {"y": ns["square"](torch.linspace(-2, 3, 11, dtype=torch.float64))}


@pytest.fixture(scope="module")
def box():
    with Sandbox() as sandbox:
        yield sandbox


def run(box: Sandbox, code: str, hide: list[str] | None = None, limits: Limits = LIMITS, probe=probe_square):  # noqa: ANN001
    """Run ``code`` (which must define ``square``) and one probe; return (how the session ended, probe result)."""
    with box.session(Job(cells=[("c", code)], limits=limits, hide=hide or [])) as session:
        out = (
            session.probe(cloudpickle.dumps(probe), limits.check_s) if session.loaded.status == "ok" else None
        )
    return session.result, out, session


def report(expr: str) -> str:
    """A ``square`` whose first output element carries ``expr``'s value (an int)."""
    return f"import os, torch\n\ndef square(x):\n    y = x * x\n    y[0] = float({expr})\n    return y\n"


def first(out) -> float:  # noqa: ANN001
    assert out is not None and out.status == "ok" and out.record["error"] is None, out
    return float(out.record["data"]["y"][0])


@pytest.mark.skipif(os.getuid() != 0, reason="privilege drop needs root")
def test_runs_as_a_private_uid_in_a_private_scratch_dir(box: Sandbox) -> None:
    _, out, _ = run(box, report("os.getuid()"))
    low, span = SANDBOX_UIDS
    assert low <= first(out) < low + span
    _, other, _ = run(box, report("os.getuid()"))
    assert first(other) != first(out)  # consecutive sessions: different wardens, different uids
    _, out, _ = run(box, report("os.getcwd().startswith('/tmp/scratch-') and os.access('.', os.W_OK)"))
    assert first(out) == 1.0


def test_hidden_paths_are_unreadable(box: Sandbox, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "answers.txt").write_text("42")
    os.chmod(secret, 0o755)
    os.chmod(secret / "answers.txt", 0o644)
    code = report(f"os.path.exists({str(secret / 'answers.txt')!r})")
    _, out, _ = run(box, code, hide=[str(secret)])
    assert first(out) == 0.0
    # the grader's own view is untouched
    assert (secret / "answers.txt").read_text() == "42"


@pytest.mark.skipif(os.getuid() != 0, reason="privilege drop needs root")
def test_python_and_the_grader_stay_importable(box: Sandbox) -> None:
    """Modules first imported inside the sandbox (after the private /tmp is mounted) still load, wherever the
    checkout and its virtual environment live (CI clones under /tmp once lost them: a lazy ``import sklearn``
    inside a check failed and an honest submission lost the points)."""
    import sys

    site = next(p for p in sys.path if p.endswith("site-packages") and p.startswith(sys.prefix))
    import autograder

    grader = os.path.dirname(autograder.__file__)
    expr = (
        f"os.path.isdir({site!r}) and os.path.isfile({os.path.join(grader, 'sandbox.py')!r}) "
        "and __import__('importlib').util.find_spec('sklearn') is not None"
    )
    _, out, _ = run(box, report(expr))
    assert first(out) == 1.0


TORCH_STYLE_OPTIMIZER = """import sys, torch
from torch.optim.optimizer import _use_grad_for_differentiable

PRELOADED = "torch._dynamo" in sys.modules


class Halving(torch.optim.Optimizer):  # written like torch's own: its step imports torch._dynamo if not loaded
    def __init__(self, params, lr=0.25):
        super().__init__(params, {"lr": lr, "differentiable": False})

    @_use_grad_for_differentiable
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                p.add_(p.grad, alpha=-group["lr"])
                self.state[p]["n"] = self.state[p].get("n", 0) + 1


theta = torch.nn.Parameter(torch.tensor([2.0], dtype=torch.float64))
opt = Halving([theta])


def square(x):
    for _ in range(2):
        opt.zero_grad()
        (theta * theta).sum().backward()  # g = 2 theta: theta <- theta - 0.25 * 2 theta = theta / 2
        opt.step()
    y = x * x
    y[0], y[1], y[2] = float(PRELOADED), theta.item(), float(opt.state[theta]["n"])
    return y
"""


def test_the_template_preloads_torch_dynamo_for_an_optimizer_written_like_torchs(box: Sandbox) -> None:
    """``torch._dynamo`` (800 modules, seconds of CPU) is imported by the template's warm-up, not on the check's CPU
    clock by a student's first ``step`` decorated like torch's own."""
    _, out, _ = run(box, TORCH_STYLE_OPTIMIZER)
    first(out)
    assert out.record["data"]["y"][:3].tolist() == [1.0, 0.5, 2.0]  # preloaded; 2 -> 1 -> 0.5; two steps


def test_no_network(box: Sandbox) -> None:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    code = (
        "import socket\n\ndef square(x):\n    y = x * x\n    try:\n"
        f"        socket.create_connection(('127.0.0.1', {port}), timeout=1).close()\n"
        "        y[0] = 1.0\n    except OSError:\n        y[0] = 0.0\n    return y\n"
    )
    res, out, _ = run(box, code)
    srv.close()
    assert first(out) == 0.0, res.notes


def test_cpu_limit_kills_the_process_tree(box: Sandbox) -> None:
    code = "import os, time\n\ndef square(x):\n    if os.fork() == 0:\n        time.sleep(60)\n    while True:\n        pass\n"
    res, out, _ = run(
        box, code, limits=dataclasses.replace(LIMITS, wall_slack_s=300.0)
    )  # however loaded the machine
    assert out.status == "timeout" and "CPU time" in out.detail
    assert 3.5 < out.cpu_s < 6.0
    assert res.status == "killed"


def test_sleeping_code_is_stopped_after_the_idle_limit(box: Sandbox) -> None:
    limits = dataclasses.replace(LIMITS, idle_s=3.0)
    res, out, _ = run(box, "import time\n\ndef square(x):\n    time.sleep(60)\n", limits=limits)
    assert out.status == "timeout" and "waiting or sleeping" in out.detail
    assert out.wall_s < 2 * limits.idle_s + 1


def test_a_stalled_cell_is_interrupted_and_the_next_cells_run(box: Sandbox) -> None:
    limits = dataclasses.replace(LIMITS, idle_s=2.0)
    code = "import time\ntime.sleep(600)\n"
    with box.session(Job(cells=[("stall", code), ("c", report("7"))], limits=limits)) as session:
        assert session.loaded.status == "ok", session.loaded
        (error,) = [f for f in session.cell_records if f["kind"] == "cell-error"]
        assert error["name"] == "stall" and "KeyboardInterrupt" in error["error"]
        assert first(session.probe(cloudpickle.dumps(probe_square), limits.check_s)) == 7.0
        assert session.loaded.wall_s < 3 * limits.idle_s


def test_a_stalled_cell_is_interrupted_when_the_grader_ignores_sigint() -> None:
    """A grader started in the background by a shell inherits SIGINT ignored; the cell is interrupted anyway."""
    limits = dataclasses.replace(LIMITS, idle_s=2.0)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        sandbox = Sandbox()
        sandbox.spawn()  # the template inherits SIGINT ignored
    finally:
        signal.signal(signal.SIGINT, previous)
    with (
        sandbox,
        sandbox.session(Job(cells=[("stall", "import time\ntime.sleep(600)\n")], limits=limits)) as s,
    ):
        assert s.loaded.status == "ok", s.loaded
        (error,) = [f for f in s.cell_records if f["kind"] == "cell-error"]
        assert error["name"] == "stall" and "KeyboardInterrupt" in error["error"]


def test_output_and_file_size_are_capped(box: Sandbox) -> None:
    code = (
        "import sys\nprint('a' * 5_000_000)\nprint('b' * 100, file=sys.stderr)\n\n"
        "def square(x):\n    try:\n        with open('big.bin', 'wb') as fh:\n            fh.write(b'0' * (4 << 20))\n"
        "        ok = 0.0\n    except OSError:\n        ok = 1.0\n    y = x * x\n    y[0] = ok\n    return y\n"
    )
    res, out, _ = run(box, code)
    assert len(res.stdout) < 40_000 and "more bytes not shown" in res.stdout
    assert "b" * 100 in res.stderr
    assert first(out) == 1.0  # RLIMIT_FSIZE (1 MB here) refused the 4 MB file


def test_memory_limit(box: Sandbox) -> None:
    code = (
        "def square(x):\n    y = x * x\n    try:\n        hog = bytearray(1 << 30)\n        y[0] = 0.0\n"
        "    except MemoryError:\n        y[0] = 1.0\n    return y\n"
    )
    _, out, _ = run(box, code)
    assert first(out) == 1.0


def test_template_survives_and_restarts(box: Sandbox) -> None:
    res, out, session = run(box, "import os\nos._exit(3)\n")
    assert session.loaded.status == "dead" and "status 3" in session.loaded.detail and out is None
    assert res.exit_code == 3
    res, out, _ = run(box, report("7"))
    assert res.status == "ok" and first(out) == 7.0
    box.close()  # a closed template starts again on the next run
    res, out, _ = run(box, report("8"))
    assert first(out) == 8.0
