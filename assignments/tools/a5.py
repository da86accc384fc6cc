"""Assignment a5-adam-family: Adam (amsgrad), AdamW, RAdam, and an experiment comparing them."""

from __future__ import annotations

from nbcells import (
    DIGITS_DATA,
    OPTIM_HELPERS,
    SETUP,
    chapter_url,
    feature_tests,
    locked_code,
    manual,
    md,
    notebook,
    solution,
    tests,
)

NAME = "a5-adam-family"

INTRO = f"""
# Assignment 5 — Adam, AdamW and RAdam

You implement the three most used members of the Adam family as subclasses of `torch.optim.Optimizer`, with
`torch.optim`'s constructor arguments, defaults, state keys and error messages, then compare them on a small
network:

1. `Adam` with `amsgrad`, (coupled, L2) `weight_decay`, `maximize` and `decoupled_weight_decay`;
2. `AdamW`, which is `Adam` with decoupled weight decay (and a different default `weight_decay`);
3. `RAdam`, Adam with a rectified adaptive learning rate;
4. an experiment: the three optimizers, each at its best learning rate, on handwritten digits.

Background: the book chapters [Adam and its variants]({chapter_url("optimization/adam")}) and
[Adaptive methods]({chapter_url("optimization/adaptive")}).

**How this notebook is graded.** Write your code only where it says `YOUR CODE HERE` (replace the
`raise NotImplementedError()`). Every cell that starts with `# Tests:` is worth the points shown in its first line
and earns them when it runs without an error; hidden checks of the same feature run when your notebook is graded.
Run the visible tests with *Run → Run All Cells* (or *Validate*); the messages say at which step `t`, for which
parameter and which state entry your result differs from PyTorch, and by how much. Do not use `torch.optim.Adam`,
`AdamW` or `RAdam` in your own classes: they are the references. The written answer at the end is graded by hand.

**Notation** (as in the book). θ: parameters; t = 1, 2, …: step; g_t: gradient at step t; η: learning rate;
β₁, β₂: decay rates; ε: a small constant; m_t, v_t: first and second moment estimates; λ: weight decay.
All operations on tensors are element-wise.
"""

ADAM_SPEC = r"""
## 1. `Adam` (9 points)

For every parameter tensor $\theta$ with a gradient, with $m_0 = v_0 = 0$ and $\hat v^{\max}_0 = 0$:

$$
\begin{aligned}
g_t &\leftarrow -g_t && \text{if maximize}\\
\theta_{t-1} &\leftarrow \theta_{t-1}\,(1 - \eta\lambda) && \text{if decoupled\_weight\_decay (AdamW)}\\
g_t &\leftarrow g_t + \lambda\,\theta_{t-1} && \text{otherwise, if } \lambda \ne 0 \text{ (L2)}\\
m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t\\
v_t &= \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2\\
v^{\max}_t &= \max(v^{\max}_{t-1}, v_t) && \text{if amsgrad (then use } v^{\max}_t \text{ instead of } v_t \text{ below)}\\
\theta_t &= \theta_{t-1} - \frac{\eta}{1-\beta_1^t}\;\frac{m_t}{\sqrt{v_t}\,/\sqrt{1-\beta_2^t} + \epsilon}
\end{aligned}
$$

Specification (exactly `torch.optim.Adam`):

* signature `Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
  maximize=False, decoupled_weight_decay=False)`; all options but `params` go into `defaults`;
* state per parameter, created at its first step: `"step"` (the number of steps taken, $t$; a tensor or a
  number), `"exp_avg"` ($m_t$), `"exp_avg_sq"` ($v_t$), and `"max_exp_avg_sq"` ($v^{\max}_t$) only when
  `amsgrad`;
* errors (`ValueError`, torch's text): `Invalid learning rate: {lr}`, `Invalid epsilon value: {eps}`,
  `Invalid beta parameter at index 0: {betas[0]}` (index 1 likewise; each beta must be in $[0, 1)$),
  `Invalid weight_decay value: {weight_decay}`;
* `None` gradients are skipped; `step(closure=None)` returns the closure's loss; `@torch.no_grad()`.

Tests: Adam, amsgrad, L2 weight decay, maximize, constructor errors, API (defaults, parameter groups, `None`
gradients, closures, `state_dict` round trip, non-contiguous tensors, CUDA when available).
"""

