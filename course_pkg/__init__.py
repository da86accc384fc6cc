"""Companion package of the course *Optimization for Deep Learning*.

Subpackages
-----------
optim
    Reference optimizers (L-BFGS and its line searches included), learning-rate schedules, gradient clipping and
    accumulation, written to match ``torch.optim`` exactly (students are graded against ``torch.optim`` itself).
learning
    Learning-theory tools: empirical risk, surrogate losses, bias-variance, bootstrap/bagging/boosting,
    cross-validation.
explore
    Explorables: interactive figures that run live in Jupyter and stay interactive in the static book.
curvature
    Methods that use curvature, in numpy: Newton's method, conjugate gradients, BFGS, coordinate descent.
experiments
    The seeded experiments whose numbers the chapters quote (one module per chapter or part).
landscapes, data
    2-D test functions with analytic gradients, and synthetic datasets.
"""

__version__ = "0.1.0"
