"""Assignment a3-sgd-momentum-schedules: SGD with momentum/Nesterov, schedules, clipping, accumulation."""

from __future__ import annotations

from nbcells import DIGITS_DATA, OPTIM_HELPERS, SETUP, chapter_url, locked_code, md, notebook, solution, tests

NAME = "a3-sgd-momentum-schedules"

INTRO = f"""
# Assignment 3 — SGD, momentum, schedules, clipping and gradient accumulation

In this assignment you write, from scratch, the pieces of a standard deep-learning training loop and check each one
against PyTorch:

1. `SGD`, a subclass of `torch.optim.Optimizer` with `momentum`, `dampening`, `nesterov`, `weight_decay` and
   `maximize` — same constructor arguments, defaults, state keys (`"momentum_buffer"`) and error messages as
   `torch.optim.SGD`;
2. two learning-rate schedules: `step_lr` (like `torch.optim.lr_scheduler.StepLR`) and `warmup_cosine`
   (linear warm-up, then cosine annealing);
3. `clip_grad_norm_`, like `torch.nn.utils.clip_grad_norm_`;
4. `accumulate_gradients`: the gradient of a big batch from `k` micro-batches;
5. a small network trained with all of the above.

Background: the book chapters [Stochastic gradient descent]({chapter_url("optimization/sgd")}),
[Momentum]({chapter_url("optimization/momentum")}) and
[Learning-rate schedules]({chapter_url("optimization/schedules")}).

**How this notebook is graded.** Write your code only where it says `YOUR CODE HERE` (replace the
`raise NotImplementedError()`). Every cell that starts with `# Tests:` is worth the points shown in its first line;
it earns them when it runs without an error. The visible checks are part of each test cell; more (hidden) checks
of the same feature run when your notebook is graded, so make the visible ones pass *and* follow the specification.
Run the visible tests with *Run → Run All Cells* (or *Validate* in the assignment list), and fix the first failure
first: the messages say at which step `t`, for which parameter and which state entry your result differs from
PyTorch, and by how much. Do not use `torch.optim.SGD`, `torch.nn.utils.clip_grad_norm_` or PyTorch's schedulers in
your own code (except `LambdaLR`, which wraps your schedule in part 5): they are the references.

**Notation** (as in the book). θ: parameters; t = 1, 2, …: step; g_t = ∇L(θ_{{t-1}}): gradient at step t;
η: learning rate; μ: momentum; τ: dampening; λ: weight decay; b_t: momentum buffer.
"""

SGD_SPEC = r"""
## 1. `SGD` (11 points)

At step $t$ (with $g_t$ the gradient stored in `p.grad`), for every parameter tensor $\theta$ with a gradient:

$$
\begin{aligned}
g_t &\leftarrow -g_t && \text{if maximize}\\
g_t &\leftarrow g_t + \lambda\,\theta_{t-1} && \text{if } \lambda \neq 0\\
b_t &= \begin{cases} g_t & t = 1 \text{ (first step with momentum for this parameter)}\\
        \mu\, b_{t-1} + (1-\tau)\, g_t & t > 1\end{cases} && \text{if } \mu \neq 0\\
g_t &\leftarrow \begin{cases} g_t + \mu\, b_t & \text{nesterov}\\ b_t & \text{otherwise}\end{cases}
    && \text{if } \mu \neq 0\\
\theta_t &= \theta_{t-1} - \eta\, g_t
\end{aligned}
$$

Specification (exactly `torch.optim.SGD`'s behaviour):

* signature `SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False)`;
  pass all options except `params` as the `defaults` dict to `torch.optim.Optimizer.__init__`, so that
  parameter groups (a list of dicts with their own `lr`, `momentum`, …) work;
* errors (`ValueError`, torch's exact text): `Invalid learning rate: {lr}` when `lr < 0`,
  `Invalid momentum value: {momentum}` when `momentum < 0`, `Invalid weight_decay value: {weight_decay}` when
  `weight_decay < 0`, and `Nesterov momentum requires a momentum and zero dampening` when `nesterov` is set with
  `momentum <= 0` or `dampening != 0`;
* the buffer $b_t$ lives in `self.state[p]["momentum_buffer"]` and exists only when `momentum != 0`; the first
  buffer is a *copy* of $g_t$ (no dampening on the first step);
* parameters whose `p.grad is None` are skipped (they neither move nor get state);
* `step(closure=None)`: if a closure is given, call it under `torch.enable_grad()` and return its loss
  (otherwise return `None`); decorate `step` with `@torch.no_grad()` and update `p` in place;
* `state_dict()` / `load_state_dict()` come from the base class: keep all your state in `self.state`.

Tests (one cell per option): plain SGD, momentum, dampening, Nesterov, weight decay, maximize, constructor errors,
and the API (defaults, parameter groups, `None` gradients, closures, `state_dict` round trip, non-contiguous
tensors, CUDA when available). Each compares parameters **and** state with `torch.optim.SGD` for several steps in
float64.
"""

