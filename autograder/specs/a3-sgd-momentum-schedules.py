"""Hidden grading spec of ``a3-sgd-momentum-schedules``.

The checks cover the same grid as the notebook's visible and hidden tests (same problems, same hyper-parameters,
same tolerances), but the comparison with torch.optim / torch.nn.utils / the torch schedulers happens in the trusted
grader, on plain data returned by the sandbox. A grade cell earns its points only when all its checks pass.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from autograder.optim_checks import constructor_error, defaults, torch_default_keys, trajectory
from autograder.sandbox import Limits
from autograder.spec import Check, Spec, Tolerance, notebook_cells

ASSIGNMENT = "a3-sgd-momentum-schedules"
SOURCE = Path(__file__).resolve().parents[2] / "assignments" / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
LOCKED = notebook_cells(SOURCE, ["setup", "digits_data"])
TOL = Tolerance(rtol=1e-9, atol=1e-12, rtol32=1e-4, atol32=1e-5)
CHECKS: list[Check] = []


def _raised(fn: Any) -> str:
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - the exception type is the answer
        return type(exc).__name__
    return "none"


# --- SGD -------------------------------------------------------------------------------------------------------


def sgd_traj(name: str, gid: str, **kw: Any) -> None:
    """A lockstep trajectory check of the student's SGD against torch.optim.SGD."""
    CHECKS.append(
        Check(
            name,
            gid,
            run=lambda ns, dev, dt: trajectory(ns["SGD"], dev, dt, **kw),
            reference=lambda dev, dt: trajectory(torch.optim.SGD, dev, dt, **kw),
            description="SGD(" + ", ".join(f"{k}={v}" for k, v in kw.items()) + ") vs torch.optim.SGD, "
            "parameters (theta{i}[t-1, j]) and state after every step",
            tolerance=TOL,
            plot="theta0",
            needs=("sgd",),
            dtypes=("float64", "float32"),
        )
    )


def sgd_error(name: str, gid: str, **hyper: Any) -> None:
    """The student's constructor must raise torch.optim.SGD's exception and message."""
    CHECKS.append(
        Check(
            name,
            gid,
            run=lambda ns, dev, dt: constructor_error(ns["SGD"], **hyper),
            reference=lambda dev, dt: constructor_error(torch.optim.SGD, **hyper),
            description=f"SGD({', '.join(f'{k}={v}' for k, v in hyper.items())}) raises torch's error",
            needs=("sgd",),
        )
    )


