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
    Explorables: interactive figures that run live in Jupyter and stay interactive in the static book. The
    framework (``core`` the declaration, ``frames`` the renderer, ``live`` and ``static`` the views) and the
    subpackage ``explore.chapters``, one module per chapter holding that chapter's figures (found, not listed).
curvature
    Methods that use curvature, in numpy: Newton's method, conjugate gradients, BFGS, coordinate descent.
experiments
    The seeded experiments whose numbers the chapters quote and assert (one module per chapter or part).
landscapes
    2-D test functions with analytic gradients, and the path of plain gradient descent on them.
data
    One loader per data set (:func:`data.load_digits`, with explicit preprocessing options) and the synthetic
    generators.

Where chapter code goes
-----------------------
One home per kind: a chapter's *figures* (explorables: compute + draw) in ``explore/chapters/<chapter>.py``; the
*numbers and algorithms* it computes (experiments, training runs, tuned values it asserts) in
``experiments/<chapter>.py``; a *method* reused beyond one chapter in the package proper (``optim``, ``nn``,
``curvature``, ``learning``, ``landscapes``); *data* in ``data.py``, one loader per data set. Imports go from figures to experiments to methods,
never back, and no module imports a chapter's explorables.
"""

__version__ = "0.1.0"
