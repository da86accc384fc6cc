"""Hidden grading spec of ``a3-sgd-momentum-schedules``, derived from the instructor notebook's own test cells.

This is the spec every assignment without a spec file gets (:func:`autograder.spec.notebook_spec`), with a3's
limits and a longer CPU budget for the training cell:

* Test cells made of the optimizer helpers (``check_against_torch``, ``check_same_error``, ``check_defaults``,
  ``check_state_dict_roundtrip``, also inside the notebook's device loops) become lockstep checks: the student's
  ``SGD`` runs in the sandbox, ``torch.optim.SGD`` in the trusted grader (:mod:`autograder.optim_checks`).
* Every other test cell (schedules, clipping, gradient accumulation, training) is *replayed*: the notebook's own
  test code runs in the trusted grader and calls the student's functions in the sandbox (:mod:`autograder.replay`);
  its asserts, types and tolerances decide. The trained model comes back as layers and weights and is evaluated
  on the test split here, never by code in the sandbox.

A grade cell earns its points only when all its checks pass (nbgrader's rule).

CPU limits, with their headroom (CPU seconds the student's process used, measured on the instructor's solution and
the four honest students of ``tests/autograder/students/honest_a3.py``, on a loaded machine): a lockstep check at
most 0.02 s, a replayed test cell other than the training at most 0.05 s, so ``check_s = 2`` leaves 40x headroom
(a stalled function is stopped after 2 s of CPU, not 5); the training cell's replay at most 0.45 s, its 90 s leave
200x. These are CPU seconds, so machine load and ``--workers`` change none of them.
"""

from __future__ import annotations

from autograder.sandbox import Limits
from autograder.spec import instructor_notebook, notebook_spec

ASSIGNMENT = "a3-sgd-momentum-schedules"
SOURCE = instructor_notebook(ASSIGNMENT)  # --course's source/, else the checkout's

SPEC = notebook_spec(
    SOURCE,
    limits=Limits(wall_s=600.0, check_s=2.0, cpu_s=240, memory_mb=3072, nproc=64),
    timeouts={"test_train_digits": 90.0},  # CPU seconds of the replayed training cell
)
