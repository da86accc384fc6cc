"""Reference optimizers, written to match ``torch.optim`` step for step (the solutions students are graded against).

Each optimizer is a short update rule for one tensor (``sgd_update``, ``adam_update``, ...) under a thin
:class:`torch.optim.Optimizer` subclass with torch's name, constructor arguments, defaults, state keys and error
messages. :class:`FTRL` (FTRL-Proximal, McMahan et al. 2013) has no torch counterpart.
"""

from .accumulation import GradientAccumulator, accumulate
from .adam import Adam, AdamW, adam_update
from .clipping import clip_grad_norm_, clip_grad_value_
from .schedules import (
    CosineAnnealingLR,
    ExponentialLR,
    InverseTimeLR,
    LambdaLR,
    LinearLR,
    MultiStepLR,
    PolynomialLR,
    StepLR,
    WarmupCosine,
)
from .sgd import SGD, sgd_update

__all__ = [
    "SGD",
    "Adam",
    "AdamW",
    "adam_update",
    "sgd_update",
    "StepLR",
    "MultiStepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "LinearLR",
    "PolynomialLR",
    "LambdaLR",
    "WarmupCosine",
    "InverseTimeLR",
    "clip_grad_norm_",
    "clip_grad_value_",
    "accumulate",
    "GradientAccumulator",
]
