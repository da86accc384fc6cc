"""Building blocks of the optimizer specs: one function drives the student's class (in the sandbox) and torch.optim
(in the trusted grader) through the same problem, recording parameters and state after every step.

Every function takes the optimizer class first and returns plain data (tensors, numbers, strings), so that a spec
check is ``run=lambda ns, dev, dt: trajectory(ns["SGD"], dev, dt, ...)`` and
``reference=lambda dev, dt: trajectory(torch.optim.SGD, dev, dt, ...)``. The problems mirror the assignments'
visible helpers (``check_against_torch``: seeded parameters, seeded gradients, 7 steps by default).
"""

from __future__ import annotations

import copy
import dataclasses
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


_HELPERS = {"check_against_torch", "check_same_error", "check_defaults", "check_state_dict_roundtrip"}
_TRAJ_KEYS = {"steps", "shapes", "groups", "closure", "none_grad", "noncontiguous", "seed"}


def _literal_kwargs(call: Any) -> dict[str, Any]:
    import ast

    # ``device=`` is the grader's business (it runs every check on each of its devices)
    return {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords if kw.arg not in (None, "device")}


def _hidden(source: str, lineno: int) -> bool:
    """Whether line ``lineno`` of a test cell lies between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS``."""
    hidden = False
    for n, line in enumerate(source.splitlines(), start=1):
        if "### BEGIN HIDDEN TESTS" in line:
            hidden = True
        elif "### END HIDDEN TESTS" in line:
            hidden = False
        if n == lineno:
            return hidden
    return False


def _helper_calls(body: list[Any]) -> list[Any]:
    """Helper calls among ``body``'s statements, including those inside ``for`` loops (the notebooks' device loops)."""
    import ast

    calls = []
    for stmt in body:
        if isinstance(stmt, ast.For):
            calls += _helper_calls(stmt.body)
            continue
        call = stmt.value if isinstance(stmt, ast.Expr) else None
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in _HELPERS:
            calls.append(call)
    return calls


def checks_from_notebook(
    source: Any, tolerance: Any, dtypes: tuple[str, ...] = ("float64", "float32")
) -> list[Any]:
    """Turn the optimizer-helper calls of an instructor notebook's test cells (hidden tests included) into checks.

    Every top-level ``check_against_torch(Mine, torch.optim.X, **kw)``, ``check_state_dict_roundtrip``,
    ``check_same_error`` and ``check_defaults`` call of a grade cell becomes one :class:`~autograder.spec.Check`
    of that cell, run on the student's class in the sandbox and on ``torch.optim.X`` in the grader. Calls inside
    ``for`` loops count too, without their ``device=`` argument (device variants are the grader's job). The source
    is read by the trusted grader only (it is hidden from the sandbox).
    """
    import json
    import re
    from pathlib import Path

    from autograder.replay import parse_python  # ast.parse serialised across the grader's threads
    from autograder.spec import Check

    nb = json.loads(Path(source).read_text(encoding="utf-8"))
    class_cells: dict[str, str] = {}
    bases: dict[str, list[str]] = {}
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        src = "".join(cell["source"])
        if meta.get("solution") and cell["cell_type"] == "code":
            for m in re.finditer(r"^class\s+(\w+)\s*\(([^)]*)\)", src, re.M):
                class_cells[m.group(1)] = meta["grade_id"]
                bases[m.group(1)] = re.findall(r"\w+", m.group(2))
    checks: list[Any] = []
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not (meta.get("grade") and cell["cell_type"] == "code"):
            continue
        src = "\n".join(line for line in "".join(cell["source"]).splitlines() if not line.startswith("%"))
        for n, call in enumerate(_helper_calls(parse_python(src).body)):
            helper, mine = call.func.id, call.args[0].id  # type: ignore[attr-defined]
            ref_name = call.args[1].attr  # type: ignore[attr-defined]
            kw = _literal_kwargs(call)
            needs = tuple(
                dict.fromkeys(class_cells[c] for c in [mine, *bases.get(mine, [])] if c in class_cells)
            )
            label = f"{mine}({', '.join(f'{k}={v!r}' for k, v in kw.items())})"
            if _hidden(src, call.lineno):  # feedback never shows a hidden test's code or arguments
                label = f"{mine} (a hidden test of {meta['grade_id']})"
            name = f"{meta['grade_id']}-{n}"
            tol = tolerance
            if "atol" in kw or "rtol" in kw:  # the call's own tolerances (float64); float32 keeps the spec's
                tol = dataclasses.replace(
                    tolerance, rtol=kw.get("rtol", tolerance.rtol), atol=kw.get("atol", tolerance.atol)
                )
            if helper in ("check_against_torch", "check_state_dict_roundtrip"):
                hyper = {
                    k: v for k, v in kw.items() if k not in ("atol", "rtol", "device", "before", "after")
                }
                if helper == "check_state_dict_roundtrip":
                    before, after = kw.get("before", 3), kw.get("after", 4)
                    hyper.update(steps=before + after, seed=3, reload_after=before)
                    label += f" with state_dict() reloaded after step {before}"
                checks.append(
                    Check(
                        name,
                        meta["grade_id"],
                        run=lambda ns, dev, dt, mine=mine, hyper=hyper: trajectory(
                            ns[mine], dev, dt, **hyper
                        ),
                        reference=lambda dev, dt, ref=ref_name, hyper=hyper: trajectory(
                            getattr(torch.optim, ref), dev, dt, **hyper
                        ),
                        description=f"{label} vs torch.optim.{ref_name}: parameters theta{{i}}[t-1, j] and state "
                        "after every step",
                        tolerance=tol,
                        plot="theta0",
                        needs=needs,
                        dtypes=dtypes,
                    )
                )
            elif helper == "check_same_error":
                checks.append(
                    Check(
                        name,
                        meta["grade_id"],
                        run=lambda ns, dev, dt, mine=mine, kw=kw: constructor_error(ns[mine], **kw),
                        reference=lambda dev, dt, ref=ref_name, kw=kw: constructor_error(
                            getattr(torch.optim, ref), **kw
                        ),
                        description=f"{label} raises torch.optim.{ref_name}'s error",
                        needs=needs,
                    )
                )
            else:
                # the reference's keys are read here, in the grader: torch.optim is unusable in the sandbox
                ref_keys = torch_default_keys(getattr(torch.optim, ref_name))
                checks.append(
                    Check(
                        name,
                        meta["grade_id"],
                        run=lambda ns, dev, dt, mine=mine, keys=ref_keys: defaults(ns[mine], keys),
                        reference=lambda dev, dt, ref=ref_name: defaults(
                            getattr(torch.optim, ref), torch_default_keys(getattr(torch.optim, ref))
                        ),
                        description=f"{mine}'s defaults equal torch.optim.{ref_name}'s",
                        needs=needs,
                    )
                )
    return checks
