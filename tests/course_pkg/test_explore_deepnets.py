"""Tests of the "Initialization and normalization" explorable: its hand-written backward pass against torch
autograd on the same weights, and its variance propagation against the closed forms of Glorot and He."""

import numpy as np
import pytest
import torch

from course_pkg.experiments import deepnets as deepnets_experiments


@pytest.mark.parametrize("init", list(deepnets_experiments.INITS))
@pytest.mark.parametrize("activation", ["ReLU", "tanh"])
def test_signal_matches_torch_autograd(init, activation) -> None:
    depth, width, batch, seed = 6, 16, 8, 3
    got = deepnets_experiments.signal_through_depth(
        init, activation, depth, width=width, batch=batch, seed=seed
    )
    rng = np.random.default_rng(seed)  # the same draws, in the documented order
    s = deepnets_experiments.INITS[init](width)
    h = torch.tensor(rng.standard_normal((batch, width)))
    zs = []
    for _ in range(depth):
        w = torch.tensor(s * rng.standard_normal((width, width)))
        z = (h @ w.T).requires_grad_() if not zs else h @ w.T
        z.retain_grad()
        zs.append(z)
        h = torch.relu(z) if activation == "ReLU" else torch.tanh(z)
    h.backward(torch.tensor(rng.standard_normal((batch, width))))
    np.testing.assert_allclose(got["z_std"], [z.detach().std(unbiased=False).item() for z in zs], rtol=1e-10)
    np.testing.assert_allclose(got["grad_std"], [z.grad.std(unbiased=False).item() for z in zs], rtol=1e-10)


def test_variance_propagation_follows_glorot_and_he() -> None:
    # ReLU halves the second moment: Var z_ℓ = n s² · ½ Var z_{ℓ−1}, so ×½ per layer with Glorot (n s² = 1)
    # and ×1 with He (n s² = 2); in the backward pass the same factors apply from the top down.
    depth = 30
    factors = {}
    for init in ["Glorot", "He"]:
        runs = [
            deepnets_experiments.signal_through_depth(init, "ReLU", depth, width=256, seed=s)
            for s in range(5)
        ]
        z = np.mean([np.log(r["z_std"] ** 2) for r in runs], axis=0)
        g = np.mean([np.log(r["grad_std"] ** 2) for r in runs], axis=0)
        factors[init] = (
            np.exp(np.polyfit(np.arange(depth), z, 1)[0]),
            np.exp(-np.polyfit(np.arange(depth), g, 1)[0]),
        )
    assert factors["Glorot"][0] == pytest.approx(0.5, abs=0.04)
    assert factors["Glorot"][1] == pytest.approx(0.5, abs=0.04)
    assert factors["He"][0] == pytest.approx(1.0, abs=0.06)
    assert factors["He"][1] == pytest.approx(1.0, abs=0.06)


def test_bad_input_raises() -> None:
    with pytest.raises(ValueError, match="init must be one of"):
        deepnets_experiments.signal_through_depth("LeCun", "ReLU", 3)
    with pytest.raises(ValueError, match="activation must be"):
        deepnets_experiments.signal_through_depth("He", "gelu", 3)
    with pytest.raises(ValueError, match="depth must be >= 1"):
        deepnets_experiments.signal_through_depth("He", "ReLU", 0)