SGD_SOLUTION = """
class SGD(torch.optim.Optimizer):
    \"\"\"Stochastic gradient descent with momentum, dampening, Nesterov, weight decay and maximize.\"\"\"

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False):
        ### BEGIN SOLUTION
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)
        ### END SOLUTION

    @torch.no_grad()
    def step(self, closure=None):
        ### BEGIN SOLUTION
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, mu, tau = group["lr"], group["momentum"], group["dampening"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = -p.grad if group["maximize"] else p.grad
                if group["weight_decay"] != 0:
                    g = g.add(p, alpha=group["weight_decay"])
                if mu != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = g.detach().clone()
                        state["momentum_buffer"] = buf
                    else:
                        buf.mul_(mu).add_(g, alpha=1 - tau)
                    if group["nesterov"]:
                        g = g.add(buf, alpha=mu)
                    else:
                        g = buf
                p.add_(g, alpha=-lr)
        return loss
        ### END SOLUTION
"""

SGD_TESTS = [
    (
        "test_sgd_plain",
        1,
        """
        # Tests: plain SGD (1 point)
        check_against_torch(SGD, torch.optim.SGD, lr=0.1)
        ### BEGIN HIDDEN TESTS
        check_against_torch(SGD, torch.optim.SGD, steps=10, lr=0.03, shapes=((2, 3, 4), (1,), (7,)))
        check_against_torch(SGD, torch.optim.SGD)  # default lr
        ### END HIDDEN TESTS
        print("plain SGD matches torch.optim.SGD")
        """,
    ),
    (
        "test_sgd_momentum",
        2,
        """
        # Tests: momentum (2 points)
        check_against_torch(SGD, torch.optim.SGD, lr=0.1, momentum=0.9)
        ### BEGIN HIDDEN TESTS
        check_against_torch(SGD, torch.optim.SGD, steps=12, lr=0.05, momentum=0.5, shapes=((3, 3, 2), (6,)))
        check_against_torch(SGD, torch.optim.SGD, steps=8, lr=0.01, momentum=0.99)
        ### END HIDDEN TESTS
        print("SGD with momentum matches torch.optim.SGD")
        """,
    ),
    (
        "test_sgd_dampening",
        1,
        """
        # Tests: dampening (1 point)
        check_against_torch(SGD, torch.optim.SGD, lr=0.1, momentum=0.9, dampening=0.5)
        ### BEGIN HIDDEN TESTS
        check_against_torch(SGD, torch.optim.SGD, steps=10, lr=0.05, momentum=0.7, dampening=0.1)
        check_against_torch(SGD, torch.optim.SGD, steps=6, lr=0.05, momentum=0.3, dampening=1.0)
        ### END HIDDEN TESTS
        print("SGD with dampening matches torch.optim.SGD")
        """,
    ),
    (
        "test_sgd_nesterov",
        2,
        """
        # Tests: Nesterov momentum (2 points)
        check_against_torch(SGD, torch.optim.SGD, lr=0.1, momentum=0.9, nesterov=True)
        ### BEGIN HIDDEN TESTS
        check_against_torch(SGD, torch.optim.SGD, steps=12, lr=0.02, momentum=0.5, nesterov=True,
                            shapes=((5, 2), (3,)))
        check_same_error(SGD, torch.optim.SGD, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)
        check_same_error(SGD, torch.optim.SGD, lr=0.1, momentum=0.0, nesterov=True)
        ### END HIDDEN TESTS
        print("SGD with Nesterov momentum matches torch.optim.SGD")
        """,
    ),
    (
        "test_sgd_weight_decay",
        1,
        """
        # Tests: weight decay (1 point)
        check_against_torch(SGD, torch.optim.SGD, lr=0.1, weight_decay=0.1)
        ### BEGIN HIDDEN TESTS
        check_against_torch(SGD, torch.optim.SGD, steps=10, lr=0.05, momentum=0.9, weight_decay=0.01)
        check_against_torch(SGD, torch.optim.SGD, steps=5, lr=0.5, weight_decay=1.0)
        ### END HIDDEN TESTS
        print("SGD with weight decay matches torch.optim.SGD")
        """,
    ),
    (
        "test_sgd_maximize",
        1,
        """
        # Tests: maximize (1 point)
        check_against_torch(SGD, torch.optim.SGD, lr=0.1, maximize=True)
        ### BEGIN HIDDEN TESTS
        check_against_torch(SGD, torch.optim.SGD, steps=9, lr=0.05, momentum=0.8, maximize=True)
        check_against_torch(SGD, torch.optim.SGD, steps=6, lr=0.05, weight_decay=0.1, maximize=True)
        ### END HIDDEN TESTS
        print("SGD with maximize=True matches torch.optim.SGD")
        """,
    ),
    (
        "test_sgd_errors",
        1,
        """
        # Tests: constructor errors (1 point)
        check_same_error(SGD, torch.optim.SGD, lr=-0.1)
        check_same_error(SGD, torch.optim.SGD, lr=0.1, momentum=-0.5)
        ### BEGIN HIDDEN TESTS
        check_same_error(SGD, torch.optim.SGD, lr=0.1, weight_decay=-1e-4)
        check_same_error(SGD, torch.optim.SGD, lr=-1.0, momentum=0.9)
        ### END HIDDEN TESTS
        print("SGD raises torch.optim.SGD's errors")
        """,
    ),
    (
        "test_sgd_api",
        2,
        """
        # Tests: defaults, parameter groups, None gradients, closures, state_dict, non-contiguous tensors (2 points)
        check_defaults(SGD, torch.optim.SGD)
        check_against_torch(SGD, torch.optim.SGD, lr=0.1, momentum=0.9,
                            groups=[{"lr": 0.05}, {"momentum": 0.5, "weight_decay": 0.01}])
        check_against_torch(SGD, torch.optim.SGD, lr=0.1, momentum=0.9, none_grad=True)
        ### BEGIN HIDDEN TESTS
        check_against_torch(SGD, torch.optim.SGD, lr=0.1, momentum=0.9, closure=True)
        check_against_torch(SGD, torch.optim.SGD, lr=0.1, closure=True, none_grad=True)
        check_against_torch(SGD, torch.optim.SGD, lr=0.1, momentum=0.9, noncontiguous=True)
        check_state_dict_roundtrip(SGD, torch.optim.SGD, lr=0.1, momentum=0.9)
        check_against_torch(SGD, torch.optim.SGD, lr=0.1, momentum=0.9, groups=[{}, {"momentum": 0.0}, {"lr": 0.3}],
                            shapes=((2,), (3,), (4,), (5,)))
        for device in ["cpu"] + (["cuda"] if torch.cuda.is_available() else []):
            check_against_torch(SGD, torch.optim.SGD, lr=0.1, momentum=0.9, weight_decay=0.01, device=device)
        ### END HIDDEN TESTS
        print("SGD's optimizer API behaves like torch.optim.SGD")
        """,
    ),
]

