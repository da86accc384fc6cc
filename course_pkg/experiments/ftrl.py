r"""Experiments of the chapter "Follow the regularized leader (FTRL)".

- :func:`sparse_logistic_stream`: a stream of sparse binary feature vectors (a few active features per example,
  feature frequencies from frequent to rare, like hashed categorical features in ad-click data) with labels from a
  sparse logistic model.
- :func:`ftrl_proximal`: FTRL-Proximal (McMahan et al. 2013, Algorithm 1) on that stream, one example at a time,
  transcribed per coordinate and touching only the active features.
- :func:`online_gradient_descent`: online (sub)gradient descent with per-coordinate Adagrad-style rates, with L1
  handled either by a subgradient or by soft-thresholding after each step (FOBOS), for comparison.

Every run reports *progressive validation* losses: example :math:`t` is scored with the weights learned from the
examples before it, then used for training — the online log-loss.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "sparse_logistic_stream",
    "ftrl_proximal",
    "ftrl_proximal_path",
    "online_gradient_descent",
    "log_loss",
    "best_fixed_loss",
]


def sparse_logistic_stream(
    n: int = 2000,
    d: int = 200,
    active: int = 8,
    informative: int = 20,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    r"""A stream of ``n`` sparse binary examples with labels from a sparse logistic model.

    Feature 0 is a bias, always on. Each example switches on ``active`` of the other ``d - 1`` features, drawn
    without replacement with probabilities proportional to :math:`1/(r + 10)` for the feature of rank :math:`r`
    (a few frequent features, many rare ones). The true weights :math:`\theta^\star` are zero except for the bias
    and ``informative`` randomly chosen features; :math:`y_t \sim \text{Bernoulli}(\sigma(x_t^\top \theta^\star))`.

    Returns
    -------
    dict
        ``X`` (n, d) float array of 0/1, ``idx`` (n, active + 1) indices of the non-zero features of each example,
        ``y`` (n,) labels in {0, 1}, ``theta_star`` (d,) true weights.
    """
    if not 0 < active < d - 1 or not 0 < informative < d:
        raise ValueError(f"need 0 < active < d - 1 and 0 < informative < d, got active={active}, d={d}")
    rng = np.random.default_rng(seed)
    freq = 1.0 / (np.arange(d - 1) + 10.0)
    freq /= freq.sum()
    # Gumbel top-k: `active` distinct features per example, drawn with probabilities proportional to freq
    keys = np.log(freq) - np.log(-np.log(rng.random((n, d - 1))))
    feats = np.argsort(-keys, axis=1)[:, :active] + 1
    idx = np.concatenate([np.zeros((n, 1), dtype=int), np.sort(feats, axis=1)], axis=1)
    X = np.zeros((n, d))
    np.put_along_axis(X, idx, 1.0, axis=1)
    theta_star = np.zeros(d)
    chosen = rng.choice(np.arange(1, d), size=informative, replace=False)
    theta_star[chosen] = rng.choice([-1.0, 1.0], size=informative) * rng.uniform(1.0, 2.5, size=informative)
    theta_star[0] = -0.5
    p = 1.0 / (1.0 + np.exp(-(X @ theta_star)))
    y = (rng.random(n) < p).astype(float)
    return {"X": X, "idx": idx, "y": y, "theta_star": theta_star}


def log_loss(p: np.ndarray | float, y: np.ndarray | float) -> np.ndarray | float:
    """Binary log-loss of predicted probabilities ``p`` for labels ``y`` (probabilities clipped to [1e-12, 1 - 1e-12])."""
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def _sigmoid(a: float) -> float:
    return 1.0 / (1.0 + np.exp(-a)) if a >= 0 else np.exp(a) / (1.0 + np.exp(a))


def ftrl_proximal(
    stream: dict[str, np.ndarray],
    alpha: float = 0.1,
    beta: float = 1.0,
    l1: float = 0.0,
    l2: float = 0.0,
    record_every: int = 0,
) -> dict[str, Any]:
    r"""FTRL-Proximal with per-coordinate learning rates on a logistic stream (McMahan et al. 2013, Algorithm 1).

    For each example :math:`t` with active features :math:`I_t`: compute :math:`\theta_{t,i}` for
    :math:`i \in I_t` from :math:`(z_i, n_i)` (0 if :math:`|z_i| \le \lambda_1`, else
    :math:`-(z_i - \operatorname{sign}(z_i)\lambda_1) / ((\beta + \sqrt{n_i})/\alpha + \lambda_2)`), predict
    :math:`p_t = \sigma(x_t^\top\theta)`, then with :math:`g_i = (p_t - y_t) x_{t,i}`:
    :math:`\sigma_i = (\sqrt{n_i + g_i^2} - \sqrt{n_i})/\alpha`, :math:`z_i \mathrel{+}= g_i - \sigma_i\theta_{t,i}`,
    :math:`n_i \mathrel{+}= g_i^2`.

    Parameters
    ----------
    stream : dict
        From :func:`sparse_logistic_stream` (uses ``idx``, ``X`` and ``y``).
    alpha, beta, l1, l2 : float
        α > 0, β ≥ 0 and the L1/L2 strengths λ₁, λ₂ ≥ 0.
    record_every : int, default 0
        If positive, also record the number of non-zero weights every ``record_every`` examples.

    Returns
    -------
    dict
        ``losses`` (n,) progressive log-losses, ``theta`` (d,) final weights, ``z``, ``n`` (d,) final state and,
        with ``record_every``, ``nnz_t`` / ``nnz`` (steps and counts of non-zero weights).
    """
    if not alpha > 0 or beta < 0 or l1 < 0 or l2 < 0:
        raise ValueError(f"need alpha > 0 and beta, l1, l2 >= 0; got {alpha}, {beta}, {l1}, {l2}")
    X, idx, y = stream["X"], stream["idx"], stream["y"]
    T, d = X.shape
    z = np.zeros(d)
    nsq = np.zeros(d)
    losses = np.empty(T)
    nnz_t, nnz = [], []
    for t in range(T):
        I = idx[t]
        x = X[t, I]
        zi, ni = z[I], nsq[I]
        w = _weights(zi, ni, alpha, beta, l1, l2)
        p = _sigmoid(float(w @ x))
        losses[t] = log_loss(p, y[t])
        g = (p - y[t]) * x
        sigma = (np.sqrt(ni + g * g) - np.sqrt(ni)) / alpha
        z[I] = zi + g - sigma * w
        nsq[I] = ni + g * g
        if record_every and (t + 1) % record_every == 0:
            nnz_t.append(t + 1)
            nnz.append(int(np.count_nonzero(_weights(z, nsq, alpha, beta, l1, l2))))
    out: dict[str, Any] = {"losses": losses, "theta": _weights(z, nsq, alpha, beta, l1, l2), "z": z, "n": nsq}
    if record_every:
        out["nnz_t"], out["nnz"] = np.array(nnz_t), np.array(nnz)
    return out


def ftrl_proximal_path(
    stream: dict[str, np.ndarray],
    l1s: np.ndarray,
    alpha: float = 0.1,
    beta: float = 1.0,
    l2: float = 0.0,
    record_every: int = 50,
) -> dict[str, np.ndarray]:
    r""":func:`ftrl_proximal` for several L1 strengths at once (vectorised over ``l1s``; same arithmetic).

    Returns
    -------
    dict
        ``losses`` (L, n) progressive log-losses, ``theta`` (L, d) final weights, ``nnz_t`` (steps) and
        ``nnz`` (L, steps) numbers of non-zero weights along the stream.
    """
    l1s = np.asarray(l1s, dtype=np.float64)
    if not alpha > 0 or beta < 0 or l2 < 0 or np.any(l1s < 0):
        raise ValueError(f"need alpha > 0 and beta, l1, l2 >= 0; got {alpha}, {beta}, {l1s}, {l2}")
    X, idx, y = stream["X"], stream["idx"], stream["y"]
    T, d = X.shape
    L = l1s.size
    lam = l1s[:, None]
    z = np.zeros((L, d))
    nsq = np.zeros((L, d))
    losses = np.empty((L, T))
    nnz_t, nnz = [], []
    for t in range(T):
        I = idx[t]
        x = X[t, I]
        zi, ni = z[:, I], nsq[:, I]
        w = _weights(zi, ni, alpha, beta, lam, l2)
        a = w @ x
        p = 0.5 * (1.0 + np.tanh(0.5 * a))  # the logistic function, overflow-free
        losses[:, t] = log_loss(p, y[t])
        g = (p - y[t])[:, None] * x
        sigma = (np.sqrt(ni + g * g) - np.sqrt(ni)) / alpha
        z[:, I] = zi + g - sigma * w
        nsq[:, I] = ni + g * g
        if record_every and (t + 1) % record_every == 0:
            nnz_t.append(t + 1)
            nnz.append(np.count_nonzero(_weights(z, nsq, alpha, beta, lam, l2), axis=1))
    return {
        "losses": losses,
        "theta": _weights(z, nsq, alpha, beta, lam, l2),
        "nnz_t": np.array(nnz_t),
        "nnz": np.array(nnz).T.reshape(L, -1),
    }


def _weights(z: np.ndarray, n: np.ndarray, alpha: float, beta: float, l1: Any, l2: float) -> np.ndarray:
    """The FTRL-Proximal weights θ as a function of the state (z, n) (0 where |z| <= λ₁)."""
    with np.errstate(divide="ignore", invalid="ignore"):  # 0/0 only where |z| <= λ₁, and there θ = 0
        return np.where(np.abs(z) <= l1, 0.0, -(z - np.sign(z) * l1) / ((beta + np.sqrt(n)) / alpha + l2))


def online_gradient_descent(
    stream: dict[str, np.ndarray],
    alpha: float = 0.1,
    beta: float = 1.0,
    l1: float = 0.0,
    mode: str = "fobos",
) -> dict[str, Any]:
    r"""Online gradient descent with per-coordinate rates :math:`\eta_{t,i} = \alpha / (\beta + \sqrt{n_{t,i}})`.

    ``mode="subgradient"`` adds :math:`\lambda_1 \operatorname{sign}(\theta_i)` to the gradient (almost never an
    exact zero); ``mode="fobos"`` takes the gradient step then soft-thresholds,
    :math:`\theta_i \leftarrow \operatorname{sign}(\theta_i)\max(|\theta_i| - \eta_{t,i}\lambda_1, 0)` (forward-backward
    splitting, Duchi & Singer 2009). Only the active coordinates are updated, as in FTRL.

    Returns
    -------
    dict
        ``losses`` (n,) progressive log-losses and ``theta`` (d,) the final weights.
    """
    if mode not in ("fobos", "subgradient"):
        raise ValueError(f"mode must be 'fobos' or 'subgradient', got {mode!r}")
    X, idx, y = stream["X"], stream["idx"], stream["y"]
    T, d = X.shape
    theta = np.zeros(d)
    nsq = np.zeros(d)
    losses = np.empty(T)
    for t in range(T):
        I = idx[t]
        x = X[t, I]
        w = theta[I]
        p = _sigmoid(float(w @ x))
        losses[t] = log_loss(p, y[t])
        g = (p - y[t]) * x
        ni = nsq[I] + g * g
        eta = alpha / (beta + np.sqrt(ni))
        if mode == "subgradient":
            w = w - eta * (g + l1 * np.sign(w))
        else:
            w = w - eta * g
            w = np.sign(w) * np.maximum(np.abs(w) - eta * l1, 0.0)
        theta[I] = w
        nsq[I] = ni
    return {"losses": losses, "theta": theta}


def best_fixed_loss(stream: dict[str, np.ndarray], T: int, C: float = 1e4) -> float:
    r"""Total log-loss :math:`\min_\theta \sum_{t \le T} \ell_t(\theta)` of the best fixed model in hindsight.

    Fitted with scikit-learn's ``LogisticRegression`` (L2 penalty with a large ``C``, i.e. nearly unregularized,
    no separate intercept: feature 0 is the bias) on the first ``T`` examples.
    """
    from sklearn.linear_model import LogisticRegression

    X, y = stream["X"][:T], stream["y"][:T]
    model = LogisticRegression(C=C, fit_intercept=False, max_iter=5000, tol=1e-8)
    model.fit(X, y)
    p = model.predict_proba(X)[:, 1]
    return float(np.sum(log_loss(p, y)))