sgd_traj("plain", "test_sgd_plain", lr=0.1)
sgd_traj("plain-10-steps", "test_sgd_plain", steps=10, lr=0.03, shapes=((2, 3, 4), (1,), (7,)))
sgd_traj("plain-default-lr", "test_sgd_plain")
sgd_traj("momentum", "test_sgd_momentum", lr=0.1, momentum=0.9)
sgd_traj("momentum-0.5", "test_sgd_momentum", steps=12, lr=0.05, momentum=0.5, shapes=((3, 3, 2), (6,)))
sgd_traj("momentum-0.99", "test_sgd_momentum", steps=8, lr=0.01, momentum=0.99)
sgd_traj("dampening", "test_sgd_dampening", lr=0.1, momentum=0.9, dampening=0.5)
sgd_traj("dampening-0.1", "test_sgd_dampening", steps=10, lr=0.05, momentum=0.7, dampening=0.1)
sgd_traj("dampening-1", "test_sgd_dampening", steps=6, lr=0.05, momentum=0.3, dampening=1.0)
sgd_traj("nesterov", "test_sgd_nesterov", lr=0.1, momentum=0.9, nesterov=True)
sgd_traj(
    "nesterov-0.5", "test_sgd_nesterov", steps=12, lr=0.02, momentum=0.5, nesterov=True, shapes=((5, 2), (3,))
)
sgd_error("nesterov-dampening-error", "test_sgd_nesterov", lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)
sgd_error("nesterov-no-momentum-error", "test_sgd_nesterov", lr=0.1, momentum=0.0, nesterov=True)
sgd_traj("weight-decay", "test_sgd_weight_decay", lr=0.1, weight_decay=0.1)
sgd_traj("weight-decay-momentum", "test_sgd_weight_decay", steps=10, lr=0.05, momentum=0.9, weight_decay=0.01)
sgd_traj("weight-decay-1", "test_sgd_weight_decay", steps=5, lr=0.5, weight_decay=1.0)
sgd_traj("maximize", "test_sgd_maximize", lr=0.1, maximize=True)
sgd_traj("maximize-momentum", "test_sgd_maximize", steps=9, lr=0.05, momentum=0.8, maximize=True)
sgd_traj("maximize-weight-decay", "test_sgd_maximize", steps=6, lr=0.05, weight_decay=0.1, maximize=True)
sgd_error("error-lr", "test_sgd_errors", lr=-0.1)
sgd_error("error-momentum", "test_sgd_errors", lr=0.1, momentum=-0.5)
sgd_error("error-weight-decay", "test_sgd_errors", lr=0.1, weight_decay=-1e-4)
sgd_error("error-lr-momentum", "test_sgd_errors", lr=-1.0, momentum=0.9)
CHECKS.append(
    Check(
        "defaults",
        "test_sgd_api",
        run=lambda ns, dev, dt: defaults(ns["SGD"], torch_default_keys(torch.optim.SGD)),
        reference=lambda dev, dt: defaults(torch.optim.SGD, torch_default_keys(torch.optim.SGD)),
        description="constructor defaults equal torch.optim.SGD's",
        needs=("sgd",),
    )
)
sgd_traj(
    "groups",
    "test_sgd_api",
    lr=0.1,
    momentum=0.9,
    groups=[{"lr": 0.05}, {"momentum": 0.5, "weight_decay": 0.01}],
)
sgd_traj("none-grad", "test_sgd_api", lr=0.1, momentum=0.9, none_grad=True)
sgd_traj("closure", "test_sgd_api", lr=0.1, momentum=0.9, closure=True)
sgd_traj("closure-none-grad", "test_sgd_api", lr=0.1, closure=True, none_grad=True)
sgd_traj("noncontiguous", "test_sgd_api", lr=0.1, momentum=0.9, noncontiguous=True)
sgd_traj("state-dict-roundtrip", "test_sgd_api", lr=0.1, momentum=0.9, seed=3, reload_after=3)
sgd_traj(
    "three-groups",
    "test_sgd_api",
    lr=0.1,
    momentum=0.9,
    groups=[{}, {"momentum": 0.0}, {"lr": 0.3}],
    shapes=((2,), (3,), (4,), (5,)),
)
sgd_traj("momentum-weight-decay", "test_sgd_api", lr=0.1, momentum=0.9, weight_decay=0.01)

# --- schedules -------------------------------------------------------------------------------------------------

STEP_CASES = {"a": (0.1, 3, 0.5, 12), "b": (0.3, 1, 0.1, 6), "c": (1.0, 7, 0.9, 30)}
WARMUP_CASES = {
    "a": (0.1, 5, 20, 0.1, 0.0),
    "b": (0.5, 10, 50, 0.01, 0.001),
    "c": (1.0, 1, 9, 0.5, 0.1),
}
WARMUP_BAD = [
    dict(k=0, eta0=0.1, warmup_steps=5, total_steps=5),
    dict(k=21, eta0=0.1, warmup_steps=5, total_steps=20),
    dict(k=0, eta0=0.1, warmup_steps=-1, total_steps=20),
]


def _torch_schedule(make_scheduler: Any, eta0: float, n: int) -> list[float]:
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=eta0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = make_scheduler(opt)
        lrs = [opt.param_groups[0]["lr"]]
        for _ in range(n):
            opt.step()
            sched.step()
            lrs.append(opt.param_groups[0]["lr"])
    return [float(v) for v in lrs]


