"""Assignment a4-adaptive-optimizers: Adagrad, RMSprop (centered, momentum) and Adadelta."""

from __future__ import annotations

from nbcells import (
    OPTIM_HELPERS,
    SETUP,
    chapter_url,
    feature_tests,
    locked_code,
    md,
    notebook,
    solution,
    tests,
)

NAME = "a4-adaptive-optimizers"

INTRO = f"""
# Assignment 4 — Adaptive optimizers: Adagrad, RMSprop and Adadelta

Adaptive methods give every coordinate of θ its own step size, computed from the history of its gradients. You
implement three of them as subclasses of `torch.optim.Optimizer`, with `torch.optim`'s constructor arguments,
defaults, state keys and error messages:

1. `Adagrad` (with `lr_decay`, `initial_accumulator_value`, `weight_decay`, `maximize`);
2. `RMSprop` (with `centered`, `momentum`, `weight_decay`, `maximize`);
3. `Adadelta` (with `weight_decay`, `maximize`).

Background: the book chapter [Adaptive methods]({chapter_url("optimization/adaptive")}).

**How this notebook is graded.** Write your code only where it says `YOUR CODE HERE` (replace the
`raise NotImplementedError()`). Every cell that starts with `# Tests:` is worth the points shown in its first line
and earns them when it runs without an error; hidden checks of the same feature run when your notebook is graded.
Run the visible tests with *Run → Run All Cells* (or *Validate*); the messages say at which step `t`, for which
parameter and which state entry your result differs from PyTorch, and by how much. Do not use the `torch.optim`
classes in your own code: they are the references.

**Notation** (as in the book). θ: parameters; t = 1, 2, …: step; g_t: gradient at step t; η: learning rate;
ε: a small constant; λ: weight decay. All operations on tensors are element-wise. In every optimizer below, first
$g_t \\leftarrow -g_t$ if `maximize`, then $g_t \\leftarrow g_t + \\lambda\\,\\theta_{{t-1}}$ if $\\lambda \\ne 0$;
parameters whose `p.grad is None` are skipped; `step(closure=None)` calls the closure under `torch.enable_grad()`
and returns its loss; decorate `step` with `@torch.no_grad()`; put every option except `params` in `defaults`.
"""

ADAGRAD_SPEC = r"""
## 1. `Adagrad` (7 points)

With $s_0 = $ `initial_accumulator_value` (a tensor filled with it) and the decayed rate
$\eta_t = \eta / (1 + (t-1)\,\delta)$ (δ: `lr_decay`):

$$
s_t = s_{t-1} + g_t^2, \qquad \theta_t = \theta_{t-1} - \eta_t\,\frac{g_t}{\sqrt{s_t} + \epsilon}
$$

* signature `Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, *,
  maximize=False)`;
* state: unlike the other optimizers, `torch.optim.Adagrad` creates the state of **every** parameter in its
  constructor: `"step"` = 0 (a tensor or a number) and `"sum"` = $s_0$ (same shape as the parameter);
  a step then increments `"step"` and updates `"sum"` of the parameters that have a gradient;
* errors (`ValueError`): `Invalid learning rate: {lr}`, `Invalid lr_decay value: {lr_decay}`,
  `Invalid weight_decay value: {weight_decay}`,
  `Invalid initial_accumulator_value value: {initial_accumulator_value}`, `Invalid epsilon value: {eps}`
  (each when the value is negative).
"""

ADAGRAD_SOLUTION = """
class Adagrad(torch.optim.Optimizer):
    \"\"\"Adagrad (Duchi, Hazan & Singer, 2011).\"\"\"

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, *,
                 maximize=False):
        ### BEGIN SOLUTION
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p]["step"] = torch.tensor(0.0)
                self.state[p]["sum"] = torch.full_like(p, initial_accumulator_value,
                                                       memory_format=torch.preserve_format)
        ### END SOLUTION

    @torch.no_grad()
    def step(self, closure=None):
        ### BEGIN SOLUTION
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = -p.grad if group["maximize"] else p.grad
                state = self.state[p]
                state["step"] += 1
                t = state["step"].item()
                if group["weight_decay"] != 0:
                    g = g.add(p, alpha=group["weight_decay"])
                clr = group["lr"] / (1 + (t - 1) * group["lr_decay"])
                state["sum"].addcmul_(g, g, value=1)
                p.addcdiv_(g, state["sum"].sqrt().add_(group["eps"]), value=-clr)
        return loss
        ### END SOLUTION
"""

