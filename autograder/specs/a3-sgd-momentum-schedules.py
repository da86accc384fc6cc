"""Hidden grading spec of ``a3-sgd-momentum-schedules``, derived from the instructor notebook's own test cells.

* Test cells made of the optimizer helpers (``check_against_torch``, ``check_same_error``, ``check_defaults``,
  ``check_state_dict_roundtrip``, also inside the notebook's device loops) become lockstep checks: the student's
  ``SGD`` runs in the sandbox, ``torch.optim.SGD`` in the trusted grader (:mod:`autograder.optim_checks`).
* Every other test cell (schedules, clipping, gradient accumulation, training) is *replayed*: the notebook's own
  test code runs in the trusted grader and calls the student's functions in the sandbox (:mod:`autograder.replay`);
  its asserts, types and tolerances decide. The trained model comes back as layers and weights and is evaluated
  on the test split here, never by code in the sandbox.

A grade cell earns its points only when all its checks pass (nbgrader's rule).
"""

from __future__ import annotations

from autograder.optim_checks import checks_from_notebook
from autograder.replay import needed_cells, test_cells
from autograder.sandbox import Limits
from autograder.spec import Check, Spec, Tolerance, instructor_notebook

ASSIGNMENT = "a3-sgd-momentum-schedules"
SOURCE = instructor_notebook(ASSIGNMENT)  # --course's source/, else the checkout's
TOL = Tolerance(rtol=1e-9, atol=1e-12, rtol32=1e-4, atol32=1e-5)
CPU_S = {"test_train_digits": 90.0}  # CPU seconds of a replayed cell (default: limits.check_s)

OPTIMIZER_CHECKS = checks_from_notebook(SOURCE, TOL)
REPLAYED = [
    Check(
        gid,
        gid,
        description="the notebook's own test cell, with your functions called in the sandbox",
        replay=str(SOURCE),
        needs=needed_cells(SOURCE, source),
        dtypes=(),
        timeout_s=CPU_S.get(gid),
    )
    for gid, source in test_cells(SOURCE).items()
    if gid not in {c.grade_id for c in OPTIMIZER_CHECKS}
]

SPEC = Spec(
    assignment=ASSIGNMENT,
    notebook=ASSIGNMENT,
    cells=["sgd", "schedules", "clipping", "accumulation", "training"],
    checks=OPTIMIZER_CHECKS + REPLAYED,
    limits=Limits(wall_s=600.0, check_s=5.0, cpu_s=240, memory_mb=3072, nproc=64),
    preload=["torch", "numpy", "sklearn.datasets"],
    partial_credit=False,
)