SCHED_SPEC = r"""
## 2. Learning-rate schedules (3 points)

A schedule maps the number $k = 0, 1, 2, \dots$ of `scheduler.step()` calls made so far to a learning rate
$\eta_k$ (step $t$ of training uses $\eta_{t-1}$ when the scheduler is stepped once per iteration).

**Step decay** (like `torch.optim.lr_scheduler.StepLR(optimizer, step_size, gamma)`):

$$\eta_k = \eta_0\, \gamma^{\lfloor k / s \rfloor}$$

with $\eta_0$ the initial learning rate and $s$ the `step_size`.

**Warm-up then cosine** (like `SequentialLR(optimizer, [LinearLR(optimizer, start_factor=α, total_iters=W),
CosineAnnealingLR(optimizer, T_max=T-W, eta_min=η_min)], milestones=[W])`), for $0 \le k \le T$:

$$
\eta_k = \begin{cases}
\eta_0 \left(\alpha + (1-\alpha)\,\dfrac{k}{W}\right) & k < W\\[2mm]
\eta_{\min} + \dfrac{\eta_0 - \eta_{\min}}{2}\left(1 + \cos\left(\pi\,\dfrac{k - W}{T - W}\right)\right) & W \le k \le T
\end{cases}
$$

with $W$ the number of warm-up steps, $T$ the total number of steps and $\alpha$ the warm-up start factor.
Return plain Python floats. Raise `ValueError` (with a message naming the problem) when `step_size < 1`,
`warmup_steps < 0`, `total_steps <= warmup_steps`, or `k` is outside `[0, total_steps]`.

To use a schedule with any optimizer, wrap it:
`torch.optim.lr_scheduler.LambdaLR(opt, lambda k: warmup_cosine(k, 1.0, W, T, alpha, 0.0))` multiplies the
optimizer's initial learning rate by the returned factor.
"""