ADAM_SOLUTION = """
class Adam(torch.optim.Optimizer):
    \"\"\"Adam (Kingma & Ba, 2015) with amsgrad, L2 or decoupled weight decay, and maximize.\"\"\"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 maximize=False, decoupled_weight_decay=False):
        ### BEGIN SOLUTION
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, decoupled_weight_decay=decoupled_weight_decay)
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
            beta1, beta2 = group["betas"]
            lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = -p.grad if group["maximize"] else p.grad
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = torch.tensor(0.0)
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    if group["amsgrad"]:
                        state["max_exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["step"] += 1
                t = state["step"].item()
                if wd != 0:
                    if group["decoupled_weight_decay"]:
                        p.mul_(1 - lr * wd)
                    else:
                        g = g.add(p, alpha=wd)
                m, v = state["exp_avg"], state["exp_avg_sq"]
                m.mul_(beta1).add_(g, alpha=1 - beta1)
                v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
                if group["amsgrad"]:
                    torch.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
                    v = state["max_exp_avg_sq"]
                bias_correction1 = 1 - beta1**t
                bias_correction2 = 1 - beta2**t
                step_size = lr / bias_correction1
                denom = (v.sqrt() / math.sqrt(bias_correction2)).add_(eps)
                p.addcdiv_(m, denom, value=-step_size)
        return loss
        ### END SOLUTION
"""


ADAM_TESTS = [
    feature_tests(
        "test_adam",
        2,
        "Adam",
        "check_against_torch(Adam, torch.optim.Adam, lr=0.01)",
        """
check_against_torch(Adam, torch.optim.Adam, steps=12, lr=0.003, betas=(0.8, 0.99), eps=1e-6,
                    shapes=((2, 3, 4), (1,), (6,)))
check_against_torch(Adam, torch.optim.Adam)  # defaults
""",
        "Adam matches torch.optim.Adam",
    ),
    feature_tests(
        "test_adam_amsgrad",
        2,
        "amsgrad",
        "check_against_torch(Adam, torch.optim.Adam, lr=0.01, amsgrad=True)",
        """
check_against_torch(Adam, torch.optim.Adam, steps=15, lr=0.05, betas=(0.5, 0.9), amsgrad=True)
""",
        "Adam(amsgrad=True) matches torch.optim.Adam",
    ),
    feature_tests(
        "test_adam_weight_decay",
        1,
        "L2 weight decay",
        "check_against_torch(Adam, torch.optim.Adam, lr=0.01, weight_decay=0.1)",
        """
check_against_torch(Adam, torch.optim.Adam, steps=10, lr=0.02, weight_decay=1.0, amsgrad=True)
""",
        "Adam with weight decay matches torch.optim.Adam",
    ),
    feature_tests(
        "test_adam_maximize",
        1,
        "maximize",
        "check_against_torch(Adam, torch.optim.Adam, lr=0.01, maximize=True)",
        """
check_against_torch(Adam, torch.optim.Adam, steps=9, lr=0.01, maximize=True, weight_decay=0.1)
""",
        "Adam(maximize=True) matches torch.optim.Adam",
    ),
    feature_tests(
        "test_adam_errors",
        1,
        "constructor errors",
        """
check_same_error(Adam, torch.optim.Adam, lr=-1e-3)
check_same_error(Adam, torch.optim.Adam, betas=(1.0, 0.999))
""",
        """
check_same_error(Adam, torch.optim.Adam, betas=(0.9, -0.1))
check_same_error(Adam, torch.optim.Adam, eps=-1e-8)
check_same_error(Adam, torch.optim.Adam, weight_decay=-0.5)
""",
        "Adam raises torch.optim.Adam's errors",
    ),
    feature_tests(
        "test_adam_api",
        2,
        "defaults, parameter groups, None gradients, closures, state_dict, non-contiguous tensors",
        """
check_defaults(Adam, torch.optim.Adam)
check_against_torch(Adam, torch.optim.Adam, lr=0.01, groups=[{"lr": 0.05}, {"betas": (0.5, 0.9)}])
check_against_torch(Adam, torch.optim.Adam, lr=0.01, none_grad=True)
""",
        """
check_against_torch(Adam, torch.optim.Adam, lr=0.01, closure=True)
check_against_torch(Adam, torch.optim.Adam, lr=0.01, closure=True, none_grad=True)
check_against_torch(Adam, torch.optim.Adam, lr=0.01, noncontiguous=True, amsgrad=True)
check_state_dict_roundtrip(Adam, torch.optim.Adam, lr=0.01, amsgrad=True)
check_against_torch(Adam, torch.optim.Adam, lr=0.01, groups=[{}, {"amsgrad": True}, {"eps": 1e-3}],
                    shapes=((2,), (3,), (4,), (5,)))
for device in ["cpu"] + (["cuda"] if torch.cuda.is_available() else []):
    check_against_torch(Adam, torch.optim.Adam, lr=0.01, weight_decay=0.01, device=device)
""",
        "Adam's optimizer API behaves like torch.optim.Adam",
    ),
]

