"""The landscape chapter's explorable against closed forms of the Gaussian orthogonal ensemble."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate

from course_pkg.experiments import landscape as landscape_experiments
from course_pkg.explore.chapters import landscape


def test_semicircle_cdf_integrates_the_density() -> None:
    for x in (-2.5, -1.3, 0.0, 0.4, 1.9, 3.0):
        ref = integrate.quad(lambda t: np.sqrt(4 - t**2) / (2 * np.pi), -2, float(np.clip(x, -2, 2)))[0]
        assert landscape_experiments.semicircle_cdf(x) == pytest.approx(ref, abs=1e-9)


def test_two_by_two_probability_of_a_minimum_is_the_closed_form() -> None:
    # P(a 2×2 GOE matrix with density ∝ exp(−tr W²/4) is positive definite) = (2 − √2)/4 (Dean & Majumdar, 2008);
    # u = 1/2 means no shift, and scaling by 1/√d does not change signs.
    r = landscape_experiments.hessian_spectrum(2, 0.5)
    se = np.sqrt(0.146 * 0.854 / r["n"])
    assert abs(r["p_min"] - (2 - np.sqrt(2)) / 4) < 4 * se


def test_index_follows_the_shifted_semicircle_at_d_50() -> None:
    for u in (0.2, 0.3, 0.5, 0.6, 0.8):
        r = landscape_experiments.hessian_spectrum(50, u)
        limit = landscape_experiments.semicircle_cdf(-landscape_experiments.SHIFT * (0.5 - u))
        assert abs(r["index"] - limit) < 0.02, (u, r["index"], limit)


def test_samples_have_the_goe_moments() -> None:
    # W/√d with W = (A + Aᵀ)/√2: E tr(H²)/d = (d + 1)/d, and the spectrum is symmetric about 0 at u = 1/2
    for d in landscape_experiments.DIMS:
        eig = landscape_experiments.hessian_spectrum(d, 0.5)["eigenvalues"]
        n = eig.shape[0]
        assert eig.shape == (n, d) and np.all(np.diff(eig, axis=1) >= 0)
        m2 = (eig**2).sum(axis=1).mean() / d
        assert abs(m2 - (d + 1) / d) < 5 * np.sqrt(2 * (d + 1) / d**2 / n) + 1e-3, (d, m2)
        assert abs(eig.mean()) < 0.05


def test_probability_of_a_minimum_falls_with_the_loss_and_the_explorable_reports_it() -> None:
    for d in landscape_experiments.DIMS:
        p = [landscape_experiments.hessian_spectrum(d, u)["p_min"] for u in np.linspace(0, 1, 11)]
        assert all(a >= b for a, b in zip(p, p[1:])) and p[-1] == 0.0
    r = landscape.saddle_index().compute(d=10, loss_level=0.3)
    assert r["p_min"][10] == landscape_experiments.hessian_spectrum(10, 0.3)["p_min"]
    assert r["counts"].sum() * np.diff(r["edges"])[0] == pytest.approx(1.0)


def test_rejects_an_unknown_dimension() -> None:
    with pytest.raises(ValueError, match="d must be one of"):
        landscape_experiments.goe_eigenvalues(3)