SCHED_SOLUTION = """
def step_lr(k, eta0, step_size, gamma=0.1):
    \"\"\"Learning rate after k scheduler steps: eta0 * gamma ** (k // step_size).\"\"\"
    ### BEGIN SOLUTION
    if step_size < 1:
        raise ValueError(f"step_size must be a positive integer, got {step_size}")
    return float(eta0 * gamma ** (k // step_size))
    ### END SOLUTION


def warmup_cosine(k, eta0, warmup_steps, total_steps, start_factor=0.1, eta_min=0.0):
    \"\"\"Learning rate after k scheduler steps: linear warm-up over warmup_steps, then cosine down to eta_min.\"\"\"
    ### BEGIN SOLUTION
    if warmup_steps < 0:
        raise ValueError(f"warmup_steps must be >= 0, got {warmup_steps}")
    if total_steps <= warmup_steps:
        raise ValueError(f"total_steps ({total_steps}) must be larger than warmup_steps ({warmup_steps})")
    if not 0 <= k <= total_steps:
        raise ValueError(f"k must be in [0, total_steps={total_steps}], got {k}")
    if k < warmup_steps:
        return float(eta0 * (start_factor + (1 - start_factor) * k / warmup_steps))
    progress = (k - warmup_steps) / (total_steps - warmup_steps)
    return float(eta_min + (eta0 - eta_min) * (1 + math.cos(math.pi * progress)) / 2)
    ### END SOLUTION
"""

