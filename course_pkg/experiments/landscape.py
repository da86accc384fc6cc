"""Experiments of the chapter "The loss landscape of deep networks": random Hessians at a critical point.

The model Hessian at a critical point of loss level u is ``H = W / √d + SHIFT · (1/2 − u) I``, with ``W`` a GOE
matrix: the Gaussian-field picture that Dauphin et al. (2014) build on, in which the spectrum is
Wigner's semicircle on [-2, 2], moved right at a low loss and left at a high one.

- :func:`semicircle_cdf`: the fraction of the semicircle law below x.
- :func:`goe_eigenvalues`: ascending eigenvalues of ``SAMPLES[d]`` scaled GOE matrices (cached).
- :func:`hessian_spectrum`: eigenvalues at a loss level u, the index (fraction of negative eigenvalues) and the
  Monte-Carlo probability ``p_min`` that the critical point is a minimum.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

__all__ = ["DIMS", "SAMPLES", "SHIFT", "semicircle_cdf", "goe_eigenvalues", "hessian_spectrum"]

#: The dimensions d of the slider and the number of sampled Hessians for each (fewer for the larger ones).
DIMS = (2, 5, 10, 20, 50)
SAMPLES = {2: 20_000, 5: 20_000, 10: 5_000, 20: 2_000, 50: 400}
#: The spectrum of ``H`` at loss level u is the semicircle on [-2, 2] moved to be centred at ``SHIFT * (1/2 - u)``.
SHIFT = 5.0


def semicircle_cdf(x: np.ndarray | float) -> np.ndarray:
    """Fraction of the Wigner semicircle law on [-2, 2] (density ``√(4 − x²) / 2π``) below ``x``."""
    x = np.clip(np.asarray(x, dtype=float), -2.0, 2.0)
    return 0.5 + x * np.sqrt(4.0 - x**2) / (4.0 * np.pi) + np.arcsin(x / 2.0) / np.pi


@cache
def goe_eigenvalues(d: int, seed: int = 0) -> np.ndarray:
    """Ascending eigenvalues of ``SAMPLES[d]`` scaled GOE matrices ``W / √d``, shape ``(SAMPLES[d], d)``.

    ``W = (A + Aᵀ) / √2`` with ``A`` a ``d × d`` matrix of independent standard normals (the chapter's matrices);
    divided by ``√d`` their eigenvalues fill the semicircle on [-2, 2] as d grows. Cached: the loss level only shifts
    them. The result is read-only.
    """
    if d not in SAMPLES:
        raise ValueError(f"d must be one of {list(SAMPLES)}, got {d!r}")
    rng = np.random.default_rng([seed, d])
    a = rng.standard_normal((SAMPLES[d], d, d))
    eig = np.linalg.eigvalsh((a + np.swapaxes(a, 1, 2)) / np.sqrt(2.0 * d))
    eig.flags.writeable = False
    return eig


def hessian_spectrum(d: int, loss_level: float, seed: int = 0) -> dict[str, Any]:
    """Eigenvalues of the model Hessians ``H = W / √d + SHIFT · (1/2 − u) I`` at loss level u = ``loss_level``.

    At u = 1/2 the spectrum is centred at 0 (``H`` is the chapter's GOE matrix, scaled); a higher loss moves it
    left (more descent directions), a lower one right. In the limit of large d the index is
    ``semicircle_cdf(−SHIFT · (1/2 − u))``.

    Returns
    -------
    dict
        ``eigenvalues`` (``(SAMPLES[d], d)``), ``index`` (mean fraction of negative eigenvalues), ``p_min`` (fraction
        of the sampled Hessians with all eigenvalues positive) and ``n`` (number of samples).
    """
    eig = goe_eigenvalues(int(d), seed) + SHIFT * (0.5 - float(loss_level))
    return {
        "eigenvalues": eig,
        "index": float((eig < 0).mean()),
        "p_min": float((eig[:, 0] > 0).mean()),
        "n": eig.shape[0],
    }
