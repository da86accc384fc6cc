"""Line searches along a direction d: Armijo backtracking and the strong Wolfe search of ``torch.optim.LBFGS``.

A line search picks the step size t of the update θ + t d. Both searches here see the loss only through the
one-dimensional function φ(t) = L(θ + t d) and its slope φ'(t) = ∇L(θ + t d)ᵀ d, so the same code serves numpy
(:mod:`course_pkg.curvature`) and torch (:class:`course_pkg.optim.LBFGS`). The conditions, with 0 < c₁ < c₂ < 1:

- sufficient decrease (Armijo):  φ(t) ≤ φ(0) + c₁ t φ'(0);
- strong curvature (Wolfe):  |φ'(t)| ≤ c₂ |φ'(0)|.

The strong Wolfe search is Algorithms 3.5 and 3.6 of Nocedal & Wright (2006) with the safeguarded cubic
interpolation of Schmidt's minFunc, written to take exactly the decisions of ``torch.optim.lbfgs._strong_wolfe``.
Numbers may be Python floats (numpy callers) or 0-dim tensors (:class:`~course_pkg.optim.LBFGS`); the expressions
are written in torch's order and forms, because with tensors even ``1.0 / t`` rounds differently from a float
division (torch computes it as ``t.reciprocal() * 1.0``) and a tensor's ``sqrt`` can differ from ``math.sqrt`` in
the last bit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

__all__ = ["armijo_backtracking", "cubic_interpolate", "strong_wolfe"]


def armijo_backtracking(
    phi: Callable[[float], float],
    f0: float,
    slope0: float,
    t: float = 1.0,
    *,
    c1: float = 1e-4,
    shrink: float = 0.5,
    max_evals: int = 60,
) -> tuple[float, float, int]:
    """Backtrack from ``t`` until the Armijo condition φ(t) ≤ φ(0) + c₁ t φ'(0) holds.

    Parameters
    ----------
    phi : callable
        φ(t) = L(θ + t d).
    f0, slope0 : float
        φ(0) = L(θ) and φ'(0) = ∇L(θ)ᵀd (negative for a descent direction).
    t : float, optional
        The first trial step (default 1: the full Newton or quasi-Newton step).
    c1 : float, optional
        The sufficient-decrease constant c₁ ∈ (0, 1) (default 1e-4).
    shrink : float, optional
        The factor applied to t after each failure, in (0, 1) (default 0.5).
    max_evals : int, optional
        The most evaluations of φ (default 60).

    Returns
    -------
    tuple
        (t, φ(t), number of evaluations of φ).

    Raises
    ------
    ValueError
        If d is not a descent direction (φ'(0) ≥ 0) or c₁, ``shrink`` are outside (0, 1).
    """
    if not slope0 < 0:
        raise ValueError(f"not a descent direction: the slope φ'(0) = {slope0} must be negative")
    if not (0 < c1 < 1 and 0 < shrink < 1):
        raise ValueError(f"need 0 < c1 < 1 and 0 < shrink < 1, got c1={c1}, shrink={shrink}")
    for evals in range(1, max_evals + 1):
        f = phi(t)
        if f <= f0 + c1 * t * slope0:
            return t, f, evals
        t *= shrink
    return t, phi(t), max_evals + 1


def cubic_interpolate(
    x1: float,
    f1: float,
    g1: float,
    x2: float,
    f2: float,
    g2: float,
    bounds: tuple[float, float] | None = None,
) -> float:
    """The minimiser of the cubic through (x₁, f₁) and (x₂, f₂) with slopes g₁ and g₂, clipped to ``bounds``.

    Parameters
    ----------
    x1, f1, g1, x2, f2, g2 : float
        Two points of φ with their values and slopes.
    bounds : tuple of float, optional
        The interval the result is clipped to (default: between x₁ and x₂).

    Returns
    -------
    float
        The cubic's minimiser, or the middle of ``bounds`` when the cubic has none.
    """
    lo, hi = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1**2 - g1 * g2
    if d2_square < 0:
        return (lo + hi) / 2.0
    d2 = d2_square.sqrt() if isinstance(d2_square, torch.Tensor) else math.sqrt(d2_square)
    if x1 <= x2:
        min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(min_pos, lo), hi)


def strong_wolfe(
    phi: Callable[[float], tuple[float, float, Any]],
    t: float,
    f0: float,
    slope0: float,
    payload0: Any,
    *,
    direction_scale: float = 1.0,
    c1: float = 1e-4,
    c2: float = 0.9,
    tolerance_change: float = 1e-9,
    max_ls: int = 25,
) -> tuple[float, Any, float, int]:
    """Find a step t satisfying the strong Wolfe conditions (bracketing, then zooming by cubic interpolation).

    Parameters
    ----------
    phi : callable
        ``phi(t) -> (φ(t), φ'(t), payload)``; the payload (the gradient at θ + t d, say) is returned for the
        accepted step so the caller need not evaluate again.
    t : float
        The first trial step.
    f0, slope0, payload0 : float, float, Any
        φ(0), φ'(0) < 0 and the payload at t = 0.
    direction_scale : float, optional
        ‖d‖_∞: the search stops when the bracket is narrower than ``tolerance_change`` in θ (default 1).
    c1, c2 : float, optional
        The Armijo and curvature constants, 0 < c₁ < c₂ < 1 (default 1e-4 and 0.9).
    tolerance_change : float, optional
        See ``direction_scale`` (default 1e-9).
    max_ls : int, optional
        The most evaluations of φ (default 25).

    Returns
    -------
    tuple
        (φ(t), payload at t, t, number of evaluations of φ).
    """
    f_new, slope_new, payload_new = phi(t)
    evals = 1
    t_prev, f_prev, slope_prev, payload_prev = 0.0, f0, slope0, payload0
    done = False
    ls_iter = 0
    # bracketing phase: grow t until [t_prev, t] must contain a point satisfying the conditions
    while ls_iter < max_ls:
        if f_new > f0 + c1 * t * slope0 or (ls_iter > 1 and f_new >= f_prev):
            bracket = [t_prev, t]
            values, slopes, payloads = [f_prev, f_new], [slope_prev, slope_new], [payload_prev, payload_new]
            break
        if abs(slope_new) <= -c2 * slope0:  # both conditions hold: accept t
            bracket, values, slopes, payloads = [t], [f_new], [slope_new], [payload_new]
            done = True
            break
        if slope_new >= 0:  # φ turned upward: a minimiser lies behind
            bracket = [t_prev, t]
            values, slopes, payloads = [f_prev, f_new], [slope_prev, slope_new], [payload_prev, payload_new]
            break
        # extrapolate: a cubic step between 1.01 t - 0.01 t_prev and 10 t
        t_next = cubic_interpolate(
            t_prev, f_prev, slope_prev, t, f_new, slope_new, bounds=(t + 0.01 * (t - t_prev), t * 10)
        )
        t_prev, f_prev, slope_prev, payload_prev = t, f_new, slope_new, payload_new
        t = t_next
        f_new, slope_new, payload_new = phi(t)
        evals += 1
        ls_iter += 1
    if ls_iter == max_ls:
        bracket, values, slopes, payloads = (
            [0.0, t],
            [f0, f_new],
            [slope0, slope_new],
            [payload0, payload_new],
        )

    # zoom phase: shrink the bracket [low, high] (low: the lower value) by safeguarded cubic interpolation
    insufficient_progress = False
    low, high = (0, 1) if values[0] <= values[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * direction_scale < tolerance_change:
            break
        t = cubic_interpolate(bracket[0], values[0], slopes[0], bracket[1], values[1], slopes[1])
        # a trial too close to an end of the bracket is pushed 10% inside it (the second time in a row, or at once
        # when it falls on or outside an end)
        margin = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < margin:
            if insufficient_progress or t >= max(bracket) or t <= min(bracket):
                t = (
                    max(bracket) - margin
                    if abs(t - max(bracket)) < abs(t - min(bracket))
                    else min(bracket) + margin
                )
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False
        f_new, slope_new, payload_new = phi(t)
        evals += 1
        ls_iter += 1
        if f_new > f0 + c1 * t * slope0 or f_new >= values[low]:
            bracket[high], values[high], slopes[high], payloads[high] = t, f_new, slope_new, payload_new
            low, high = (0, 1) if values[0] <= values[1] else (1, 0)
        else:
            if abs(slope_new) <= -c2 * slope0:
                done = True
            elif slope_new * (bracket[high] - bracket[low]) >= 0:
                bracket[high], values[high], slopes[high], payloads[high] = (
                    bracket[low],
                    values[low],
                    slopes[low],
                    payloads[low],
                )
            bracket[low], values[low], slopes[low], payloads[low] = t, f_new, slope_new, payload_new
    return values[low], payloads[low], bracket[low], evals