SCHED_HELPER = """
import warnings


def torch_schedule(make_scheduler, eta0, n):
    \"\"\"Learning rates [η_0, ..., η_n] produced by a torch scheduler (the reference in the tests below).\"\"\"
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=eta0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns about scheduler internals; not your concern here
        sched = make_scheduler(opt)
        lrs = [opt.param_groups[0]["lr"]]
        for _ in range(n):
            opt.step()
            sched.step()
            lrs.append(opt.param_groups[0]["lr"])
    return lrs


def check_schedule(mine, reference, label):
    for k, (a, b) in enumerate(zip(mine, reference)):
        assert isinstance(a, float), f"{label}: k={k}: return a Python float, got {type(a).__name__}"
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), f"{label}: k={k}: got η_k={a!r}, torch gives {b!r}"
"""

SCHED_TESTS = [
    (
        "test_step_lr",
        1,
        """
        # Tests: step decay vs torch.optim.lr_scheduler.StepLR (1 point)
        ref = torch_schedule(lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5), 0.1, 12)
        check_schedule([step_lr(k, 0.1, 3, 0.5) for k in range(13)], ref, "step_lr(k, 0.1, step_size=3, gamma=0.5)")
        ### BEGIN HIDDEN TESTS
        ref = torch_schedule(lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=1), 0.3, 6)
        check_schedule([step_lr(k, 0.3, 1) for k in range(7)], ref, "step_lr(k, 0.3, step_size=1)")
        ref = torch_schedule(lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=7, gamma=0.9), 1.0, 30)
        check_schedule([step_lr(k, 1.0, 7, 0.9) for k in range(31)], ref, "step_lr(k, 1.0, step_size=7, gamma=0.9)")
        try:
            step_lr(0, 0.1, 0)
        except ValueError:
            pass
        else:
            raise AssertionError("step_lr(0, 0.1, step_size=0) should raise ValueError")
        ### END HIDDEN TESTS
        print("step_lr matches StepLR")
        """,
    ),
    (
        "test_warmup_cosine",
        2,
        """
        # Tests: warm-up + cosine vs SequentialLR(LinearLR, CosineAnnealingLR) (2 points)
        def reference(eta0, W, T, alpha, eta_min):
            sched = torch.optim.lr_scheduler
            return torch_schedule(lambda opt: sched.SequentialLR(opt, [
                sched.LinearLR(opt, start_factor=alpha, total_iters=W),
                sched.CosineAnnealingLR(opt, T_max=T - W, eta_min=eta_min)], milestones=[W]), eta0, T)

        check_schedule([warmup_cosine(k, 0.1, 5, 20, 0.1, 0.0) for k in range(21)], reference(0.1, 5, 20, 0.1, 0.0),
                       "warmup_cosine(k, 0.1, warmup_steps=5, total_steps=20)")
        ### BEGIN HIDDEN TESTS
        check_schedule([warmup_cosine(k, 0.5, 10, 50, 0.01, 0.001) for k in range(51)],
                       reference(0.5, 10, 50, 0.01, 0.001), "warmup_cosine(k, 0.5, 10, 50, 0.01, 0.001)")
        check_schedule([warmup_cosine(k, 1.0, 1, 9, 0.5, 0.1) for k in range(10)],
                       reference(1.0, 1, 9, 0.5, 0.1), "warmup_cosine(k, 1.0, 1, 9, 0.5, 0.1)")
        cos_only = [0.2 * (1 + math.cos(math.pi * k / 8)) / 2 for k in range(9)]
        check_schedule([warmup_cosine(k, 0.2, 0, 8) for k in range(9)], cos_only, "warmup_cosine(k, 0.2, 0, 8)")
        for bad in [dict(k=0, eta0=0.1, warmup_steps=5, total_steps=5), dict(k=21, eta0=0.1, warmup_steps=5, total_steps=20),
                    dict(k=0, eta0=0.1, warmup_steps=-1, total_steps=20)]:
            try:
                warmup_cosine(**bad)
            except ValueError:
                pass
            else:
                raise AssertionError(f"warmup_cosine(**{bad}) should raise ValueError")
        ### END HIDDEN TESTS
        print("warmup_cosine matches SequentialLR(LinearLR, CosineAnnealingLR)")
        """,
    ),
]

