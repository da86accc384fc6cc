"""Bootstrap, bagging and boosting: ensembles built from resampled or reweighted data.

* :func:`bootstrap_indices` and :func:`bootstrap_estimate` — resampling with replacement, and the bootstrap
  estimate of a statistic's standard error and percentile interval.
* :class:`Bagging` — average (regression) or majority vote (classification) of one base learner fitted on
  bootstrap samples; the average of :math:`M` predictors of variance :math:`\\sigma_f^2` and pairwise correlation
  :math:`\\rho` has variance :math:`\\rho\\sigma_f^2 + (1 - \\rho)\\sigma_f^2/M`.
* :class:`AdaBoost` — SAMME (multi-class AdaBoost, Zhu et al. 2009) with decision stumps, step for step
  the algorithm of scikit-learn's ``AdaBoostClassifier`` (its only algorithm since version 1.6).
* :class:`GradientBoosting` — gradient boosting for the squared loss with shallow regression trees, the
  algorithm of scikit-learn's ``GradientBoostingRegressor(loss="squared_error")``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import numpy as np

from course_pkg.learning.trees import DecisionStump, DecisionTree, _check_sample_weight, _check_xy

__all__ = [
    "bootstrap_indices",
    "bootstrap_estimate",
    "BootstrapEstimate",
    "Bagging",
    "AdaBoost",
    "GradientBoosting",
]


class Estimator(Protocol):
    """Anything with ``fit(X, y)`` returning itself and ``predict(X)``."""

    def fit(self, X: np.ndarray, y: np.ndarray) -> Any: ...

    def predict(self, X: np.ndarray) -> np.ndarray: ...


def _check_positive_int(name: str, value: int) -> int:
    if isinstance(value, bool) or int(value) != value or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _last(stages: Iterator[np.ndarray]) -> np.ndarray:
    last = deque(stages, maxlen=1)
    if not last:
        raise ValueError("the ensemble has no members")
    return last[0]


def bootstrap_indices(n: int, n_bootstrap: int, seed: int | None = None) -> np.ndarray:
    """Indices of ``n_bootstrap`` bootstrap samples of a dataset of size ``n``.

    Each row draws ``n`` indices uniformly *with replacement* from ``0, ..., n-1``; on average a fraction
    ``(1 - 1/n)**n ≈ 1/e ≈ 0.368`` of the points is left out of a row (its out-of-bag points).

    Parameters
    ----------
    n : int
        Dataset size (positive).
    n_bootstrap : int
        Number of bootstrap samples ``B`` (positive).
    seed : int, optional
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    numpy.ndarray of shape (n_bootstrap, n)
        Integer indices.
    """
    n = _check_positive_int("n", n)
    n_bootstrap = _check_positive_int("n_bootstrap", n_bootstrap)
    return np.random.default_rng(seed).integers(0, n, size=(n_bootstrap, n))


class BootstrapEstimate:
    """Result of :func:`bootstrap_estimate`.

    Attributes
    ----------
    estimate : float
        The statistic on the full data.
    replicates : numpy.ndarray of shape (n_bootstrap,)
        The statistic on each bootstrap sample.
    std_error : float
        Standard deviation of the replicates (the bootstrap standard error).
    ci : tuple of float
        Percentile confidence interval at the requested level.
    """

    def __init__(self, estimate: float, replicates: np.ndarray, level: float):
        self.estimate = float(estimate)
        self.replicates = replicates
        self.std_error = float(np.std(replicates, ddof=1))
        alpha = (1.0 - level) / 2.0
        lo, hi = np.quantile(replicates, [alpha, 1.0 - alpha])
        self.ci = (float(lo), float(hi))
        self.level = level

    def __repr__(self) -> str:
        return (
            f"BootstrapEstimate(estimate={self.estimate:.4g}, std_error={self.std_error:.4g}, "
            f"ci{int(round(100 * self.level))}=({self.ci[0]:.4g}, {self.ci[1]:.4g}))"
        )


def bootstrap_estimate(
    statistic: Callable[[np.ndarray], float],
    data: np.ndarray,
    n_bootstrap: int = 1000,
    level: float = 0.95,
    seed: int | None = None,
) -> BootstrapEstimate:
    """Bootstrap standard error and percentile interval of ``statistic(data)``.

    Parameters
    ----------
    statistic : callable
        Maps an array of samples (rows of ``data``) to a number.
    data : numpy.ndarray of shape (n,) or (n, ...)
        The observed samples.
    n_bootstrap : int, default=1000
        Number of bootstrap samples.
    level : float, default=0.95
        Coverage of the percentile interval, in (0, 1).
    seed : int, optional
        Seed of the resampling.

    Returns
    -------
    BootstrapEstimate
        Point estimate, replicates, standard error and interval.
    """
    data = np.asarray(data)
    if data.ndim == 0 or data.shape[0] == 0:
        raise ValueError("data is empty: at least one sample is required")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie in (0, 1), got {level!r}")
    idx = bootstrap_indices(data.shape[0], n_bootstrap, seed)
    replicates = np.array([statistic(data[row]) for row in idx], dtype=np.float64)
    return BootstrapEstimate(statistic(data), replicates, level)


class Bagging:
    """Bootstrap aggregating: fit copies of a base learner on bootstrap samples and combine them.

    For regression the ensemble predicts the mean of the ``B`` members' predictions; for classification it
    predicts the majority vote (ties go to the smallest label).

    Parameters
    ----------
    base : callable
        A factory returning a fresh, unfitted base learner with ``fit(X, y)`` and ``predict(X)``,
        e.g. ``lambda: DecisionTree("regression")``.
    n_estimators : int, default=10
        Number of members ``B``.
    task : {"regression", "classification"}, default="regression"
        How predictions are combined.
    seed : int, optional
        Seed of :func:`bootstrap_indices`.

    Attributes
    ----------
    estimators_ : list
        The fitted members.
    samples_ : numpy.ndarray of shape (n_estimators, n)
        The bootstrap indices each member was fitted on.

    Notes
    -----
    scikit-learn's ``BaggingRegressor`` gives a member that accepts sample weights the bootstrap as weights
    (how often each point was drawn) instead of repeated rows; for trees the two fits are identical. Its
    random draws come from a different generator, so :meth:`fit` accepts explicit ``sample_indices`` (for
    example ``BaggingRegressor(...).estimators_samples_``) to reproduce another implementation's draws.
    For classification this class takes a hard majority vote, the textbook rule; scikit-learn's
    ``BaggingClassifier`` averages the members' ``predict_proba`` (soft voting) when they have it, so the two can
    disagree on points where the vote is close.
    """

    def __init__(
        self,
        base: Callable[[], Estimator],
        n_estimators: int = 10,
        task: str = "regression",
        seed: int | None = None,
    ):
        if not callable(base):
            raise ValueError("base must be a callable returning a fresh, unfitted estimator")
        if task not in ("regression", "classification"):
            raise ValueError(f"task must be 'regression' or 'classification', got {task!r}")
        self.base = base
        self.n_estimators = _check_positive_int("n_estimators", n_estimators)
        self.task = task
        self.seed = seed

    def fit(self, X: np.ndarray, y: np.ndarray, sample_indices: np.ndarray | None = None) -> Bagging:
        """Fit ``n_estimators`` members on bootstrap samples of ``(X, y)``.

        Parameters
        ----------
        X : numpy.ndarray of shape (n, d)
            Inputs.
        y : numpy.ndarray of shape (n,)
            Targets or labels.
        sample_indices : sequence of index arrays, optional
            One array of row indices per member, used instead of fresh bootstrap draws.

        Returns
        -------
        Bagging
            ``self``, fitted.
        """
        X, y = _check_xy(X, y)
        n = X.shape[0]
        if sample_indices is None:
            samples = list(bootstrap_indices(n, self.n_estimators, self.seed))
        else:
            samples = [np.asarray(s, dtype=np.intp) for s in sample_indices]
            if len(samples) != self.n_estimators:
                raise ValueError(
                    f"sample_indices has {len(samples)} rows, expected n_estimators={self.n_estimators}"
                )
            if any(s.ndim != 1 or s.size == 0 or s.min() < 0 or s.max() >= n for s in samples):
                raise ValueError(f"sample_indices must be non-empty 1-D arrays of indices in [0, {n})")
        if self.task == "classification":
            self.classes_ = np.unique(y)
        self.samples_ = samples
        self.estimators_ = [self.base().fit(X[s], y[s]) for s in samples]
        return self

    def _member_predictions(self, X: np.ndarray) -> np.ndarray:
        if not hasattr(self, "estimators_"):
            raise ValueError("this Bagging ensemble is not fitted yet: call fit(X, y) first")
        return np.stack([np.asarray(e.predict(X)) for e in self.estimators_])

    def _combine(self, preds: np.ndarray) -> np.ndarray:
        if self.task == "regression":
            return preds.astype(np.float64).mean(axis=0)
        votes = (preds[:, :, None] == self.classes_[None, None, :]).sum(axis=0)
        return self.classes_[np.argmax(votes, axis=1)]

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Ensemble prediction: the members' mean (regression) or majority vote (classification).

        Parameters
        ----------
        X : numpy.ndarray of shape (m, d)
            Inputs.

        Returns
        -------
        numpy.ndarray of shape (m,)
            Predictions.
        """
        return self._combine(self._member_predictions(X))

    def staged_predict(self, X: np.ndarray) -> Iterator[np.ndarray]:
        """Predictions of the ensemble of the first ``b`` members, for ``b = 1, ..., B``.

        Parameters
        ----------
        X : numpy.ndarray of shape (m, d)
            Inputs.

        Yields
        ------
        numpy.ndarray of shape (m,)
            Predictions after each member is added.
        """
        preds = self._member_predictions(X)
        for b in range(1, len(preds) + 1):
            yield self._combine(preds[:b])


