"""Hidden grading spec of ``a4-adaptive-optimizers`` (Adagrad, RMSprop, Adadelta).

Every optimizer-helper call of the instructor notebook's test cells (visible and hidden) becomes a check that runs
the student's class in the sandbox and torch.optim in the trusted grader, in lockstep (parameters and state after
every step). A grade cell earns its points only when all its checks pass.
"""

from __future__ import annotations

from autograder.optim_checks import checks_from_notebook
from autograder.sandbox import Limits
from autograder.spec import Spec, Tolerance, instructor_notebook

ASSIGNMENT = "a4-adaptive-optimizers"
SOURCE = instructor_notebook(ASSIGNMENT)  # --course's source/, else the checkout's
TOL = Tolerance(rtol=1e-9, atol=1e-12, rtol32=1e-4, atol32=1e-5)

SPEC = Spec(
    assignment=ASSIGNMENT,
    notebook=ASSIGNMENT,
    cells=["adagrad", "rmsprop", "adadelta"],
    checks=checks_from_notebook(SOURCE, TOL),
    limits=Limits(wall_s=180.0, check_s=5.0, cpu_s=180, memory_mb=3072, nproc=64),
    partial_credit=False,
)