ADAMW_SPEC = r"""
## 2. `AdamW` (2 points)

AdamW (Loshchilov & Hutter, 2019) *decouples* weight decay from the gradient: it shrinks the parameters directly,
$\theta_{t-1} \leftarrow \theta_{t-1}(1 - \eta\lambda)$, before the Adam update, instead of adding $\lambda\theta$
to $g_t$ (where it would be rescaled by $1/\sqrt{v_t}$). Write it as a subclass of your `Adam` with
`torch.optim.AdamW`'s signature `AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
amsgrad=False, *, maximize=False)`; its `defaults` have `decoupled_weight_decay=True`.
"""

ADAMW_SOLUTION = """
class AdamW(Adam):
    \"\"\"Adam with decoupled weight decay (Loshchilov & Hutter, 2019).\"\"\"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False):
        ### BEGIN SOLUTION
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         maximize=maximize, decoupled_weight_decay=True)
        ### END SOLUTION
"""

ADAMW_TESTS = [
    feature_tests(
        "test_adamw",
        2,
        "AdamW",
        """
check_defaults(AdamW, torch.optim.AdamW)
check_against_torch(AdamW, torch.optim.AdamW, lr=0.01, weight_decay=0.1)
""",
        """
check_against_torch(AdamW, torch.optim.AdamW, steps=12, lr=0.05, weight_decay=0.5, amsgrad=True)
check_against_torch(AdamW, torch.optim.AdamW, lr=0.01, maximize=True)
check_against_torch(Adam, torch.optim.Adam, lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)
check_state_dict_roundtrip(AdamW, torch.optim.AdamW, lr=0.01)
""",
        "AdamW matches torch.optim.AdamW",
    ),
]

