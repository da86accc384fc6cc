"""Building blocks of the optimizer specs: one function drives the student's class (in the sandbox) and torch.optim
(in the trusted grader) through the same problem, recording parameters and state after every step.

Every function takes the optimizer class first and returns plain data (tensors, numbers, strings), so that a spec
check is ``run=lambda ns, dev, dt: trajectory(ns["SGD"], dev, dt, ...)`` and
``reference=lambda dev, dt: trajectory(torch.optim.SGD, dev, dt, ...)``. The problems mirror the assignments'
visible helpers (``check_against_torch``: seeded parameters, seeded gradients, 7 steps by default).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import torch

IGNORED_DEFAULTS = {"foreach", "differentiable", "fused", "capturable"}


def _params(
    shapes: Sequence[tuple[int, ...]],
    seed: int,
    device: torch.device,
    dtype: torch.dtype,
    noncontiguous: bool,
) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    out = []
    for shape in shapes:
        base = torch.randn(*shape, 2, generator=gen, dtype=torch.float64).to(device, dtype)
        view = base.clone()[..., 0]
        out.append((view if noncontiguous else view.contiguous()).requires_grad_())
    return out


def _groups(params: list[torch.Tensor], groups: list[dict[str, Any]] | None) -> Any:
    if groups is None:
        return params
    return [dict(params=params[i :: len(groups)], **g) for i, g in enumerate(groups)]


def _state_value(value: Any) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", torch.float64).reshape(-1).clone()
    return torch.tensor([float(value)], dtype=torch.float64)


def trajectory(
    opt_cls: Any,
    device: torch.device,
    dtype: torch.dtype,
    *,
    steps: int = 7,
    shapes: Sequence[tuple[int, ...]] = ((4, 3), (5,)),
    groups: list[dict[str, Any]] | None = None,
    closure: bool = False,
    none_grad: bool = False,
    noncontiguous: bool = False,
    seed: int = 0,
    reload_after: int | None = None,
    **hyper: Any,
) -> dict[str, Any]:
    """Run ``opt_cls`` for ``steps`` steps and record everything the comparison needs.

    Parameters
    ----------
    opt_cls : type
        The student's optimizer class, or the torch.optim reference.
    device, dtype
        Where and in which precision the parameters live.
    steps, shapes, groups, closure, none_grad, noncontiguous, seed
        The problem (as in the assignments' ``check_against_torch``).
    reload_after : int, optional
        Save ``state_dict()`` after this many steps and continue with a new optimizer that loaded it.
    **hyper
        Constructor keyword arguments.

    Returns
    -------
    dict
        ``theta{i}``: (steps, numel) parameter ``i`` after each step; ``state{i}.{key}``: (steps, size) state
        entries; ``state_keys``: the state keys of every parameter at every step; ``loss``: closure losses.
    """
    params = _params(shapes, seed, device, dtype, noncontiguous)
    opt = opt_cls(_groups(params, groups), **hyper)
    gen = torch.Generator().manual_seed(seed + 1)
    n_loss = len(params) - 1 if none_grad else len(params)
    coefs = [
        torch.randn(*p.shape, generator=gen, dtype=torch.float64).to(device, dtype) for p in params[:n_loss]
    ]
    thetas: list[list[torch.Tensor]] = [[] for _ in params]
    states: dict[str, list[torch.Tensor]] = {}
    keys_log: list[str] = []
    losses: list[float] = []
    for t in range(1, steps + 1):
        if reload_after is not None and t == reload_after + 1:
            saved = copy.deepcopy(opt.state_dict())
            opt = opt_cls(_groups(params, groups), **hyper)
            opt.load_state_dict(saved)
        if closure:

            def closure_fn(opt: Any = opt) -> torch.Tensor:
                opt.zero_grad()
                loss = sum((c * p + 0.5 * c.abs() * p**2).sum() for c, p in zip(coefs, params[:n_loss]))
                loss.backward()
                return loss

            loss = opt.step(closure_fn)
            losses.append(float("nan") if loss is None else float(torch.as_tensor(loss).detach().cpu()))
        else:
            for i, p in enumerate(params):
                if none_grad and i == len(params) - 1:
                    p.grad = None
                    continue
                base = torch.randn(*p.shape, 2, generator=gen, dtype=torch.float64).to(device, dtype)
                grad = base.clone()[..., 0]
                p.grad = grad if noncontiguous else grad.contiguous()
            opt.step()
        step_keys = []
        for i, p in enumerate(params):
            thetas[i].append(p.detach().to("cpu", torch.float64).reshape(-1).clone())
            st = opt.state.get(p, {})
            step_keys.append(f"{i}:" + ",".join(sorted(str(k) for k in st)))
            for key, value in st.items():
                states.setdefault(f"state{i}.{key}", []).append(_state_value(value))
        keys_log.append(";".join(step_keys))
    out: dict[str, Any] = {f"theta{i}": torch.stack(th) for i, th in enumerate(thetas)}
    for key, values in states.items():
        if len({v.numel() for v in values}) == 1:
            out[key] = torch.stack(values)
    out["state_keys"] = " | ".join(keys_log)
    if closure:
        out["loss"] = torch.tensor(losses, dtype=torch.float64)
    out["theta0.dtype"] = str(params[0].dtype).removeprefix("torch.")
    out["theta0.device"] = str(params[0].device)
    return out


def constructor_error(opt_cls: Any, **hyper: Any) -> dict[str, Any]:
    """Which exception (type name and message) the constructor raises for ``hyper`` ("none" if it accepts)."""
    params = [torch.zeros(2, dtype=torch.float64, requires_grad=True)]
    try:
        opt_cls(params, **hyper)
    except Exception as exc:  # noqa: BLE001 - the type is what gets compared
        return {"raised": type(exc).__name__, "message": str(exc)}
    return {"raised": "none", "message": ""}


def defaults(opt_cls: Any, reference_keys: Sequence[str]) -> dict[str, Any]:
    """The constructor's defaults for ``reference_keys``, numbers as floats, tuples as arrays, others as text."""
    got = opt_cls([torch.zeros(2, dtype=torch.float64, requires_grad=True)]).defaults
    out: dict[str, Any] = {}
    for key in reference_keys:
        if key in IGNORED_DEFAULTS:
            continue
        value = got.get(key, "<missing>") if isinstance(got, dict) else "<missing>"
        if isinstance(value, bool | int | float):
            out[f"default.{key}"] = float(value)
        elif isinstance(value, tuple | list) and all(isinstance(v, int | float) for v in value):
            out[f"default.{key}"] = torch.tensor([float(v) for v in value], dtype=torch.float64)
        else:
            out[f"default.{key}"] = repr(value)
    return out


def torch_default_keys(torch_cls: Any) -> list[str]:
    """The defaults keys of a torch.optim class (trusted side)."""
    return sorted(torch_cls([torch.zeros(2, requires_grad=True)]).defaults)