def run_step_lr(ns: dict[str, Any], dev: torch.device, dt: torch.dtype) -> dict[str, Any]:
    f = ns["step_lr"]
    out: dict[str, Any] = {}
    for tag, (eta0, size, gamma, n) in STEP_CASES.items():
        vals = [f(k, eta0, size, gamma) for k in range(n + 1)]
        out[f"{tag}.types"] = ",".join(type(v).__name__ for v in vals)
        out[f"eta_{tag}"] = [float(v) for v in vals]
    out["step_size_0.raises"] = _raised(lambda: f(0, 0.1, 0))
    return out


def ref_step_lr(dev: torch.device, dt: torch.dtype) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for tag, (eta0, size, gamma, n) in STEP_CASES.items():
        lrs = _torch_schedule(
            lambda opt, size=size, gamma=gamma: torch.optim.lr_scheduler.StepLR(opt, size, gamma), eta0, n
        )
        out[f"{tag}.types"] = ",".join("float" for _ in lrs)
        out[f"eta_{tag}"] = np.array(lrs)
    out["step_size_0.raises"] = "ValueError"
    return out


def run_warmup(ns: dict[str, Any], dev: torch.device, dt: torch.dtype) -> dict[str, Any]:
    f = ns["warmup_cosine"]
    out: dict[str, Any] = {}
    for tag, (eta0, w, total, alpha, eta_min) in WARMUP_CASES.items():
        vals = [f(k, eta0, w, total, alpha, eta_min) for k in range(total + 1)]
        out[f"{tag}.types"] = ",".join(type(v).__name__ for v in vals)
        out[f"eta_{tag}"] = [float(v) for v in vals]
    vals = [f(k, 0.2, 0, 8) for k in range(9)]
    out["cos_only.types"] = ",".join(type(v).__name__ for v in vals)
    out["eta_cos_only"] = [float(v) for v in vals]
    for i, bad in enumerate(WARMUP_BAD):
        out[f"bad{i}.raises"] = _raised(lambda bad=bad: f(**bad))
    return out


def ref_warmup(dev: torch.device, dt: torch.dtype) -> dict[str, Any]:
    sched = torch.optim.lr_scheduler
    out: dict[str, Any] = {}
    for tag, (eta0, w, total, alpha, eta_min) in WARMUP_CASES.items():
        lrs = _torch_schedule(
            lambda opt, w=w, total=total, alpha=alpha, eta_min=eta_min: sched.SequentialLR(
                opt,
                [
                    sched.LinearLR(opt, start_factor=alpha, total_iters=w),
                    sched.CosineAnnealingLR(opt, T_max=total - w, eta_min=eta_min),
                ],
                milestones=[w],
            ),
            eta0,
            total,
        )
        out[f"{tag}.types"] = ",".join("float" for _ in lrs)
        out[f"eta_{tag}"] = np.array(lrs)
    out["cos_only.types"] = ",".join("float" for _ in range(9))
    out["eta_cos_only"] = np.array([0.2 * (1 + math.cos(math.pi * k / 8)) / 2 for k in range(9)])
    for i in range(len(WARMUP_BAD)):
        out[f"bad{i}.raises"] = "ValueError"
    return out


SCHED_TOL = Tolerance(rtol=1e-9, atol=1e-12, rtol32=1e-9, atol32=1e-12)
CHECKS += [
    Check(
        "step-lr",
        "test_step_lr",
        run_step_lr,
        ref_step_lr,
        "step_lr vs StepLR",
        tolerance=SCHED_TOL,
        needs=("schedules",),
    ),
    Check(
        "warmup-cosine",
        "test_warmup_cosine",
        run_warmup,
        ref_warmup,
        "warmup_cosine vs SequentialLR(LinearLR, CosineAnnealingLR)",
        tolerance=SCHED_TOL,
        plot="eta_b",
        needs=("schedules",),
    ),
]