CLIP_SPEC = r"""
## 3. Gradient clipping by global norm (2 points)

`clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False)` treats the gradients of all
`parameters` (a tensor or an iterable of tensors; those with `p.grad is None` are ignored) as one long vector
$g$, computes its norm $\|g\|_p$ (with `norm_type` $p$, which may be `math.inf`: the largest absolute entry),
and rescales every gradient **in place** by

$$c = \min\left(1, \frac{\text{max\_norm}}{\|g\|_p + 10^{-6}}\right),$$

exactly as `torch.nn.utils.clip_grad_norm_` does. It returns the total norm $\|g\|_p$ *before* clipping as a
0-dim tensor (`torch.tensor(0.0)` when no parameter has a gradient). If `error_if_nonfinite` is true and the total
norm is `nan` or `inf`, raise `RuntimeError` before changing anything.
"""

CLIP_SOLUTION = """
def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    \"\"\"Rescale the gradients of ``parameters`` in place so that their global norm is at most ``max_norm``.\"\"\"
    ### BEGIN SOLUTION
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return torch.tensor(0.0)
    norms = torch.stack([torch.linalg.vector_norm(g, norm_type) for g in grads])
    total = torch.linalg.vector_norm(norms, norm_type)
    if error_if_nonfinite and not torch.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients is non-finite, so it cannot be clipped.")
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g.mul_(coef)
    return total
    ### END SOLUTION
"""

CLIP_TESTS = [
    (
        "test_clip_grad_norm",
        2,
        """
        # Tests: clip_grad_norm_ vs torch.nn.utils.clip_grad_norm_ (2 points)
        def check_clip(max_norm, norm_type=2.0, none_grad=False, single=False, scale=1.0):
            mine, ref = make_params(((4, 3), (5,), (2, 2)), seed=7)
            _set_grads(mine, ref, torch.Generator().manual_seed(8), none_grad=none_grad, noncontiguous=False)
            for p in mine + ref:
                if p.grad is not None:
                    p.grad.mul_(scale)
            args = (mine[0], ref[0]) if single else (mine, ref)
            total_mine = clip_grad_norm_(args[0], max_norm, norm_type)
            total_ref = torch.nn.utils.clip_grad_norm_(args[1], max_norm, norm_type)
            label = f"clip_grad_norm_(max_norm={max_norm}, norm_type={norm_type})"
            assert isinstance(total_mine, torch.Tensor), f"{label} must return a tensor, got {type(total_mine).__name__}"
            assert _close(total_mine, total_ref, 1e-12, 1e-9), f"{label} returned total norm {float(total_mine)}, torch gives {float(total_ref)}"
            for i, (pm, pr) in enumerate(zip(mine, ref)):
                if pr.grad is None:
                    assert pm.grad is None, f"{label}: parameter {i} had no gradient and must keep none"
                    continue
                assert _close(pm.grad, pr.grad, 1e-12, 1e-9), f"{label}: gradient of parameter {i} differs: max |Δ| = {_max_diff(pm.grad, pr.grad):.3e}"

        check_clip(max_norm=1.0)
        ### BEGIN HIDDEN TESTS
        check_clip(max_norm=100.0)  # no clipping: gradients unchanged
        check_clip(max_norm=0.5, norm_type=1.0)
        check_clip(max_norm=0.5, norm_type=math.inf)
        check_clip(max_norm=0.3, none_grad=True)
        check_clip(max_norm=0.3, single=True)
        check_clip(max_norm=2.0, scale=1e-3)
        p = torch.ones(3, dtype=DTYPE, requires_grad=True)
        p.grad = torch.tensor([1.0, math.inf, 0.0], dtype=DTYPE)
        try:
            clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
        except RuntimeError:
            pass
        else:
            raise AssertionError("clip_grad_norm_ with an infinite gradient and error_if_nonfinite=True should raise RuntimeError")
        ### END HIDDEN TESTS
        print("clip_grad_norm_ matches torch.nn.utils.clip_grad_norm_")
        """,
    ),
]