class AdaBoost:
    """Discrete AdaBoost for C classes (SAMME) with decision stumps.

    With weights :math:`\\omega_i = 1/n` at the start, round :math:`t = 1, \\dots, T` fits a stump :math:`G_t`
    on the weighted data, measures its weighted error
    :math:`\\operatorname{err}_t = \\sum_i \\omega_i \\mathbb 1[G_t(x_i) \\ne y_i]`, gives it the vote
    :math:`\\alpha_t = \\eta\\,(\\log((1-\\operatorname{err}_t)/\\operatorname{err}_t) + \\log(C-1))` and multiplies
    the weight of every misclassified point by :math:`e^{\\alpha_t}` before renormalising. The ensemble predicts
    :math:`\\arg\\max_c \\sum_t \\alpha_t \\mathbb 1[G_t(x) = c]`. For C = 2 and η = 1 this is Freund and
    Schapire's AdaBoost.M1, whose vote :math:`\\log(1/\\beta_t)`, :math:`\\beta_t = \\operatorname{err}_t/(1 -
    \\operatorname{err}_t)`, is :math:`\\alpha_t` (the analysis often halves every vote, which changes no
    prediction), and the training error is at most
    :math:`\\prod_t 2\\sqrt{\\operatorname{err}_t(1-\\operatorname{err}_t)}` (:meth:`training_error_bound`).

    Parameters
    ----------
    n_estimators : int, default=50
        Maximum number of rounds ``T``.
    learning_rate : float, default=1.0
        Shrinkage η of every vote.
    base : callable, optional
        Factory for the weak learner; default ``DecisionStump("classification")``. It must accept
        ``fit(X, y, sample_weight)``.

    Attributes
    ----------
    estimators_ : list
        Fitted weak learners.
    estimator_weights_ : numpy.ndarray
        Votes α_t.
    estimator_errors_ : numpy.ndarray
        Weighted errors err_t.
    sample_weights_ : numpy.ndarray of shape (n_rounds, n)
        The normalised weights each round's learner was fitted with.

    Notes
    -----
    Follows scikit-learn's ``AdaBoostClassifier`` (SAMME) exactly: weights are clipped below at machine
    epsilon before each round; boosting stops early when a learner is perfect (err_t = 0, kept with vote 1) or
    no better than chance (err_t ≥ 1 − 1/C, discarded). With no tied candidate splits (see
    :mod:`course_pkg.learning.trees`) the staged predictions coincide with scikit-learn's.
    """

    def __init__(
        self,
        n_estimators: int = 50,
        learning_rate: float = 1.0,
        base: Callable[[], Any] | None = None,
    ):
        self.n_estimators = _check_positive_int("n_estimators", n_estimators)
        if not (np.isfinite(learning_rate) and learning_rate > 0):
            raise ValueError(f"learning_rate must be positive, got {learning_rate!r}")
        self.learning_rate = float(learning_rate)
        self.base = base if base is not None else (lambda: DecisionStump("classification"))

    def fit(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None) -> AdaBoost:
        """Run the boosting rounds on ``(X, y)``.

        Parameters
        ----------
        X : numpy.ndarray of shape (n, d)
            Inputs.
        y : numpy.ndarray of shape (n,)
            Class labels (at least two classes).
        sample_weight : numpy.ndarray of shape (n,), optional
            Initial weights (normalised to sum to one); uniform by default.

        Returns
        -------
        AdaBoost
            ``self``, fitted.
        """
        X, y = _check_xy(X, y)
        self.classes_ = np.unique(y)
        K = len(self.classes_)
        if K < 2:
            raise ValueError("y has a single class: AdaBoost needs at least two classes")
        w = _check_sample_weight(sample_weight, X.shape[0]).copy()
        w /= w.sum()
        zero = w == 0.0
        eps = np.finfo(np.float64).eps
        self.estimators_, weights, errors, history = [], [], [], []
        for t in range(self.n_estimators):
            w = np.clip(w, eps, None)
            w[zero] = 0.0
            h = self.base().fit(X, y, sample_weight=w)
            incorrect = h.predict(X) != y
            err = float(np.average(incorrect, weights=w))
            if err >= 1.0 - 1.0 / K:
                if not self.estimators_:
                    raise ValueError(
                        "the first weak learner is no better than chance: AdaBoost cannot be fit"
                    )
                break
            self.estimators_.append(h)
            history.append(w.copy())
            errors.append(err)
            if err <= 0:
                weights.append(1.0)
                break
            alpha = self.learning_rate * (np.log((1.0 - err) / err) + np.log(K - 1.0))
            weights.append(alpha)
            if t < self.n_estimators - 1:
                w = np.exp(np.log(w) + alpha * incorrect * (w > 0))
                total = w.sum()
                if not np.isfinite(total) or total <= 0:
                    break
                w /= total
        self.estimator_weights_ = np.asarray(weights)
        self.estimator_errors_ = np.asarray(errors)
        self.sample_weights_ = np.asarray(history)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "estimators_"):
            raise ValueError("this AdaBoost model is not fitted yet: call fit(X, y) first")

    def staged_scores(self, X: np.ndarray) -> Iterator[np.ndarray]:
        """Per-class vote totals :math:`\\sum_{s \\le t} \\alpha_s [h_s(x) = k]` after each round.

        Parameters
        ----------
        X : numpy.ndarray of shape (m, d)
            Inputs.

        Yields
        ------
        numpy.ndarray of shape (m, n_classes)
            Scores, columns ordered as ``classes_``.
        """
        self._check_fitted()
        scores = np.zeros((np.asarray(X).shape[0], len(self.classes_)))
        for h, alpha in zip(self.estimators_, self.estimator_weights_):
            scores = scores + alpha * (h.predict(X)[:, None] == self.classes_[None, :])
            yield scores

    def staged_predict(self, X: np.ndarray) -> Iterator[np.ndarray]:
        """Ensemble predictions after each round.

        Parameters
        ----------
        X : numpy.ndarray of shape (m, d)
            Inputs.

        Yields
        ------
        numpy.ndarray of shape (m,)
            Predicted labels (ties go to the first class).
        """
        for scores in self.staged_scores(X):
            yield self.classes_[np.argmax(scores, axis=1)]

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted labels of the full ensemble.

        Parameters
        ----------
        X : numpy.ndarray of shape (m, d)
            Inputs.

        Returns
        -------
        numpy.ndarray of shape (m,)
            Labels.
        """
        return _last(self.staged_predict(X))

    def margins(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Normalised margins of the labelled points, in [-1, 1].

        The margin of :math:`(x, y)` is the vote for the true class minus the largest vote for another class,
        divided by :math:`\\sum_t \\alpha_t`; it is positive exactly when the point is classified correctly.

        Parameters
        ----------
        X : numpy.ndarray of shape (m, d)
            Inputs.
        y : numpy.ndarray of shape (m,)
            True labels.

        Returns
        -------
        numpy.ndarray of shape (m,)
            Margins.
        """
        X, y = _check_xy(X, y)
        scores = _last(self.staged_scores(X))
        true = y[:, None] == self.classes_[None, :]
        if not np.all(true.any(axis=1)):
            raise ValueError("y contains labels that were not seen during fit")
        own = scores[true]
        other = np.where(true, -np.inf, scores).max(axis=1)
        return (own - other) / self.estimator_weights_.sum()

    def training_error_bound(self) -> np.ndarray:
        """The bound :math:`\\prod_{s \\le t} 2\\sqrt{\\operatorname{err}_s (1 - \\operatorname{err}_s)}` after each round.

        It bounds the training error of binary AdaBoost with ``learning_rate=1`` (Freund & Schapire 1997).

        Returns
        -------
        numpy.ndarray of shape (n_rounds,)
            The bound after rounds 1, 2, ....
        """
        self._check_fitted()
        e = self.estimator_errors_
        return np.cumprod(2.0 * np.sqrt(e * (1.0 - e)))


