"""The data sets of the course: synthetic generators, and one loader per real data set (:func:`load_digits`).

Every generator is deterministic given ``seed`` (an ``int``, a :class:`numpy.random.Generator`, or ``None`` for
fresh entropy) and returns plain float64 numpy arrays. Classification labels are in ``{-1, +1}`` so that the
margin ``y f(x)`` of :mod:`course_pkg.learning.losses` applies directly; :func:`to_01` converts them to
``{0, 1}``. The exception is :func:`two_moons`, the label-noise data set of the ensembles chapter, whose labels are
``{0, 1}`` as scikit-learn's classifiers and the chapter's AdaBoost expect.

Continuous features are drawn from continuous distributions, so ties between samples (which make tree-based
learners and sorting-based tests ambiguous) have probability zero; :func:`make_blobs_2d`
nevertheless checks that every feature column has distinct values.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = [
    "default_regression_function",
    "load_digits",
    "load_digits_standardized",
    "make_blobs_2d",
    "make_regression_1d",
    "make_sparse_logistic_stream",
    "standardize",
    "to_01",
    "to_pm1",
    "two_moons",
]

SeedLike = int | np.random.Generator | None


def _rng(seed: SeedLike) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and not isinstance(seed, int | np.integer):
        raise ValueError(f"seed must be an int, a numpy Generator or None, got {type(seed).__name__}")
    return np.random.default_rng(seed)


def _check_n(n: int, minimum: int = 1) -> int:
    if not isinstance(n, int | np.integer) or isinstance(n, bool):
        raise ValueError(f"n must be an integer, got {type(n).__name__}")
    if n < minimum:
        raise ValueError(f"n must be at least {minimum}, got {n}")
    return int(n)


def _check_nonnegative(name: str, value: float) -> float:
    value = float(value)
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value}")
    return value


def _assert_no_ties(X: np.ndarray) -> None:
    for j in range(X.shape[1]):
        if np.unique(X[:, j]).size != X.shape[0]:
            raise RuntimeError("generated features contain ties; use another seed")


def default_regression_function(x: np.ndarray) -> np.ndarray:
    r"""True regression function of the course's 1-D examples, :math:`f(x) = \sin(\pi x) + x/2`.

    Parameters
    ----------
    x : numpy.ndarray
        Inputs, any shape.

    Returns
    -------
    numpy.ndarray
        :math:`f(x)`, same shape as ``x``.
    """
    x = np.asarray(x, dtype=np.float64)
    return np.sin(np.pi * x) + 0.5 * x


def make_regression_1d(
    n: int,
    noise: float = 0.3,
    f: Callable[[np.ndarray], np.ndarray] | None = None,
    seed: SeedLike = None,
    x_range: tuple[float, float] = (-1.0, 1.0),
) -> tuple[np.ndarray, np.ndarray]:
    r"""Sample a 1-D regression dataset :math:`y = f(x) + \xi`.

    Inputs are uniform on ``x_range`` and the noise is Gaussian, :math:`\xi \sim \mathcal N(0,
    \sigma^2)` with :math:`\sigma` = ``noise``.

    Parameters
    ----------
    n : int
        Number of samples, ``n >= 1``.
    noise : float, default=0.3
        Standard deviation :math:`\sigma` of the additive Gaussian noise (``>= 0``).
    f : callable, optional
        True regression function, vectorized over a numpy array. Default:
        :func:`default_regression_function`.
    seed : int, numpy.random.Generator or None
        Seed of the random generator.
    x_range : tuple of float, default=(-1, 1)
        Interval ``(low, high)`` the inputs are drawn from.

    Returns
    -------
    x : numpy.ndarray of shape (n,)
        Inputs.
    y : numpy.ndarray of shape (n,)
        Noisy targets.
    """
    n = _check_n(n)
    noise = _check_nonnegative("noise", noise)
    low, high = (float(v) for v in x_range)
    if not low < high:
        raise ValueError(f"x_range must satisfy low < high, got {x_range}")
    f = default_regression_function if f is None else f
    rng = _rng(seed)
    x = rng.uniform(low, high, size=n)
    fx = np.asarray(f(x), dtype=np.float64)
    if fx.shape != x.shape:
        raise ValueError(f"f must map an array of shape {x.shape} to the same shape, got {fx.shape}")
    y = fx + noise * rng.standard_normal(n)
    return x, y


def make_blobs_2d(
    n: int, separation: float = 2.0, spread: float = 1.0, seed: SeedLike = None
) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian blobs in the plane, labels in ``{-1, +1}``.

    The class centers are ``(±separation/2, ±separation/2)`` (class +1 in the upper right), each with isotropic
    standard deviation ``spread``. Class sizes are ``ceil(n/2)`` (+1) and ``floor(n/2)`` (-1); the samples are
    returned in random order.

    Parameters
    ----------
    n : int
        Number of samples, ``n >= 2``.
    separation : float, default=2.0
        Distance between the two centers along each axis (``>= 0``).
    spread : float, default=1.0
        Standard deviation of each blob (``> 0``).
    seed : int, numpy.random.Generator or None
        Seed of the random generator.

    Returns
    -------
    X : numpy.ndarray of shape (n, 2)
        Features.
    y : numpy.ndarray of shape (n,)
        Labels in ``{-1.0, +1.0}``.
    """
    n = _check_n(n, minimum=2)
    separation = _check_nonnegative("separation", separation)
    spread = _check_nonnegative("spread", spread)
    if spread == 0:
        raise ValueError("spread must be > 0")
    rng = _rng(seed)
    n_pos = (n + 1) // 2
    y = np.concatenate([np.ones(n_pos), -np.ones(n - n_pos)])
    centers = 0.5 * separation * y[:, None] * np.ones((1, 2))
    X = centers + spread * rng.standard_normal((n, 2))
    order = rng.permutation(n)
    X, y = X[order], y[order]
    _assert_no_ties(X)
    return X, y