ACC_SPEC = r"""
## 4. Gradient accumulation (2 points)

A batch $B$ too large for memory can be processed as $k$ micro-batches $B_1, \dots, B_k$ of equal size $|B|/k$.
With a loss $L$ that *averages* over its batch,

$$\nabla_\theta L(B) = \frac{1}{k}\sum_{j=1}^{k} \nabla_\theta L(B_j),$$

so back-propagating $L(B_j)/k$ for each micro-batch (gradients add up in `p.grad`) gives exactly the big-batch
gradient. Write `accumulate_gradients(model, loss_fn, x, y, k)`:

* first reset the gradients (`model.zero_grad()`): afterwards `p.grad` must hold the gradient of
  `loss_fn(model(x), y)` and nothing else;
* split `x` and `y` along dimension 0 into `k` consecutive equal chunks and back-propagate each chunk's loss
  divided by `k`;
* return the big-batch loss as a Python float (the mean of the chunk losses);
* raise `ValueError` naming both numbers when the batch size is not divisible by `k` (or `k < 1`).

It does **not** call the optimizer: your training loop calls `accumulate_gradients`, then clips, then steps.
"""

ACC_SOLUTION = """
def accumulate_gradients(model, loss_fn, x, y, k):
    \"\"\"Fill p.grad with the gradient of loss_fn(model(x), y), computed from k equal micro-batches.\"\"\"
    ### BEGIN SOLUTION
    n = x.shape[0]
    if k < 1 or n % k != 0:
        raise ValueError(f"batch size {n} is not divisible by k={k}")
    model.zero_grad()
    total = 0.0
    for xb, yb in zip(x.chunk(k), y.chunk(k)):
        loss = loss_fn(model(xb), yb) / k
        loss.backward()
        total += loss.item()
    return total
    ### END SOLUTION
"""

ACC_TESTS = [
    (
        "test_grad_accumulation",
        2,
        """
        # Tests: k micro-batches with loss/k give the big-batch gradient (2 points)
        def check_accumulation(k, batch=24, garbage=False):
            torch.manual_seed(11)
            model = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)).to(DEVICE, DTYPE)
            x = torch.randn(batch, 6, dtype=DTYPE, device=DEVICE)
            y = torch.randint(0, 3, (batch,), device=DEVICE)
            loss_fn = torch.nn.CrossEntropyLoss()
            reference = copy.deepcopy(model)
            big_loss = loss_fn(reference(x), y)
            big_loss.backward()
            if garbage:  # stale gradients must be discarded
                for p in model.parameters():
                    p.grad = torch.full_like(p, 5.0)
            loss = accumulate_gradients(model, loss_fn, x, y, k)
            assert isinstance(loss, float), f"accumulate_gradients must return a float, got {type(loss).__name__}"
            assert math.isclose(loss, big_loss.item(), rel_tol=1e-9), f"k={k}: returned loss {loss}, the big batch gives {big_loss.item()}"
            for (name, p), q in zip(model.named_parameters(), reference.parameters()):
                assert p.grad is not None, f"k={k}: {name}.grad is None"
                assert _close(p.grad, q.grad, 1e-12, 1e-9), f"k={k}: gradient of {name} differs from the big batch: max |Δ| = {_max_diff(p.grad, q.grad):.3e}"

        check_accumulation(k=1)
        check_accumulation(k=4)
        ### BEGIN HIDDEN TESTS
        check_accumulation(k=3, garbage=True)
        check_accumulation(k=24)
        try:
            check_accumulation(k=5)
        except ValueError:
            pass
        else:
            raise AssertionError("accumulate_gradients with batch size 24 and k=5 should raise ValueError")
        ### END HIDDEN TESTS
        print("accumulate_gradients reproduces the big-batch gradient")
        """,
    ),
]