ADAGRAD_TESTS = [
    feature_tests(
        "test_adagrad",
        2,
        "Adagrad",
        "check_against_torch(Adagrad, torch.optim.Adagrad, lr=0.1)",
        """
        check_against_torch(Adagrad, torch.optim.Adagrad, steps=12, lr=0.03, eps=1e-6, shapes=((2, 3, 4), (1,)))
        check_against_torch(Adagrad, torch.optim.Adagrad)  # defaults
        """,
        "Adagrad matches torch.optim.Adagrad",
    ),
    feature_tests(
        "test_adagrad_lr_decay",
        1,
        "Adagrad lr_decay",
        "check_against_torch(Adagrad, torch.optim.Adagrad, lr=0.1, lr_decay=0.1)",
        """
        check_against_torch(Adagrad, torch.optim.Adagrad, steps=15, lr=0.5, lr_decay=1.0)
        check_against_torch(Adagrad, torch.optim.Adagrad, lr=0.1, groups=[{"lr_decay": 0.5}, {"lr": 0.2}])
        """,
        "Adagrad's lr_decay matches torch.optim.Adagrad",
    ),
    feature_tests(
        "test_adagrad_initial_accumulator",
        1,
        "Adagrad initial_accumulator_value",
        "check_against_torch(Adagrad, torch.optim.Adagrad, lr=0.1, initial_accumulator_value=0.5)",
        "check_against_torch(Adagrad, torch.optim.Adagrad, steps=3, lr=0.1, initial_accumulator_value=10.0)",
        "Adagrad's initial_accumulator_value matches torch.optim.Adagrad",
    ),
    feature_tests(
        "test_adagrad_weight_decay",
        1,
        "Adagrad weight decay",
        "check_against_torch(Adagrad, torch.optim.Adagrad, lr=0.1, weight_decay=0.1)",
        "check_against_torch(Adagrad, torch.optim.Adagrad, steps=10, lr=0.05, weight_decay=1.0)",
        "Adagrad's weight decay matches torch.optim.Adagrad",
    ),
    feature_tests(
        "test_adagrad_maximize",
        1,
        "Adagrad maximize",
        "check_against_torch(Adagrad, torch.optim.Adagrad, lr=0.1, maximize=True)",
        "check_against_torch(Adagrad, torch.optim.Adagrad, steps=9, lr=0.1, maximize=True, weight_decay=0.1)",
        "Adagrad(maximize=True) matches torch.optim.Adagrad",
    ),
    feature_tests(
        "test_adagrad_api",
        1,
        "Adagrad defaults, errors, parameter groups, None gradients, closures, state_dict",
        """
        check_defaults(Adagrad, torch.optim.Adagrad)
        check_same_error(Adagrad, torch.optim.Adagrad, lr=-0.1)
        check_against_torch(Adagrad, torch.optim.Adagrad, lr=0.1, none_grad=True)
        """,
        """
        check_same_error(Adagrad, torch.optim.Adagrad, lr_decay=-0.1)
        check_same_error(Adagrad, torch.optim.Adagrad, weight_decay=-0.1)
        check_same_error(Adagrad, torch.optim.Adagrad, initial_accumulator_value=-1.0)
        check_same_error(Adagrad, torch.optim.Adagrad, eps=-1.0)
        check_against_torch(Adagrad, torch.optim.Adagrad, lr=0.1, groups=[{"lr": 0.5}, {"eps": 1e-3}])
        check_against_torch(Adagrad, torch.optim.Adagrad, lr=0.1, closure=True, none_grad=True)
        check_against_torch(Adagrad, torch.optim.Adagrad, lr=0.1, noncontiguous=True)
        check_state_dict_roundtrip(Adagrad, torch.optim.Adagrad, lr=0.1, initial_accumulator_value=0.1)
        for device in ["cpu"] + (["cuda"] if torch.cuda.is_available() else []):
            check_against_torch(Adagrad, torch.optim.Adagrad, lr=0.1, weight_decay=0.01, device=device)
        """,
        "Adagrad's optimizer API behaves like torch.optim.Adagrad",
    ),
]