def two_moons(n: int = 150, flip: float = 0.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles with Gaussian jitter of standard deviation 0.2 and optional label noise.

    The data set of the ensembles chapter (bagged trees and AdaBoost). The geometry is that of
    :func:`sklearn.datasets.make_moons` with ``noise=0.2``: the first ``n // 2`` points (class 0) lie on the upper
    half of the unit circle around (0, 0), the others (class 1) on the lower half of the unit circle around
    (1, 0.5); the angles are uniform on [0, π] rather than on a grid. The labels are in ``{0, 1}``,
    the points are not shuffled, and a fraction ``flip`` of labels can be flipped.

    Parameters
    ----------
    n : int, default=150
        Number of points, ``n // 2`` of class 0 and the rest of class 1.
    flip : float, default=0.0
        Probability that a label is flipped (label noise), independently for each point.
    seed : int, default=0
        Seed of the random generator. The points do not depend on ``flip``: the flips are drawn last.

    Returns
    -------
    X : numpy.ndarray of shape (n, 2)
        Features.
    y : numpy.ndarray of shape (n,)
        Labels in ``{0, 1}`` (after the flips).
    """
    rng = np.random.default_rng(seed)
    half = n // 2
    t = rng.uniform(0, np.pi, size=n)
    X = np.where(
        (np.arange(n) < half)[:, None],
        np.column_stack([np.cos(t), np.sin(t)]),
        np.column_stack([1 - np.cos(t), 0.5 - np.sin(t)]),
    )
    X = X + 0.2 * rng.standard_normal((n, 2))
    y = (np.arange(n) >= half).astype(int)
    flipped = rng.random(n) < flip
    return X, np.where(flipped, 1 - y, y)


def make_sparse_logistic_stream(
    n: int, d: int = 100, density: float = 0.05, n_relevant: int = 10, seed: SeedLike = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""A stream of sparse examples labelled by a sparse logistic model.

    Each feature of each example is non-zero with probability ``density`` (value :math:`\mathcal N(0, 1)`).
    The true parameter :math:`\theta^\star` has ``n_relevant`` non-zero entries (:math:`\pm 2`, random signs, at
    random positions), and labels are drawn as :math:`P(y = +1 \mid x) = \sigma(\theta^{\star\top} x)`. This is
    the setting of online learning with FTRL-Proximal (click-through-rate prediction).

    Parameters
    ----------
    n : int
        Number of examples, ``n >= 1``.
    d : int, default=100
        Number of features, ``d >= 1``.
    density : float, default=0.05
        Probability that a feature is non-zero, in ``(0, 1]``.
    n_relevant : int, default=10
        Number of non-zero entries of :math:`\theta^\star`, ``0 <= n_relevant <= d``.
    seed : int, numpy.random.Generator or None
        Seed of the random generator.

    Returns
    -------
    X : numpy.ndarray of shape (n, d)
        Features (mostly zeros), in stream order.
    y : numpy.ndarray of shape (n,)
        Labels in ``{-1.0, +1.0}``.
    theta_star : numpy.ndarray of shape (d,)
        The sparse true parameter.
    """
    n = _check_n(n)
    d = _check_n(d)
    if not 0.0 < float(density) <= 1.0:
        raise ValueError(f"density must be in (0, 1], got {density}")
    if not 0 <= int(n_relevant) <= d:
        raise ValueError(f"n_relevant must be in [0, d={d}], got {n_relevant}")
    rng = _rng(seed)
    theta_star = np.zeros(d)
    support = rng.choice(d, size=int(n_relevant), replace=False)
    theta_star[support] = 2.0 * rng.choice([-1.0, 1.0], size=int(n_relevant))
    mask = rng.random((n, d)) < density
    X = np.where(mask, rng.standard_normal((n, d)), 0.0)
    p = 1.0 / (1.0 + np.exp(-(X @ theta_star)))
    y = np.where(rng.random(n) < p, 1.0, -1.0)
    return X, y, theta_star


def standardize(
    X_train: np.ndarray, X_other: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Center and scale features with statistics of the training set only.

    Columns with zero variance in ``X_train`` are centered but not scaled (divided by 1), as
    :class:`sklearn.preprocessing.StandardScaler` does.

    Parameters
    ----------
    X_train : numpy.ndarray of shape (n, d)
        Training features; their column means and (population) standard deviations are used.
    X_other : numpy.ndarray of shape (m, d), optional
        Other features (validation, test) transformed with the training statistics.

    Returns
    -------
    X_train_std : numpy.ndarray of shape (n, d)
        Standardized training features.
    X_other_std : numpy.ndarray of shape (m, d) or None
        Standardized ``X_other`` (``None`` if not given).
    """
    X_train = np.asarray(X_train, dtype=np.float64)
    if X_train.ndim != 2 or X_train.shape[0] == 0:
        raise ValueError(f"X_train must be a non-empty 2-D array, got shape {X_train.shape}")
    mean = X_train.mean(axis=0)
    scale = X_train.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    other = None
    if X_other is not None:
        X_other = np.asarray(X_other, dtype=np.float64)
        if X_other.ndim != 2 or X_other.shape[1] != X_train.shape[1]:
            raise ValueError(
                f"X_other must be 2-D with {X_train.shape[1]} columns like X_train, got shape {X_other.shape}"
            )
        other = (X_other - mean) / scale
    return (X_train - mean) / scale, other


#: The preprocessing rules :func:`load_digits` offers (``scaling``).
DIGITS_SCALINGS = ("standardize", "unit")
#: The splits :func:`load_digits` offers (``split``).
DIGITS_SPLITS = (None, "stratified", "shuffled")


def load_digits(
    classes: tuple[int, ...] | None = None,
    *,
    split: str | None = None,
    seed: int = 0,
    test_size: float = 0.25,
    train_val: tuple[int, int] = (1000, 300),
    scaling: str = "standardize",
    std_offset: float | None = None,
) -> dict[str, np.ndarray]:
    """The 8×8 handwritten digits of :func:`sklearn.datasets.load_digits`: THE loader of this data set.

    Shipped with scikit-learn (n = 1797 images, 64 pixel features with integer intensities 0 … 16, no download).
    Every chapter and experiment that uses the digits loads them here; the options make each one's preprocessing
    explicit (the named presets :func:`load_digits_standardized`,
    :func:`course_pkg.experiments.sgd.load_digits_split`, :func:`course_pkg.experiments.noisy_gradients.
    digits_tensors` and :func:`course_pkg.experiments.choosing.digits_split` are one call of it each).

    Parameters
    ----------
    classes : tuple of int, optional
        Keep only these digits (e.g. ``(3, 8)``); default: all ten. With two classes ``(a, b)`` the labels become
        ``-1.0`` (``a``) and ``+1.0`` (``b``), float64; otherwise they are the digits, int64.
    split : {None, "stratified", "shuffled"}
        ``None``: no split (keys ``X``, ``y``). ``"stratified"``: scikit-learn's
        ``train_test_split(test_size=test_size, random_state=seed, stratify=y)`` (keys ``X_train``, ``y_train``,
        ``X_test``, ``y_test``). ``"shuffled"``: a permutation by ``numpy.random.default_rng(seed)``, the first
        ``train_val[0]`` samples for training, the next ``train_val[1]`` for validation, the rest for testing
        (keys ``X_train``, ``y_train``, ``X_val``, ``y_val``, ``X_test``, ``y_test``).
    seed : int
        Seed of the split.
    test_size : float
        Fraction held out for testing by the ``"stratified"`` split, in (0, 1).
    train_val : tuple of int
        Training and validation sizes of the ``"shuffled"`` split.
    scaling : {"standardize", "unit"}
        ``"standardize"``: subtract the column means and divide by the column (population) standard deviations,
        both of the training samples (all samples without a split). ``"unit"``: intensities divided by 16,
        into [0, 1].
    std_offset : float, optional
        Only with ``"standardize"``: divide by ``std + std_offset``; default ``None`` divides constant columns
        by 1 and the others by their standard deviation (as :class:`sklearn.preprocessing.StandardScaler` and
        :func:`standardize`).

    Returns
    -------
    dict of str to numpy.ndarray
        Features (float64, shape ``(m, 64)``) and labels of each part, keys as described under ``split``.

    Raises
    ------
    ValueError
        If an option is not one of the values above.
    """
    from sklearn.datasets import load_digits as sklearn_digits

    if split not in DIGITS_SPLITS:
        raise ValueError(f"split must be one of {DIGITS_SPLITS}, got {split!r}")
    if scaling not in DIGITS_SCALINGS:
        raise ValueError(f"scaling must be one of {DIGITS_SCALINGS}, got {scaling!r}")
    if std_offset is not None and scaling != "standardize":
        raise ValueError("std_offset applies to scaling='standardize' only")
    if split == "stratified" and not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must lie in (0, 1), got {test_size}")
    X, y = sklearn_digits(return_X_y=True)
    X = X.astype(np.float64)
    y = y.astype(np.int64)
    if classes is not None:
        classes = tuple(int(c) for c in classes)
        bad = [c for c in classes if not 0 <= c <= 9]
        if bad or len(set(classes)) != len(classes) or len(classes) < 2:
            raise ValueError(f"classes must be at least two distinct digits in 0..9, got {classes}")
        keep = np.isin(y, classes)
        X, y = X[keep], y[keep]
        if len(classes) == 2:
            y = np.where(y == classes[1], 1.0, -1.0)
    if split is None:
        parts = {"": (X, y)}
    elif split == "stratified":
        from sklearn.model_selection import train_test_split

        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=test_size, random_state=seed, stratify=y)
        parts = {"_train": (X_tr, y_tr), "_test": (X_te, y_te)}
    else:
        n_train, n_val = (int(k) for k in train_val)
        if n_train < 1 or n_val < 0 or n_train + n_val >= len(y):
            raise ValueError(f"train_val must leave samples for testing out of {len(y)}, got {train_val}")
        perm = np.random.default_rng(seed).permutation(len(y))
        X, y = X[perm], y[perm]
        cut = n_train + n_val
        parts = {"_train": (X[:n_train], y[:n_train]), "_val": (X[n_train:cut], y[n_train:cut])}
        parts["_test"] = (X[cut:], y[cut:])
    if scaling == "unit":
        return {
            f"{k}{suffix}": v / 16.0 if k == "X" else v
            for suffix, xy in parts.items()
            for k, v in zip("Xy", xy)
        }
    fit = parts["" if split is None else "_train"][0]
    mean = fit.mean(axis=0)
    std = fit.std(axis=0)
    scale = np.where(std > 0, std, 1.0) if std_offset is None else std + std_offset
    return {
        f"{k}{suffix}": (v - mean) / scale if k == "X" else v
        for suffix, xy in parts.items()
        for k, v in zip("Xy", xy)
    }


def load_digits_standardized(classes: tuple[int, ...] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The digits standardized over all returned samples: ``load_digits(classes)`` as ``(X, y)``.

    Parameters
    ----------
    classes : tuple of int, optional
        Keep only these digits (e.g. ``(3, 8)`` for a binary problem, labels ``-1``/``+1``); default: all ten.

    Returns
    -------
    X : numpy.ndarray of shape (n, 64)
        Standardized pixel features, float64 (constant pixels only centered).
    y : numpy.ndarray of shape (n,)
        Digit labels (int64), or ``-1.0``/``+1.0`` with two classes.
    """
    digits = load_digits(classes)
    return digits["X"], digits["y"]


def to_01(y: np.ndarray) -> np.ndarray:
    """Map labels in ``{-1, +1}`` to ``{0, 1}`` (float64).

    Parameters
    ----------
    y : numpy.ndarray
        Labels in ``{-1, +1}``.

    Returns
    -------
    numpy.ndarray
        ``(y + 1) / 2``.
    """
    y = np.asarray(y, dtype=np.float64)
    if not np.all(np.isin(y, (-1.0, 1.0))):
        raise ValueError("labels must be in {-1, +1}")
    return (y + 1.0) / 2.0


def to_pm1(y: np.ndarray) -> np.ndarray:
    """Map labels in ``{0, 1}`` to ``{-1, +1}`` (float64).

    Parameters
    ----------
    y : numpy.ndarray
        Labels in ``{0, 1}``.

    Returns
    -------
    numpy.ndarray
        ``2 y - 1``.
    """
    y = np.asarray(y, dtype=np.float64)
    if not np.all(np.isin(y, (0.0, 1.0))):
        raise ValueError("labels must be in {0, 1}")
    return 2.0 * y - 1.0