TRAIN_SPEC = r"""
## 5. Train a small network (2 points)

Put everything together on scikit-learn's handwritten digits (8×8 images, 10 classes; loaded below). Write
`train_digits(epochs, batch_size, k, lr, seed)` that trains the `make_model()` network with **your** `SGD`
(momentum 0.9, Nesterov), **your** `warmup_cosine` schedule through `torch.optim.lr_scheduler.LambdaLR` (one
scheduler step per optimizer step, warm-up over the first epoch, `total_steps` = number of optimizer steps),
**your** `clip_grad_norm_` (max norm 1.0) and **your** `accumulate_gradients` (`k` micro-batches per batch). It
returns the trained model and the list of training losses (one per optimizer step). Reshuffle the training set
every epoch with a `torch.Generator` seeded with `seed`; drop the last incomplete batch.

The test trains with the default arguments and requires a test accuracy of at least 90 %; it runs in about a
second. Plot `losses` (log scale) in a cell of your own to see the warm-up and the cosine decay at work.
"""


TRAIN_SOLUTION = """
def train_digits(epochs=8, batch_size=64, k=2, lr=0.1, seed=0):
    \"\"\"Train make_model(seed) on (X_train, y_train); return (model, list of training losses).\"\"\"
    ### BEGIN SOLUTION
    model = make_model(seed)
    loss_fn = torch.nn.CrossEntropyLoss()
    opt = SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True)
    per_epoch = len(X_train) // batch_size
    total = epochs * per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: warmup_cosine(min(s, total), 1.0, per_epoch, total))
    gen = torch.Generator().manual_seed(seed)
    losses = []
    for _ in range(epochs):
        order = torch.randperm(len(X_train), generator=gen).to(DEVICE)
        for b in range(per_epoch):
            idx = order[b * batch_size : (b + 1) * batch_size]
            losses.append(accumulate_gradients(model, loss_fn, X_train[idx], y_train[idx], k))
            clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
    return model, losses
    ### END SOLUTION
"""

TRAIN_TESTS = [
    (
        "test_train_digits",
        2,
        """
        # Tests: the trained network reaches 90 % test accuracy (2 points)
        model, losses = train_digits()
        acc = accuracy(model, X_test, y_test)
        print(f"{len(losses)} optimizer steps, final training loss {losses[-1]:.3f}, test accuracy {acc:.3f}")
        assert len(losses) == 8 * (1500 // 64), f"expected {8 * (1500 // 64)} losses (one per optimizer step), got {len(losses)}"
        assert acc >= 0.90, f"test accuracy {acc:.3f} is below 0.90"
        """,
    ),
]


def cells() -> list:
    """All cells of the a3 notebook, in order."""
    out = [md(INTRO), locked_code("setup", SETUP), locked_code("optim_helpers", OPTIM_HELPERS), md(SGD_SPEC)]
    out.append(solution("sgd", SGD_SOLUTION))
    out += [tests(gid, pts, code) for gid, pts, code in SGD_TESTS]
    out += [
        md(SCHED_SPEC),
        solution("schedules", SCHED_SOLUTION),
        locked_code("schedule_helpers", SCHED_HELPER),
    ]
    out += [tests(gid, pts, code) for gid, pts, code in SCHED_TESTS]
    out += [md(CLIP_SPEC), solution("clipping", CLIP_SOLUTION)]
    out += [tests(gid, pts, code) for gid, pts, code in CLIP_TESTS]
    out += [md(ACC_SPEC), solution("accumulation", ACC_SOLUTION)]
    out += [tests(gid, pts, code) for gid, pts, code in ACC_TESTS]
    out += [md(TRAIN_SPEC), locked_code("digits_data", DIGITS_DATA), solution("training", TRAIN_SOLUTION)]
    out += [tests(gid, pts, code) for gid, pts, code in TRAIN_TESTS]
    return out


def build():
    """The a3 notebook."""
    return notebook(cells())
