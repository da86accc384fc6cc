"""Hidden grading spec of ``a6-lbfgs-averaging-init``, derived from the instructor notebook's own test cells.

Every test cell is *replayed*: the notebook's test code (hidden tests included) runs in the trusted grader, with
the student's ``two_loop``, ``polyak_update_``/``ema_update_`` and initializers called in the sandbox
(:mod:`autograder.replay`); its references (``torch.optim.LBFGS``, ``torch.optim.swa_utils``, ``torch.nn.init``),
asserts and tolerances decide. Those references are blocked in the sandbox (``torch.optim.LBFGS`` like every
torch.optim optimizer; the others by name below), so a submission cannot hand them in as its own.

A grade cell earns its points only when all its checks pass (nbgrader's rule).
"""

from __future__ import annotations

from pathlib import Path

from autograder.replay import needed_cells, test_cells
from autograder.sandbox import Limits
from autograder.spec import Check, Spec

ASSIGNMENT = "a6-lbfgs-averaging-init"
SOURCE = Path(__file__).resolve().parents[2] / "assignments" / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"

CHECKS = [
    Check(
        gid,
        gid,
        description="the notebook's own test cell, with your functions called in the sandbox",
        replay=str(SOURCE),
        needs=needed_cells(SOURCE, source),
        dtypes=(),
    )
    for gid, source in test_cells(SOURCE).items()
]

SPEC = Spec(
    assignment=ASSIGNMENT,
    notebook=ASSIGNMENT,
    cells=["two_loop", "averaging", "initializers"],
    checks=CHECKS,
    limits=Limits(wall_s=300.0, check_s=20.0, cpu_s=180, memory_mb=3072, nproc=64),
    blocked=[
        "torch.optim.swa_utils.AveragedModel",
        "torch.optim.swa_utils.get_ema_multi_avg_fn",
        "torch.optim.swa_utils.get_ema_avg_fn",
        "torch.optim.swa_utils.get_swa_multi_avg_fn",
        "torch.optim.swa_utils.get_swa_avg_fn",
        "torch.nn.init.xavier_uniform_",
        "torch.nn.init.xavier_normal_",
        "torch.nn.init.kaiming_uniform_",
        "torch.nn.init.kaiming_normal_",
    ],
    partial_credit=False,
)