RADAM_SPEC = r"""
## 3. `RAdam` (4 points)

RAdam (Liu et al., 2020) keeps Adam's moments but only uses the adaptive step once the variance of
$1/\sqrt{v_t}$ is tractable. With $\rho_\infty = \frac{2}{1-\beta_2} - 1$ and
$\rho_t = \rho_\infty - \frac{2\,t\,\beta_2^t}{1-\beta_2^t}$, after the same maximize / weight-decay handling and
moment updates as Adam (`decoupled_weight_decay` chooses between $\theta(1-\eta\lambda)$ and $g + \lambda\theta$;
there is no amsgrad):

$$
\hat m_t = \frac{m_t}{1-\beta_1^t},\qquad
\theta_t = \begin{cases}
\theta_{t-1} - \eta\, \hat m_t\, r_t\, \dfrac{\sqrt{1-\beta_2^t}}{\sqrt{v_t} + \epsilon} & \rho_t > 5\\[3mm]
\theta_{t-1} - \eta\, \hat m_t & \text{otherwise}
\end{cases}
\qquad
r_t = \sqrt{\frac{(\rho_t-4)(\rho_t-2)\,\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\,\rho_t}}
$$

Note where $\epsilon$ sits: it is added to $\sqrt{v_t}$ *before* the bias correction (unlike Adam).
Signature `RAdam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False, *,
maximize=False)`; state `"step"`, `"exp_avg"`, `"exp_avg_sq"`; the same errors as Adam.
"""

RADAM_SOLUTION = """
class RAdam(torch.optim.Optimizer):
    \"\"\"Rectified Adam (Liu et al., 2020).\"\"\"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, maximize=False):
        ### BEGIN SOLUTION
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
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
            beta1, beta2 = group["betas"]
            lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
            rho_inf = 2 / (1 - beta2) - 1
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = -p.grad if group["maximize"] else p.grad
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = torch.tensor(0.0)
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["step"] += 1
                t = state["step"].item()
                if wd != 0:
                    if group["decoupled_weight_decay"]:
                        p.mul_(1 - lr * wd)
                    else:
                        g = g.add(p, alpha=wd)
                m, v = state["exp_avg"], state["exp_avg_sq"]
                m.mul_(beta1).add_(g, alpha=1 - beta1)
                v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
                bias_correction1 = 1 - beta1**t
                bias_correction2 = 1 - beta2**t
                m_hat = m / bias_correction1
                rho_t = rho_inf - 2 * t * beta2**t / bias_correction2
                if rho_t > 5.0:
                    rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
                    adaptive = math.sqrt(bias_correction2) / (v.sqrt() + eps)
                    p.add_(m_hat * lr * adaptive * rect, alpha=-1.0)
                else:
                    p.add_(m_hat * lr, alpha=-1.0)
        return loss
        ### END SOLUTION
"""

RADAM_TESTS = [
    feature_tests(
        "test_radam",
        2,
        "RAdam (12 steps: plain steps first, rectified steps once ρ_t > 5)",
        "check_against_torch(RAdam, torch.optim.RAdam, steps=12, lr=0.01)",
        """
check_against_torch(RAdam, torch.optim.RAdam, steps=20, lr=0.003, betas=(0.8, 0.99), eps=1e-6,
                    shapes=((2, 3, 4), (1,), (6,)))
check_against_torch(RAdam, torch.optim.RAdam, steps=10, lr=0.01, betas=(0.9, 0.5))  # never rectified
check_against_torch(RAdam, torch.optim.RAdam, steps=10, lr=0.01, maximize=True)
""",
        "RAdam matches torch.optim.RAdam",
    ),
    feature_tests(
        "test_radam_weight_decay",
        1,
        "RAdam weight decay (L2 and decoupled)",
        """
check_against_torch(RAdam, torch.optim.RAdam, steps=10, lr=0.01, weight_decay=0.1)
check_against_torch(RAdam, torch.optim.RAdam, steps=10, lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)
""",
        """
check_against_torch(RAdam, torch.optim.RAdam, steps=14, lr=0.05, weight_decay=1.0, betas=(0.5, 0.9))
""",
        "RAdam's weight decay matches torch.optim.RAdam",
    ),
    feature_tests(
        "test_radam_api",
        1,
        "RAdam defaults, errors, parameter groups, None gradients, closures, state_dict",
        """
check_defaults(RAdam, torch.optim.RAdam)
check_same_error(RAdam, torch.optim.RAdam, lr=-1.0)
check_against_torch(RAdam, torch.optim.RAdam, steps=10, lr=0.01, none_grad=True)
""",
        """
check_same_error(RAdam, torch.optim.RAdam, betas=(0.9, 1.0))
check_same_error(RAdam, torch.optim.RAdam, eps=-1.0)
check_same_error(RAdam, torch.optim.RAdam, weight_decay=-1.0)
check_against_torch(RAdam, torch.optim.RAdam, steps=10, lr=0.01, groups=[{"lr": 0.1}, {"betas": (0.5, 0.9)}])
check_against_torch(RAdam, torch.optim.RAdam, steps=10, lr=0.01, closure=True, noncontiguous=True)
check_state_dict_roundtrip(RAdam, torch.optim.RAdam, before=4, after=6, lr=0.01)
for device in ["cpu"] + (["cuda"] if torch.cuda.is_available() else []):
    check_against_torch(RAdam, torch.optim.RAdam, steps=10, lr=0.01, device=device)
""",
        "RAdam's optimizer API behaves like torch.optim.RAdam",
    ),
]

