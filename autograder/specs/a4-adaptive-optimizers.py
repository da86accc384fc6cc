"""Hidden grading spec of ``a4-adaptive-optimizers`` (Adagrad, RMSprop, Adadelta).

Every optimizer-helper call of the instructor notebook's test cells (visible and hidden) becomes a check that runs
the student's class in the sandbox and torch.optim in the trusted grader, in lockstep (parameters and state after
every step): the spec :func:`autograder.spec.notebook_spec` derives, with a4's limits. A grade cell earns its points
only when all its checks pass.
"""

from __future__ import annotations

from autograder.sandbox import Limits
from autograder.spec import instructor_notebook, notebook_spec

ASSIGNMENT = "a4-adaptive-optimizers"
SOURCE = instructor_notebook(ASSIGNMENT)  # --course's source/, else the checkout's

SPEC = notebook_spec(SOURCE, limits=Limits(wall_s=180.0, check_s=5.0, cpu_s=180, memory_mb=3072, nproc=64))
