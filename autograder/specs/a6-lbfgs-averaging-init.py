"""Hidden grading spec of ``a6-lbfgs-averaging-init`` (L-BFGS's two-loop recursion, Polyak/EMA averaging, Glorot/He).

The checks are the ones :func:`autograder.spec.notebook_spec` derives from the instructor notebook: every test cell
is *replayed* — its code (hidden tests included) runs in the trusted grader with ``two_loop``, ``polyak_update_``,
``ema_update_`` and the initializers called in the sandbox, and its own references (``torch.optim.LBFGS``,
``torch.optim.swa_utils``, ``torch.nn.init``), asserts and tolerances decide. This file exists to block those
references inside the sandbox (``torch.optim.LBFGS`` is blocked like every torch.optim optimizer), so that a
submission cannot hand torch's implementation in as its own, and to give each check 20 CPU seconds instead of the
derived 5 (the averaging cells call the student's update once per training step, the initializer cells draw dozens
of tensors). A grade cell earns its points only when all its checks pass (nbgrader's rule).
"""

from __future__ import annotations

import dataclasses

from autograder.sandbox import Limits
from autograder.spec import instructor_notebook, notebook_spec

ASSIGNMENT = "a6-lbfgs-averaging-init"
SOURCE = instructor_notebook(ASSIGNMENT)  # --course's source/, else the checkout's

SPEC = dataclasses.replace(
    notebook_spec(SOURCE, limits=Limits(wall_s=300.0, check_s=20.0, cpu_s=180, memory_mb=3072, nproc=64)),
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
)