EXPERIMENT_SPEC = r"""
## 4. Experiment: the three optimizers on a small network (2 + 2 points)

A fair comparison gives each optimizer its own best learning rate. Write `run_experiment(lrs, epochs,
batch_size, seed)` that, for each optimizer in `{"Adam": Adam, "AdamW": AdamW, "RAdam": RAdam}` (yours, default
hyper-parameters apart from `lr`) and each learning rate in `lrs`, trains `make_model(seed)` on
`(X_train, y_train)` with cross-entropy, mini-batches of `batch_size` reshuffled every epoch by a
`torch.Generator` seeded with `seed` (drop the last incomplete batch), and records

* `"train_loss"`: the mean training loss of each epoch (a list of `epochs` floats),
* `"test_acc"`: the test accuracy after training (`accuracy(model, X_test, y_test)`).

Return `results[name][lr] = {"train_loss": [...], "test_acc": ...}`. The data live on `DEVICE`, so the
experiment runs on the GPU when there is one; on this course's 2-core CPU it takes a few seconds.
The test checks the structure, that every optimizer learns (the loss decreases), and that each reaches at
least 90 % test accuracy at its best learning rate. The plot below shows each optimizer at its best rate.
"""

EXPERIMENT_SOLUTION = """
def run_experiment(lrs=(3e-3, 1e-2, 3e-2), epochs=5, batch_size=64, seed=0):
    \"\"\"results[name][lr] = {"train_loss": [one mean loss per epoch], "test_acc": float}.\"\"\"
    ### BEGIN SOLUTION
    loss_fn = torch.nn.CrossEntropyLoss()
    per_epoch = len(X_train) // batch_size
    results = {}
    for name, cls in {"Adam": Adam, "AdamW": AdamW, "RAdam": RAdam}.items():
        results[name] = {}
        for lr in lrs:
            model = make_model(seed)
            opt = cls(model.parameters(), lr=lr)
            gen = torch.Generator().manual_seed(seed)
            history = []
            for _ in range(epochs):
                order = torch.randperm(len(X_train), generator=gen).to(DEVICE)
                total = 0.0
                for b in range(per_epoch):
                    idx = order[b * batch_size : (b + 1) * batch_size]
                    opt.zero_grad()
                    loss = loss_fn(model(X_train[idx]), y_train[idx])
                    loss.backward()
                    opt.step()
                    total += loss.item()
                history.append(total / per_epoch)
            results[name][lr] = {"train_loss": history, "test_acc": accuracy(model, X_test, y_test)}
    return results
    ### END SOLUTION
"""

