"""Companion package of the course *Optimization for Deep Learning*.

Subpackages
-----------
optim
    Reference optimizers, learning-rate schedules, gradient clipping and accumulation, written to match
    ``torch.optim`` exactly (these are the solutions students' code is graded against).
learning
    Learning-theory tools: empirical risk, surrogate losses, bias-variance, bootstrap/bagging/boosting,
    cross-validation.
explore
    Explorables: interactive figures that run live in Jupyter and stay interactive in the static book.
landscapes, data
    2-D test functions with analytic gradients, and synthetic datasets.
"""

__version__ = "0.1.0"