# --- clipping --------------------------------------------------------------------------------------------------

CLIP_CASES = [
    dict(max_norm=1.0),
    dict(max_norm=100.0),
    dict(max_norm=0.5, norm_type=1.0),
    dict(max_norm=0.5, norm_type=math.inf),
    dict(max_norm=0.3, none_grad=True),
    dict(max_norm=0.3, single=True),
    dict(max_norm=2.0, scale=1e-3),
]


def _clip_case(
    f: Any, dev: torch.device, dt: torch.dtype, max_norm: float, norm_type: float = 2.0, **kw: Any
) -> dict[str, Any]:
    gen = torch.Generator().manual_seed(7)
    params = [
        torch.randn(*s, generator=gen, dtype=torch.float64).to(dev, dt).requires_grad_()
        for s in ((4, 3), (5,), (2, 2))
    ]
    ggen = torch.Generator().manual_seed(8)
    for i, p in enumerate(params):
        if kw.get("none_grad") and i == len(params) - 1:
            continue
        p.grad = torch.randn(*p.shape, generator=ggen, dtype=torch.float64).to(dev, dt) * kw.get("scale", 1.0)
    total = f(params[0] if kw.get("single") else params, max_norm, norm_type)
    out: dict[str, Any] = {
        "total.type": "Tensor" if isinstance(total, torch.Tensor) else type(total).__name__
    }
    out["total"] = [float(total)]
    for i, p in enumerate(params):
        out[f"grad{i}"] = "none" if p.grad is None else p.grad.detach().reshape(-1)
    return out


def run_clip(ns: dict[str, Any], dev: torch.device, dt: torch.dtype) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i, case in enumerate(CLIP_CASES):
        out.update({f"case{i}.{k}": v for k, v in _clip_case(ns["clip_grad_norm_"], dev, dt, **case).items()})
    p = torch.ones(3, dtype=torch.float64, requires_grad=True)
    p.grad = torch.tensor([1.0, math.inf, 0.0], dtype=torch.float64)
    out["nonfinite.raises"] = _raised(lambda: ns["clip_grad_norm_"]([p], 1.0, error_if_nonfinite=True))
    return out


def ref_clip(dev: torch.device, dt: torch.dtype) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i, case in enumerate(CLIP_CASES):
        ref = _clip_case(torch.nn.utils.clip_grad_norm_, dev, dt, **case)
        out.update({f"case{i}.{k}": v for k, v in ref.items()})
    out["nonfinite.raises"] = "RuntimeError"
    return out


CHECKS.append(
    Check(
        "clip-grad-norm",
        "test_clip_grad_norm",
        run_clip,
        ref_clip,
        "clip_grad_norm_ vs torch.nn.utils.clip_grad_norm_ (7 cases: returned total norm, clipped gradients)",
        tolerance=TOL,
        needs=("clipping",),
        dtypes=("float64", "float32"),
    )
)

# --- gradient accumulation -------------------------------------------------------------------------------------


def _accum_case(dev: torch.device, dt: torch.dtype, batch: int = 24) -> tuple[Any, ...]:
    torch.manual_seed(11)
    model = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)).to(dev, dt)
    x = torch.randn(batch, 6, dtype=dt, device=dev)
    y = torch.randint(0, 3, (batch,), device=dev)
    return model, torch.nn.CrossEntropyLoss(), x, y


def run_accum(ns: dict[str, Any], dev: torch.device, dt: torch.dtype) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, garbage in ((1, False), (4, False), (3, True), (24, False)):
        model, loss_fn, x, y = _accum_case(dev, dt)
        if garbage:
            for p in model.parameters():
                p.grad = torch.full_like(p, 5.0)
        loss = ns["accumulate_gradients"](model, loss_fn, x, y, k)
        out[f"k{k}.loss.type"] = type(loss).__name__
        out[f"k{k}.loss"] = [float(loss)]
        for name, p in model.named_parameters():
            out[f"k{k}.{name}.grad"] = "none" if p.grad is None else p.grad.detach().reshape(-1)
    model, loss_fn, x, y = _accum_case(dev, dt)
    out["k5.raises"] = _raised(lambda: ns["accumulate_gradients"](model, loss_fn, x, y, 5))
    return out


