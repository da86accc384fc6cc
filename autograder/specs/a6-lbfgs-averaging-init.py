"""Hidden grading spec of ``a6-lbfgs-averaging-init``, derived from the instructor notebook's own test cells.

This is the spec every assignment without a spec file gets (:func:`autograder.spec.notebook_spec`): every test cell
is *replayed*, the notebook's test code (hidden tests included) running in the trusted grader with the student's
``two_loop``, ``polyak_update_``/``ema_update_`` and initializers called in the sandbox (:mod:`autograder.replay`);
its references (``torch.optim.LBFGS``, ``torch.optim.swa_utils``, ``torch.nn.init``), asserts and tolerances
decide. What a6 adds:

* a longer per-check CPU budget: the averaging cells call the student's update once per training step, the
  initializer cells draw dozens of tensors;
* the references blocked in the sandbox, so that a submission cannot hand them in as its own
  (``torch.optim.LBFGS`` is blocked like every torch.optim optimizer; the others by name below).

A grade cell earns its points only when all its checks pass (nbgrader's rule).
"""

from __future__ import annotations

from autograder.sandbox import Limits
from autograder.spec import instructor_notebook, notebook_spec

ASSIGNMENT = "a6-lbfgs-averaging-init"
SOURCE = instructor_notebook(ASSIGNMENT)  # --course's source/, else the checkout's

SPEC = notebook_spec(SOURCE, limits=Limits(wall_s=300.0, check_s=20.0, cpu_s=180, memory_mb=3072, nproc=64))
SPEC.blocked = [
    "torch.optim.swa_utils.AveragedModel",
    "torch.optim.swa_utils.get_ema_multi_avg_fn",
    "torch.optim.swa_utils.get_ema_avg_fn",
    "torch.optim.swa_utils.get_swa_multi_avg_fn",
    "torch.optim.swa_utils.get_swa_avg_fn",
    "torch.nn.init.xavier_uniform_",
    "torch.nn.init.xavier_normal_",
    "torch.nn.init.kaiming_uniform_",
    "torch.nn.init.kaiming_normal_",
]
