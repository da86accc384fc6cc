"""Replayed test cells draw from the global random generators as a kernel running alone would.

The grader's worker threads replay several submissions' test cells in one process, which has one torch generator,
one NumPy legacy generator and one Python ``random``; nbgrader gives each submission its own kernel. A notebook
whose setup cell seeds and whose test cell draws before and after calling the student must see the same numbers
however many submissions are replayed at once (``autograder.replay.KernelRandomState``).
"""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import nbformat
import numpy as np
import torch

from autograder import cells
from autograder.replay import run_replay
from autograder.sandbox import ProbeResult

SETUP = "import random\nimport numpy as np\nimport torch\ntorch.manual_seed(0)\nnp.random.seed(1)\nrandom.seed(2)\n"
SOLUTION = "def touch():\n    return None\n"
# every draw is compared with what a lone kernel draws after the setup cell (EXPECTED, written into the notebook)
TEST = """
got = []
for _ in range(3):
    got.append((torch.rand(2).tolist(), np.random.rand(2).tolist(), random.random()))
    touch()
assert got == EXPECTED[:3], f"first cell drew {got}"
"""
TEST2 = """
got = [(torch.rand(2).tolist(), np.random.rand(2).tolist(), random.random())]
touch()
assert got == EXPECTED[3:], f"second cell drew {got}"
"""


def _expected() -> list[tuple[list[float], list[float], float]]:
    """Four rounds of draws from fresh generators seeded as the setup cell seeds the global ones."""
    gen = torch.Generator().manual_seed(0)
    legacy = np.random.RandomState(1)
    py = random.Random(2)
    return [(torch.rand(2, generator=gen).tolist(), legacy.rand(2).tolist(), py.random()) for _ in range(4)]


def _notebook(tmp_path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    setup = SETUP + f"EXPECTED = {_expected()!r}\n"
    nb.cells = [
        nbformat.v4.new_code_cell(setup, metadata=cells.metadata("locked", "setup")),
        nbformat.v4.new_code_cell(SOLUTION, metadata=cells.metadata("solution", "touch")),
        nbformat.v4.new_code_cell(TEST, metadata=cells.metadata("tests", "test_draws", pts=1)),
        nbformat.v4.new_code_cell(TEST2, metadata=cells.metadata("tests", "test_draws_again", pts=1)),
    ]
    path = tmp_path / "random.ipynb"
    nbformat.write(nb, path)
    return path


class _SlowSession:
    """Stands in for a sandbox session: each call of the student's function takes a while and returns None, so
    that other threads run between a test cell's draws."""

    def probe(self, payload: bytes, cpu_limit: float) -> ProbeResult:
        time.sleep(0.02)
        return ProbeResult("ok", record={"error": None, "data": {"ret.kind": "NoneType"}})


def test_a_lone_replay_draws_what_the_notebook_expects(tmp_path: Path) -> None:
    nb = _notebook(tmp_path)
    shared: dict = {}
    for cell in ("test_draws", "test_draws_again"):
        out = run_replay(nb, cell, _SlowSession(), "cpu", 10.0, shared)  # type: ignore[arg-type]
        assert out.messages == [], out.messages


def test_concurrent_replays_draw_what_a_lone_kernel_draws(tmp_path: Path) -> None:
    nb = _notebook(tmp_path)
    messages: list[list[str]] = []
    start = threading.Barrier(4)

    def submission() -> None:
        shared: dict = {}  # one submission's kernel
        start.wait()
        for cell in ("test_draws", "test_draws_again"):
            messages.append(run_replay(nb, cell, _SlowSession(), "cpu", 10.0, shared).messages)  # type: ignore[arg-type]

    def other_thread_code() -> None:  # a replay of another notebook that seeds and draws the whole time
        start.wait()
        for _ in range(20):
            run_replay(nb, "test_draws_again", _SlowSession(), "cpu", 10.0, {})  # type: ignore[arg-type]

    threads = [threading.Thread(target=submission) for _ in range(3)] + [
        threading.Thread(target=other_thread_code)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(messages) == 6
    assert all(m == [] for m in messages), messages