RMSPROP_SPEC = r"""
## 2. `RMSprop` (9 points)

With $v_0 = 0$, $\bar g_0 = 0$, $b_0 = 0$ and smoothing constant $\alpha$:

$$
\begin{aligned}
v_t &= \alpha\, v_{t-1} + (1-\alpha)\, g_t^2\\
\bar g_t &= \alpha\, \bar g_{t-1} + (1-\alpha)\, g_t && \text{if centered}\\
d_t &= \sqrt{v_t - \bar g_t^2} + \epsilon \ \text{ if centered, else } \ \sqrt{v_t} + \epsilon\\
b_t &= \mu\, b_{t-1} + g_t / d_t, \quad \theta_t = \theta_{t-1} - \eta\, b_t && \text{if } \mu > 0\\
\theta_t &= \theta_{t-1} - \eta\, g_t / d_t && \text{otherwise}
\end{aligned}
$$

* signature `RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, *,
  maximize=False)`;
* state, created at a parameter's first step: `"step"`, `"square_avg"` ($v_t$), `"momentum_buffer"` ($b_t$, only
  when `momentum > 0`), `"grad_avg"` ($\bar g_t$, only when `centered`);
* errors (`ValueError`): `Invalid learning rate: {lr}`, `Invalid epsilon value: {eps}`,
  `Invalid momentum value: {momentum}`, `Invalid weight_decay value: {weight_decay}`, `Invalid alpha value: {alpha}`
  (each when negative).
"""

RMSPROP_SOLUTION = """
class RMSprop(torch.optim.Optimizer):
    \"\"\"RMSprop (Tieleman & Hinton, 2012), optionally centered (Graves, 2013) and with momentum.\"\"\"

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, *,
                 maximize=False):
        ### BEGIN SOLUTION
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, maximize=maximize)
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
            alpha, mu = group["alpha"], group["momentum"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = -p.grad if group["maximize"] else p.grad
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = torch.tensor(0.0)
                    state["square_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    if mu > 0:
                        state["momentum_buffer"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    if group["centered"]:
                        state["grad_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["step"] += 1
                if group["weight_decay"] != 0:
                    g = g.add(p, alpha=group["weight_decay"])
                v = state["square_avg"]
                v.mul_(alpha).addcmul_(g, g, value=1 - alpha)
                if group["centered"]:
                    grad_avg = state["grad_avg"]
                    grad_avg.mul_(alpha).add_(g, alpha=1 - alpha)
                    avg = v.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
                else:
                    avg = v.sqrt()
                avg = avg.add_(group["eps"])
                if mu > 0:
                    buf = state["momentum_buffer"]
                    buf.mul_(mu).addcdiv_(g, avg)
                    p.add_(buf, alpha=-group["lr"])
                else:
                    p.addcdiv_(g, avg, value=-group["lr"])
        return loss
        ### END SOLUTION
"""