class GradientBoosting:
    """Gradient boosting for the squared loss with shallow regression trees.

    Start from the constant :math:`F_0 = \\bar y` (the weighted mean); at round :math:`t` fit a depth-limited
    regression tree :math:`h_t` to the residuals :math:`r_i = y_i - F_{t-1}(x_i)`, the negative gradient of
    the loss :math:`\\tfrac12 (y - F)^2`, and update :math:`F_t = F_{t-1} + \\eta\\, h_t`.

    Parameters
    ----------
    n_estimators : int, default=100
        Number of rounds ``T``.
    learning_rate : float, default=0.1
        Shrinkage η.
    max_depth : int, default=3
        Depth of every tree.

    Attributes
    ----------
    init_ : float
        The constant :math:`F_0`.
    estimators_ : list of DecisionTree
        The fitted trees.
    train_loss_ : numpy.ndarray
        Weighted mean squared training error after each round.

    Notes
    -----
    Same algorithm as scikit-learn's ``GradientBoostingRegressor(loss="squared_error", subsample=1.0)``: for
    this loss the leaf values of each tree already minimise the loss, so no leaf update follows the fit.
    scikit-learn's default criterion ``"friedman_mse"`` ranks the splits of a node exactly as the squared
    error used here does.
    """

    def __init__(self, n_estimators: int = 100, learning_rate: float = 0.1, max_depth: int = 3):
        self.n_estimators = _check_positive_int("n_estimators", n_estimators)
        if not (np.isfinite(learning_rate) and learning_rate > 0):
            raise ValueError(f"learning_rate must be positive, got {learning_rate!r}")
        self.learning_rate = float(learning_rate)
        self.max_depth = _check_positive_int("max_depth", max_depth)

    def fit(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None) -> GradientBoosting:
        """Run the boosting rounds on ``(X, y)``.

        Parameters
        ----------
        X : numpy.ndarray of shape (n, d)
            Inputs.
        y : numpy.ndarray of shape (n,)
            Real targets.
        sample_weight : numpy.ndarray of shape (n,), optional
            Non-negative weights.

        Returns
        -------
        GradientBoosting
            ``self``, fitted.
        """
        X, y = _check_xy(X, y)
        y = y.astype(np.float64)
        w = _check_sample_weight(sample_weight, X.shape[0])
        self.init_ = float(np.average(y, weights=w))
        F = np.full(y.shape, self.init_)
        self.estimators_, losses = [], []
        for _ in range(self.n_estimators):
            tree = DecisionTree("regression", max_depth=self.max_depth).fit(X, y - F, sample_weight=w)
            F = F + self.learning_rate * tree.predict(X)
            self.estimators_.append(tree)
            losses.append(float(np.average((y - F) ** 2, weights=w)))
        self.train_loss_ = np.asarray(losses)
        return self

    def staged_predict(self, X: np.ndarray) -> Iterator[np.ndarray]:
        """Predictions :math:`F_t(x)` after each round ``t = 1, ..., T``.

        Parameters
        ----------
        X : numpy.ndarray of shape (m, d)
            Inputs.

        Yields
        ------
        numpy.ndarray of shape (m,)
            Predictions.
        """
        if not hasattr(self, "estimators_"):
            raise ValueError("this GradientBoosting model is not fitted yet: call fit(X, y) first")
        X, _ = _check_xy(X)
        F = np.full(X.shape[0], self.init_)
        for tree in self.estimators_:
            F = F + self.learning_rate * tree.predict(X)
            yield F

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Prediction of the full model :math:`F_T(x)`.

        Parameters
        ----------
        X : numpy.ndarray of shape (m, d)
            Inputs.

        Returns
        -------
        numpy.ndarray of shape (m,)
            Predictions.
        """
        return _last(self.staged_predict(X))
