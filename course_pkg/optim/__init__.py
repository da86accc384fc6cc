"""Reference optimizers, written to match ``torch.optim`` step for step: the from-scratch code the book runs.

Students are not graded against these classes: the autograder compares a submission with ``torch.optim`` itself
(float64, in lockstep); the tests compare these classes with ``torch.optim`` in the same way.

Each optimizer is a short update rule for one tensor (``sgd_update``, ``adam_update``, ...) under a thin
:class:`torch.optim.Optimizer` subclass with torch's name, constructor arguments, defaults, state keys and error
messages. :class:`LBFGS` (with :mod:`.line_search`'s strong Wolfe search) follows ``torch.optim.LBFGS``.
:class:`FTRL` (FTRL-Proximal, McMahan et al. 2013) has no torch counterpart, nor have the large-batch optimizers
:class:`LARS` (You et al. 2017) and :class:`LAMB` (You et al. 2020).
"""

from .accumulation import GradientAccumulator, accumulate
from .adadelta import Adadelta, adadelta_update
from .adagrad import Adagrad, adagrad_update
from .adam import Adam, AdamW, adam_update
from .clipping import clip_grad_norm_, clip_grad_value_
from .ftrl import FTRL, ftrl_update
from .lamb import LAMB, lamb_update
from .lars import LARS, exclude_bias_and_norm, lars_update, trust_ratio
from .lbfgs import LBFGS, lbfgs_direction
from .line_search import armijo_backtracking, strong_wolfe
from .nadam import NAdam, nadam_update
from .radam import RAdam, radam_update
from .rmsprop import RMSprop, rmsprop_update
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
    "Adagrad",
    "RMSprop",
    "Adadelta",
    "Adam",
    "AdamW",
    "NAdam",
    "RAdam",
    "FTRL",
    "LARS",
    "LAMB",
    "exclude_bias_and_norm",
    "trust_ratio",
    "LBFGS",
    "lbfgs_direction",
    "armijo_backtracking",
    "strong_wolfe",
    "sgd_update",
    "adagrad_update",
    "rmsprop_update",
    "adadelta_update",
    "adam_update",
    "nadam_update",
    "radam_update",
    "ftrl_update",
    "lars_update",
    "lamb_update",
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