EXPERIMENT_TESTS = [
    (
        "test_experiment",
        2,
        """
        # Tests: the experiment (2 points)
        results = run_experiment()
        assert set(results) == {"Adam", "AdamW", "RAdam"}, f"results has keys {sorted(results)}"
        for name, runs in results.items():
            assert set(runs) == {3e-3, 1e-2, 3e-2}, f"results[{name!r}] has learning rates {sorted(runs)}"
            for lr, run in runs.items():
                losses = run["train_loss"]
                assert len(losses) == 5 and all(math.isfinite(x) for x in losses), f"{name}, lr={lr}: train_loss {losses}"
                assert losses[-1] < losses[0], f"{name}, lr={lr}: the training loss did not decrease: {losses}"
            best_lr = max(runs, key=lambda lr: runs[lr]["test_acc"])
            best = runs[best_lr]["test_acc"]
            print(f"{name:6s} best lr {best_lr:g}: test accuracy {best:.3f}, final train loss {runs[best_lr]['train_loss'][-1]:.4f}")
            assert best >= 0.90, f"{name}: best test accuracy {best:.3f} < 0.90"
        """,
    ),
]

PLOT_CELL = """
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 3.5))
for name, runs in results.items():
    best_lr = max(runs, key=lambda lr: runs[lr]["test_acc"])
    ax.plot(range(1, 6), runs[best_lr]["train_loss"], marker="o", label=f"{name} (η = {best_lr:g})")
ax.set_xlabel("epoch")
ax.set_ylabel("mean training loss")
ax.set_yscale("log")
ax.set_title("Each optimizer at its best learning rate")
ax.legend()
plt.show()
"""

DISCUSSION = """
**Question (2 points, graded by hand).** From your results: which optimizer reached the lowest training loss and
the best test accuracy at its best learning rate, and by how much? Is that difference meaningful with a single
seed and five epochs (what would you run to find out)? Explain what RAdam does differently during its first steps
and why that matters less here than when training a large model without warm-up.
"""

DISCUSSION_ANSWER = """
A good answer quotes the printed numbers (best learning rate, test accuracy and final loss of each optimizer).
Adam and AdamW end within a fraction of a percent of each other: AdamW differs only through the decoupled decay
(λ = 0.01 by default), which barely matters over five epochs, and with one seed and one split such differences
are within run-to-run noise, so one would repeat the experiment over several seeds (and data splits) and compare
means with their standard errors. RAdam is clearly slower in the first epochs: while $\\rho_t \\le 5$ it takes
plain momentum steps $\\eta\\,\\hat m_t$, and afterwards it scales the adaptive step by $r_t < 1$, which grows
towards 1 only over a few thousand steps when β₂ = 0.999 — an automatic learning-rate warm-up. On this small,
well-conditioned problem the warm-up only costs speed (a larger η compensates); it pays off for large models
trained without an explicit warm-up, where poorly estimated $v_t$ make the first adaptive steps huge.
"""


def cells() -> list:
    """All cells of the a5 notebook, in order."""
    out = [md(INTRO), locked_code("setup", SETUP), locked_code("optim_helpers", OPTIM_HELPERS)]
    out += [md(ADAM_SPEC), solution("adam", ADAM_SOLUTION)]
    out += [tests(gid, pts, code) for gid, pts, code in ADAM_TESTS]
    out += [md(ADAMW_SPEC), solution("adamw", ADAMW_SOLUTION)]
    out += [tests(gid, pts, code) for gid, pts, code in ADAMW_TESTS]
    out += [md(RADAM_SPEC), solution("radam", RADAM_SOLUTION)]
    out += [tests(gid, pts, code) for gid, pts, code in RADAM_TESTS]
    out += [
        md(EXPERIMENT_SPEC),
        locked_code("digits_data", DIGITS_DATA),
        solution("experiment", EXPERIMENT_SOLUTION),
    ]
    out += [tests(gid, pts, code) for gid, pts, code in EXPERIMENT_TESTS]
    out += [
        locked_code("experiment_plot", PLOT_CELL),
        md(DISCUSSION),
        manual("discussion", 2, DISCUSSION_ANSWER),
    ]
    return out


def build():
    """The a5 notebook."""
    return notebook(cells())
