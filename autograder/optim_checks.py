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
import inspect
import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
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
    """The defaults keys of a torch.optim class (trusted side), read from the constructor signatures of the class
    and its torch.optim bases (``AdamW`` passes ``decoupled_weight_decay`` on to ``Adam``): constructing an
    optimizer would import ``torch._dynamo`` (seconds) while the grader loads the spec."""
    keys: set[str] = set()
    for klass in inspect.getmro(torch_cls):
        if klass is torch.optim.Optimizer or not issubclass(klass, torch.optim.Optimizer):
            continue
        params = list(inspect.signature(klass.__init__).parameters.values())[2:]  # self, params
        keys.update(p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
    return sorted(keys)


DEFAULT_SHAPES = ((4, 3), (5,))
_KEY = re.compile(r"^(?:theta(?P<p>\d+)|state(?P<s>\d+)\.(?P<k>.+)|loss)$")


@dataclasses.dataclass(frozen=True)
class Divergence:
    """Where a lockstep trajectory first leaves the reference: step ``t`` (1-based), which tensor, which entry.

    ``order`` sorts divergences as the notebooks' ``check_against_torch`` meets them: smallest step first, then
    the loss returned by ``step(closure)``, then parameter order, and for one parameter its value before its
    state keys, the keys in sorted order.
    """

    step: int
    what: str
    order: tuple[Any, ...]
    key: str = ""
    index: tuple[int, ...] | None = None
    column: int = 0
    shape: tuple[int, ...] | None = None
    expected: float | None = None
    got: float | None = None
    bound: float | None = None
    detail: str = ""

    @property
    def abs_error(self) -> float:
        """``|got - expected|`` (nan when either is missing or not finite)."""
        if self.expected is None or self.got is None:
            return math.nan
        with np.errstate(invalid="ignore", over="ignore"):
            return float(abs(np.float64(self.got) - np.float64(self.expected)))

    @property
    def rel_error(self) -> float:
        """``|got - expected| / |expected|`` (inf where the expected value is 0)."""
        if self.expected is None or self.expected == 0:
            return math.inf if self.abs_error else 0.0
        return self.abs_error / abs(self.expected)

    def message(self, rtol: float, atol: float) -> str:
        """One line that leads with the step, the tensor and by how much (it survives ``nbgrader validate``'s
        cut at ~85 characters), then the entry, the tolerance and both values at full precision (``repr``)."""
        head = f"step t = {self.step}: {self.what}"
        if self.detail:
            return f"{head} {self.detail}"
        where = f" at index {self.index}" if self.index is not None else ""
        values = f"expected {self.expected!r}, got {self.got!r}"
        shape = f" [{self.what.split(' of ')[-1]} has shape {self.shape}]" if self.shape is not None else ""
        if not (math.isfinite(self.expected or 0.0) and math.isfinite(self.got or 0.0)):
            return f"{head} differs{where}: {values} (non-finite value){shape}"
        return (
            f"{head} differs by {self.abs_error:.3e}{where} (relative error {self.rel_error:.2e}; tolerance "
            f"atol + rtol·|expected| = {self.bound:.2e} with atol={atol:g}, rtol={rtol:g}): {values}{shape}"
        )


def _describe_key(key: str) -> tuple[str, tuple[Any, ...]] | None:
    m = _KEY.match(key)
    if m is None:
        return None
    if m.group("p") is not None:
        i = int(m.group("p"))
        return f"parameter {i}", (i, 0, "")
    if m.group("s") is not None:
        i, name = int(m.group("s")), m.group("k")
        return f"state[{name!r}] of parameter {i}", (i, 2, name)
    return "the loss returned by step(closure)", (-1, 0, "")


def _close_mask(got: np.ndarray, ref: np.ndarray, rtol: float, atol: float) -> np.ndarray:
    """Elementwise: ``|g - r| <= atol + rtol |r|``, nan where nan, the same infinity where one is infinite."""
    g, r = got.astype(np.float64), ref.astype(np.float64)
    fin = np.isfinite(r) & np.isfinite(g)
    with np.errstate(invalid="ignore", over="ignore"):
        near = np.abs(np.where(fin, g, 0.0) - np.where(fin, r, 0.0)) <= atol + rtol * np.abs(
            np.where(fin, r, 0.0)
        )
    same_special = ~fin & ((np.isnan(r) & np.isnan(g)) | (np.isinf(r) & (g == r)))
    return (fin & near) | same_special


def _parse_state_keys(text: Any) -> list[dict[int, list[str]]] | None:
    if not isinstance(text, str):
        return None
    steps = []
    for step in text.split(" | "):
        keys: dict[int, list[str]] = {}
        for part in step.split(";"):
            i, _, names = part.partition(":")
            if not i.isdigit():
                return None
            keys[int(i)] = [n for n in names.split(",") if n]
        steps.append(keys)
    return steps


def divergences(
    student: dict[str, Any],
    reference: dict[str, Any],
    tol: tuple[float, float],
    shapes: Sequence[tuple[int, ...]] | None = DEFAULT_SHAPES,
) -> list[Divergence]:
    """The first divergence of every trajectory tensor of :func:`trajectory`'s output, earliest first.

    Parameters
    ----------
    student, reference : dict
        Plain data (numpy arrays of shape (steps, numel)) from the sandbox and from torch.optim.
    tol : (rtol, atol)
        ``|s - r| <= atol + rtol |r|`` elementwise, as :func:`autograder.spec.compare_outputs`.
    shapes : sequence of tuple, optional
        The parameters' shapes (to turn a flat index into a multi-index), as given to :func:`trajectory`.
    """
    rtol, atol = tol
    found: list[Divergence] = []
    numels = {i: int(np.prod(s)) for i, s in enumerate(shapes or ())}
    for key, ref in reference.items():
        described = _describe_key(key)
        if described is None or not isinstance(ref, np.ndarray):
            continue
        what, rank = described
        got = student.get(key)
        if not isinstance(got, np.ndarray) or got.dtype.kind not in "biuf":
            why = "was not produced" if got is None else f"is a {type(got).__name__}, not an array of numbers"
            found.append(Divergence(1, what, (1, *rank), key, detail=why))
            continue
        if got.shape != ref.shape:
            found.append(
                Divergence(1, what, (1, *rank), key, detail=f"has shape {got.shape}, expected {ref.shape}")
            )
            continue
        if ref.size == 0:
            continue
        ref2, got2 = ref.reshape(ref.shape[0], -1), got.reshape(got.shape[0], -1)
        bad = ~_close_mask(got2, ref2, rtol, atol)
        if not bad.any():
            continue
        row = int(np.argmax(bad.any(axis=1)))
        col = int(np.argmax(bad[row]))
        owner = rank[0]
        shape = tuple(shapes[owner]) if shapes and 0 <= owner < len(shapes) else None
        index: tuple[int, ...] | None
        if shape is not None and numels.get(owner) == ref2.shape[1]:
            index = tuple(int(v) for v in np.unravel_index(col, shape))
        elif ref2.shape[1] > 1:
            index, shape = (col,), None
        else:
            index, shape = None, None
        r, g = float(ref2[row, col]), float(got2[row, col])
        found.append(
            Divergence(
                row + 1,
                what,
                (row + 1, *rank),
                key,
                index,
                col,
                shape,
                r,
                g,
                atol + rtol * abs(r) if math.isfinite(r) else None,
            )
        )
    ref_keys, got_keys = (
        _parse_state_keys(reference.get("state_keys")),
        _parse_state_keys(student.get("state_keys")),
    )
    if ref_keys is not None:
        if got_keys is None or len(got_keys) != len(ref_keys):
            found.append(Divergence(1, "the optimizer state", (1, -1, 1, ""), detail="could not be read"))
        else:
            for t, (rk, gk) in enumerate(zip(ref_keys, got_keys), start=1):
                wrong = [i for i in sorted(rk) if sorted(rk[i]) != sorted(gk.get(i, []))]
                if wrong:
                    i = wrong[0]
                    found.append(
                        Divergence(
                            t,
                            f"the state of parameter {i}",
                            (t, i, 1, ""),
                            detail=f"has keys {sorted(gk.get(i, []))}, torch.optim has {sorted(rk[i])}",
                        )
                    )
                    break
    return sorted(found, key=lambda d: d.order)


class LockstepCompare:
    """The comparison of a lockstep optimizer check: one message that leads with the earliest divergence.

    Called as ``compare(student, reference, tol)`` (see :class:`autograder.spec.Check`); :meth:`plot` gives the
    diverged entry's values over the steps for the feedback plot.
    """

    def __init__(self, shapes: Sequence[tuple[int, ...]] | None = DEFAULT_SHAPES) -> None:
        self.shapes = tuple(tuple(s) for s in shapes) if shapes is not None else None

    def __call__(
        self, student: dict[str, Any], reference: dict[str, Any], tol: tuple[float, float]
    ) -> list[str]:
        from autograder.spec import compare_outputs

        found = divergences(student, reference, tol, self.shapes)
        rest = {k: v for k, v in reference.items() if _describe_key(k) is None and k != "state_keys"}
        messages = compare_outputs(student, rest, tol)
        if found:
            first = found[0].message(*tol)
            others = [f"{d.what} from step t = {d.step}" for d in found[1:]]
            if others:
                more = f" and {len(others) - 6} more" if len(others) > 6 else ""
                first += f"\nAlso different: {'; '.join(others[:6])}{more}."
            messages.insert(0, first)
        return messages

    def plot(
        self, student: dict[str, Any], reference: dict[str, Any], tol: tuple[float, float]
    ) -> dict[str, Any] | None:
        """Expected and got over the steps t = 1, 2, ... for the entry that diverged first (None if none did)."""
        found = [d for d in divergences(student, reference, tol, self.shapes) if d.expected is not None]
        if not found:
            return None
        d = found[0]
        ref = np.asarray(reference[d.key], dtype=np.float64).reshape(reference[d.key].shape[0], -1)[
            :, d.column
        ]
        got = np.asarray(student[d.key], dtype=np.float64).reshape(ref.shape[0], -1)[:, d.column]
        rtol, atol = tol

        def clean(a: np.ndarray) -> list[float]:
            return [float(x) if np.isfinite(x) else float("nan") for x in a]

        where = f" at index {d.index}" if d.index is not None else ""
        return {
            "reference": clean(ref),
            "student": clean(got),
            "bound": clean(atol + rtol * np.abs(ref)),
            "label": f"{d.what}{where}",
            "first_step": float(d.step),
        }


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

    from autograder import cells as nbcells
    from autograder.replay import parse_python  # ast.parse serialised across the grader's threads
    from autograder.spec import Check

    nb = json.loads(Path(source).read_text(encoding="utf-8"))
    class_cells: dict[str, str] = {}
    bases: dict[str, list[str]] = {}
    for cell in nb["cells"]:
        meta = nbcells.nbgrader(cell)
        src = "".join(cell["source"])
        if meta.get("solution") and cell["cell_type"] == "code":
            for m in re.finditer(r"^class\s+(\w+)\s*\(([^)]*)\)", src, re.M):
                class_cells[m.group(1)] = meta["grade_id"]
                bases[m.group(1)] = re.findall(r"\w+", m.group(2))
    checks: list[Any] = []
    for cell in nb["cells"]:
        meta = nbcells.nbgrader(cell)
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
            hidden = _hidden(src, call.lineno)
            if hidden:  # feedback never shows a hidden test's code, arguments or values
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
                        description=f"{label} vs torch.optim.{ref_name}: every parameter and its optimizer "
                        f"state compared after each step t = 1, ..., {hyper.get('steps', 7)}",
                        compare=LockstepCompare(hyper.get("shapes", DEFAULT_SHAPES)),
                        tolerance=tol,
                        needs=needs,
                        dtypes=dtypes,
                        hidden=hidden,
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
                        hidden=hidden,
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
                        hidden=hidden,
                    )
                )
    return checks