RMSPROP_TESTS = [
    feature_tests(
        "test_rmsprop",
        2,
        "RMSprop",
        "check_against_torch(RMSprop, torch.optim.RMSprop, lr=0.01)",
        """
        check_against_torch(RMSprop, torch.optim.RMSprop, steps=12, lr=0.003, alpha=0.9, eps=1e-6,
                            shapes=((2, 3, 4), (1,)))
        check_against_torch(RMSprop, torch.optim.RMSprop)  # defaults
        """,
        "RMSprop matches torch.optim.RMSprop",
    ),
    feature_tests(
        "test_rmsprop_centered",
        2,
        "RMSprop centered",
        "check_against_torch(RMSprop, torch.optim.RMSprop, lr=0.01, centered=True)",
        """
        check_against_torch(RMSprop, torch.optim.RMSprop, steps=12, lr=0.01, alpha=0.5, centered=True)
        check_against_torch(RMSprop, torch.optim.RMSprop, steps=10, lr=0.01, momentum=0.9, centered=True)
        """,
        "RMSprop(centered=True) matches torch.optim.RMSprop",
    ),
    feature_tests(
        "test_rmsprop_momentum",
        2,
        "RMSprop momentum",
        "check_against_torch(RMSprop, torch.optim.RMSprop, lr=0.01, momentum=0.9)",
        """
        check_against_torch(RMSprop, torch.optim.RMSprop, steps=12, lr=0.01, momentum=0.5, alpha=0.9)
        """,
        "RMSprop with momentum matches torch.optim.RMSprop",
    ),
    feature_tests(
        "test_rmsprop_weight_decay",
        1,
        "RMSprop weight decay",
        "check_against_torch(RMSprop, torch.optim.RMSprop, lr=0.01, weight_decay=0.1)",
        "check_against_torch(RMSprop, torch.optim.RMSprop, steps=10, lr=0.01, weight_decay=1.0, alpha=0.9)",
        "RMSprop's weight decay matches torch.optim.RMSprop",
    ),
    feature_tests(
        "test_rmsprop_maximize",
        1,
        "RMSprop maximize",
        "check_against_torch(RMSprop, torch.optim.RMSprop, lr=0.01, maximize=True)",
        "check_against_torch(RMSprop, torch.optim.RMSprop, steps=9, lr=0.01, maximize=True, weight_decay=0.1)",
        "RMSprop(maximize=True) matches torch.optim.RMSprop",
    ),
    feature_tests(
        "test_rmsprop_api",
        1,
        "RMSprop defaults, errors, parameter groups, None gradients, closures, state_dict",
        """
        check_defaults(RMSprop, torch.optim.RMSprop)
        check_same_error(RMSprop, torch.optim.RMSprop, alpha=-0.1)
        check_against_torch(RMSprop, torch.optim.RMSprop, lr=0.01, none_grad=True)
        """,
        """
        check_same_error(RMSprop, torch.optim.RMSprop, lr=-0.1)
        check_same_error(RMSprop, torch.optim.RMSprop, eps=-0.1)
        check_same_error(RMSprop, torch.optim.RMSprop, momentum=-0.1)
        check_same_error(RMSprop, torch.optim.RMSprop, weight_decay=-0.1)
        check_against_torch(RMSprop, torch.optim.RMSprop, lr=0.01, groups=[{"lr": 0.05}, {"alpha": 0.9}])
        check_against_torch(RMSprop, torch.optim.RMSprop, lr=0.01, closure=True, none_grad=True)
        check_against_torch(RMSprop, torch.optim.RMSprop, lr=0.01, noncontiguous=True)
        check_state_dict_roundtrip(RMSprop, torch.optim.RMSprop, lr=0.01)
        for device in ["cpu"] + (["cuda"] if torch.cuda.is_available() else []):
            check_against_torch(RMSprop, torch.optim.RMSprop, lr=0.01, weight_decay=0.01, device=device)
        """,
        "RMSprop's optimizer API behaves like torch.optim.RMSprop",
    ),
]

ADADELTA_SPEC = r"""
## 3. `Adadelta` (5 points)

Adadelta (Zeiler, 2012) keeps running averages of squared gradients $v_t$ and of squared updates $u_t$ (both
start at 0, decay rate $\rho$) and scales each step by their ratio, so that $\eta = 1$ works:

$$
v_t = \rho\, v_{t-1} + (1-\rho)\, g_t^2, \qquad
\Delta_t = \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}\; g_t, \qquad
u_t = \rho\, u_{t-1} + (1-\rho)\, \Delta_t^2, \qquad
\theta_t = \theta_{t-1} - \eta\, \Delta_t
$$

* signature `Adadelta(params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False)`;
* state, created at a parameter's first step: `"step"`, `"square_avg"` ($v_t$), `"acc_delta"` ($u_t$);
* errors (`ValueError`): `Invalid learning rate: {lr}`, `Invalid rho value: {rho}` (ρ outside $[0, 1]$),
  `Invalid epsilon value: {eps}`, `Invalid weight_decay value: {weight_decay}`.
"""