def ref_accum(dev: torch.device, dt: torch.dtype) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k in (1, 4, 3, 24):
        model, loss_fn, x, y = _accum_case(dev, dt)
        loss = loss_fn(model(x), y)
        loss.backward()
        out[f"k{k}.loss.type"] = "float"
        out[f"k{k}.loss"] = [float(loss.detach())]
        for name, p in model.named_parameters():
            out[f"k{k}.{name}.grad"] = p.grad.detach().reshape(-1)
    out["k5.raises"] = "ValueError"
    return out


CHECKS.append(
    Check(
        "grad-accumulation",
        "test_grad_accumulation",
        run_accum,
        ref_accum,
        "k micro-batches give the big-batch loss and gradient (k = 1, 4, 3 with stale gradients, 24; k = 5 raises)",
        tolerance=TOL,
        needs=("accumulation",),
        dtypes=("float64", "float32"),
    )
)

# --- training --------------------------------------------------------------------------------------------------

EXPECTED_STEPS = 8 * (1500 // 64)


def run_train(ns: dict[str, Any], dev: torch.device, dt: torch.dtype) -> dict[str, Any]:
    exec(LOCKED["digits_data"], ns)  # the locked data cell, fresh (trusted source)
    model, losses = ns["train_digits"]()
    with torch.no_grad():
        acc = (model(ns["X_test"]).argmax(dim=1) == ns["y_test"]).double().mean()
    return {"n_losses": len(losses), "accuracy": float(acc), "losses": [float(v) for v in losses]}


def ref_train(dev: torch.device, dt: torch.dtype) -> dict[str, Any]:
    return {"n_losses": EXPECTED_STEPS, "accuracy": 0.90}


def compare_train(student: dict[str, Any], reference: dict[str, Any], tol: tuple[float, float]) -> list[str]:
    problems = []
    if student.get("n_losses") != reference["n_losses"]:
        problems.append(
            f"expected {reference['n_losses']} losses (one per step), got {student.get('n_losses')}"
        )
    acc = student.get("accuracy")
    if not isinstance(acc, float) or not acc >= reference["accuracy"]:
        problems.append(f"test accuracy {acc} is below {reference['accuracy']}")
    return problems


CHECKS.append(
    Check(
        "train-digits",
        "test_train_digits",
        run_train,
        ref_train,
        "train_digits() reaches 90 % test accuracy in 184 optimizer steps",
        compare=compare_train,
        needs=("sgd", "schedules", "clipping", "accumulation", "training"),
        timeout_s=90.0,
    )
)

SPEC = Spec(
    assignment=ASSIGNMENT,
    notebook=ASSIGNMENT,
    cells=["sgd", "schedules", "clipping", "accumulation", "training"],
    checks=CHECKS,
    prelude=LOCKED["setup"],
    forbidden={
        r"\boptim\.SGD\b|from\s+torch\.optim\s+import\s+[^\n]*\bSGD\b|torch\.optim\.sgd\b|optim\._functional": (
            "uses torch.optim's SGD, which the assignment asks you to implement"
        ),
        r"nn\.utils\.clip_grad|from\s+torch\.nn\.utils[\w.]*\s+import\s+[^\n]*clip_grad": (
            "uses torch.nn.utils' gradient clipping, which the assignment asks you to implement"
        ),
        r"\bcourse_pkg\b": "imports the course's reference implementations",
    },
    limits=Limits(wall_s=240.0, check_s=5.0, cpu_s=240, memory_mb=3072, nproc=64),
    preload=["torch", "numpy", "sklearn.datasets"],
    partial_credit=False,
)
