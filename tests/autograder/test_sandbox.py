"""The sandbox on its own: privilege drop, hidden files, no network, limits, timeouts, output caps."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from ag_helpers import SPECS

from autograder.sandbox import Job, Limits, Sandbox, decode_frames

SPEC = str(SPECS / "ag-demo.py")
LIMITS = Limits(wall_s=10.0, check_s=4.0, cpu_s=10, memory_mb=512, nproc=16, fsize_mb=1)


@pytest.fixture(scope="module")
def box():
    with Sandbox(specs=[SPEC]) as sandbox:
        yield sandbox


def run(box: Sandbox, code: str, hide: list[str] | None = None, limits: Limits = LIMITS):
    """Run ``code`` (which must define ``square``) and return (result, frames)."""
    res = box.run(Job(cells=[("c", code)], spec_path=SPEC, checks=["square"], limits=limits, hide=hide or []))
    frames, problem = decode_frames(res.frames)
    assert problem is None
    return res, {f["name"]: f for f in frames if f["kind"] == "check"}


def report(expr: str) -> str:
    """A ``square`` whose first output element carries ``expr``'s value (an int)."""
    return f"import os, torch\n\ndef square(x):\n    y = x * x\n    y[0] = float({expr})\n    return y\n"


def first(frames: dict) -> float:
    return float(frames["square"]["data"]["y"][0])


@pytest.mark.skipif(os.getuid() != 0, reason="privilege drop needs root")
def test_runs_as_nobody_in_a_private_scratch_dir(box: Sandbox) -> None:
    _, frames = run(box, report("os.getuid()"))
    assert first(frames) == 65534
    _, frames = run(box, report("os.getcwd().startswith('/tmp/scratch-') and os.access('.', os.W_OK)"))
    assert first(frames) == 1.0


def test_hidden_paths_are_unreadable(box: Sandbox, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "answers.txt").write_text("42")
    os.chmod(secret, 0o755)
    os.chmod(secret / "answers.txt", 0o644)
    code = report(f"os.path.exists({str(secret / 'answers.txt')!r})")
    _, frames = run(box, code, hide=[str(secret)])
    assert first(frames) == 0.0
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
    _, frames = run(box, report(expr))
    assert first(frames) == 1.0


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
    res, frames = run(box, code)
    srv.close()
    assert first(frames) == 0.0, res.notes


def test_timeout_kills_the_process_tree(box: Sandbox) -> None:
    code = "import os, time\n\ndef square(x):\n    if os.fork() == 0:\n        os.setsid()\n        time.sleep(60)\n    while True:\n        pass\n"
    res, frames = run(box, code)
    assert res.status == "timeout" and "square" not in frames
    assert 3.5 < res.wall_s < 9.0


def test_output_and_file_size_are_capped(box: Sandbox) -> None:
    code = (
        "import sys\nprint('a' * 5_000_000)\nprint('b' * 100, file=sys.stderr)\n\n"
        "def square(x):\n    try:\n        with open('big.bin', 'wb') as fh:\n            fh.write(b'0' * (4 << 20))\n"
        "        ok = 0.0\n    except OSError:\n        ok = 1.0\n    y = x * x\n    y[0] = ok\n    return y\n"
    )
    res, frames = run(box, code)
    assert len(res.stdout) < 40_000 and "more bytes not shown" in res.stdout
    assert res.stderr.strip() == "b" * 100
    assert first(frames) == 1.0  # RLIMIT_FSIZE (1 MB here) refused the 4 MB file


def test_memory_limit(box: Sandbox) -> None:
    code = (
        "def square(x):\n    y = x * x\n    try:\n        hog = bytearray(1 << 30)\n        y[0] = 0.0\n"
        "    except MemoryError:\n        y[0] = 1.0\n    return y\n"
    )
    _, frames = run(box, code)
    assert first(frames) == 1.0


def test_template_survives_and_restarts(box: Sandbox) -> None:
    res, frames = run(box, "import os\nos._exit(3)\n")
    assert res.status == "exited" and res.exit_code == 3 and not frames
    res, frames = run(box, report("7"))
    assert res.status == "ok" and first(frames) == 7.0
    box.close()  # a closed template starts again on the next run
    res, frames = run(box, report("8"))
    assert first(frames) == 8.0