ADADELTA_SOLUTION = """
class Adadelta(torch.optim.Optimizer):
    \"\"\"Adadelta (Zeiler, 2012).\"\"\"

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False):
        ### BEGIN SOLUTION
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
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
            rho, eps = group["rho"], group["eps"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = -p.grad if group["maximize"] else p.grad
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = torch.tensor(0.0)
                    state["square_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["acc_delta"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["step"] += 1
                if group["weight_decay"] != 0:
                    g = g.add(p, alpha=group["weight_decay"])
                v, u = state["square_avg"], state["acc_delta"]
                v.mul_(rho).addcmul_(g, g, value=1 - rho)
                delta = u.add(eps).sqrt_().div_(v.add(eps).sqrt_()).mul_(g)
                u.mul_(rho).addcmul_(delta, delta, value=1 - rho)
                p.add_(delta, alpha=-group["lr"])
        return loss
        ### END SOLUTION
"""

ADADELTA_TESTS = [
    feature_tests(
        "test_adadelta",
        2,
        "Adadelta",
        "check_against_torch(Adadelta, torch.optim.Adadelta)",
        """
        check_against_torch(Adadelta, torch.optim.Adadelta, steps=12, lr=0.5, rho=0.5, eps=1e-4,
                            shapes=((2, 3, 4), (1,)))
        check_against_torch(Adadelta, torch.optim.Adadelta, steps=5, rho=1.0)
        """,
        "Adadelta matches torch.optim.Adadelta",
    ),
    feature_tests(
        "test_adadelta_weight_decay",
        1,
        "Adadelta weight decay",
        "check_against_torch(Adadelta, torch.optim.Adadelta, weight_decay=0.1)",
        "check_against_torch(Adadelta, torch.optim.Adadelta, steps=10, lr=0.3, weight_decay=1.0, rho=0.8)",
        "Adadelta's weight decay matches torch.optim.Adadelta",
    ),
    feature_tests(
        "test_adadelta_maximize",
        1,
        "Adadelta maximize",
        "check_against_torch(Adadelta, torch.optim.Adadelta, maximize=True)",
        "check_against_torch(Adadelta, torch.optim.Adadelta, steps=9, maximize=True, weight_decay=0.1)",
        "Adadelta(maximize=True) matches torch.optim.Adadelta",
    ),
    feature_tests(
        "test_adadelta_api",
        1,
        "Adadelta defaults, errors, parameter groups, None gradients, closures, state_dict",
        """
        check_defaults(Adadelta, torch.optim.Adadelta)
        check_same_error(Adadelta, torch.optim.Adadelta, rho=1.5)
        check_against_torch(Adadelta, torch.optim.Adadelta, none_grad=True)
        """,
        """
        check_same_error(Adadelta, torch.optim.Adadelta, lr=-1.0)
        check_same_error(Adadelta, torch.optim.Adadelta, rho=-0.1)
        check_same_error(Adadelta, torch.optim.Adadelta, eps=-1.0)
        check_same_error(Adadelta, torch.optim.Adadelta, weight_decay=-1.0)
        check_against_torch(Adadelta, torch.optim.Adadelta, groups=[{"lr": 0.5}, {"rho": 0.5}])
        check_against_torch(Adadelta, torch.optim.Adadelta, closure=True, none_grad=True)
        check_against_torch(Adadelta, torch.optim.Adadelta, noncontiguous=True)
        check_state_dict_roundtrip(Adadelta, torch.optim.Adadelta)
        for device in ["cpu"] + (["cuda"] if torch.cuda.is_available() else []):
            check_against_torch(Adadelta, torch.optim.Adadelta, weight_decay=0.01, device=device)
        """,
        "Adadelta's optimizer API behaves like torch.optim.Adadelta",
    ),
]


def cells() -> list:
    """All cells of the a4 notebook, in order."""
    out = [md(INTRO), locked_code("setup", SETUP), locked_code("optim_helpers", OPTIM_HELPERS)]
    for spec, gid, code, cell_tests in [
        (ADAGRAD_SPEC, "adagrad", ADAGRAD_SOLUTION, ADAGRAD_TESTS),
        (RMSPROP_SPEC, "rmsprop", RMSPROP_SOLUTION, RMSPROP_TESTS),
        (ADADELTA_SPEC, "adadelta", ADADELTA_SOLUTION, ADADELTA_TESTS),
    ]:
        out += [md(spec), solution(gid, code)]
        out += [tests(test_id, pts, src) for test_id, pts, src in cell_tests]
    return out


def build():
    """The a4 notebook."""
    return notebook(cells())
