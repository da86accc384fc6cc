"""Honest a5 students (Adam, AdamW, RAdam, the experiment), each written independently; see ``honest_a3``."""

from __future__ import annotations

# --- 1. correct: a helper cell, docstrings naming torch.optim.Adam, integer step counters -----------------------

HELPERS = '''
# Pieces of the Adam family I reuse (a cell I added).
def check_adam_args(lr, betas, eps, weight_decay):
    if lr < 0:
        raise ValueError(f"Invalid learning rate: {lr}")
    if eps < 0:
        raise ValueError(f"Invalid epsilon value: {eps}")
    for index in range(2):
        if not 0.0 <= betas[index] < 1.0:
            raise ValueError(f"Invalid beta parameter at index {index}: {betas[index]}")
    if weight_decay < 0:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


def update_moments(m, v, g, beta1, beta2):
    m.lerp_(g, 1 - beta1)
    v.mul_(beta2).addcmul_(g, g, value=1 - beta2)


def prepare(p, group):
    """g_t after maximize and weight decay; decoupled decay shrinks p itself (AdamW)."""
    g = -p.grad if group["maximize"] else p.grad
    wd = group["weight_decay"]
    if wd != 0:
        if group.get("decoupled_weight_decay"):
            p.mul_(1 - group["lr"] * wd)
        else:
            g = g + wd * p
    return g
'''

HELPER_ADAM = '''
class Adam(torch.optim.Optimizer):
    """Adam, as in torch.optim.Adam (Kingma & Ba 2015); torch.optim.Adam is only the reference in the tests."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 maximize=False, decoupled_weight_decay=False):
        check_adam_args(lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, decoupled_weight_decay=decoupled_weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                st = self.state[p]
                if not st:
                    st["step"] = 0
                    st["exp_avg"] = torch.zeros_like(p)
                    st["exp_avg_sq"] = torch.zeros_like(p)
                    if group["amsgrad"]:
                        st["max_exp_avg_sq"] = torch.zeros_like(p)
                st["step"] += 1
                t = st["step"]
                g = prepare(p, group)
                update_moments(st["exp_avg"], st["exp_avg_sq"], g, b1, b2)
                second = st["exp_avg_sq"]
                if group["amsgrad"]:
                    torch.maximum(st["max_exp_avg_sq"], second, out=st["max_exp_avg_sq"])
                    second = st["max_exp_avg_sq"]
                denom = second.sqrt() / math.sqrt(1 - b2**t) + group["eps"]
                p.addcdiv_(st["exp_avg"], denom, value=-group["lr"] / (1 - b1**t))
        return loss
'''

HELPER_ADAMW = '''
class AdamW(Adam):
    """Like torch.optim.AdamW: Adam with decoupled weight decay."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)
'''

HELPER_RADAM = '''
class RAdam(torch.optim.Optimizer):
    """Rectified Adam, compared with torch.optim.RAdam by the tests."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, maximize=False):
        check_adam_args(lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay, maximize=maximize))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            b1, b2 = group["betas"]
            rho_inf = 2.0 / (1.0 - b2) - 1.0
            for p in group["params"]:
                if p.grad is None:
                    continue
                st = self.state[p]
                if not st:
                    st.update(step=0, exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p))
                st["step"] += 1
                t = st["step"]
                g = prepare(p, group)
                update_moments(st["exp_avg"], st["exp_avg_sq"], g, b1, b2)
                m_hat = st["exp_avg"] / (1 - b1**t)
                rho_t = rho_inf - 2 * t * b2**t / (1 - b2**t)
                if rho_t > 5:
                    r = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
                    scale = math.sqrt(1 - b2**t) / (st["exp_avg_sq"].sqrt() + group["eps"])
                    p.sub_(group["lr"] * m_hat * r * scale)
                else:
                    p.sub_(group["lr"] * m_hat)
        return loss
'''

HELPER_EXPERIMENT = '''
def run_experiment(lrs=(3e-3, 1e-2, 3e-2), epochs=5, batch_size=64, seed=0):
    """Each of my optimizers at each learning rate: mean train loss per epoch and final test accuracy."""
    criterion = torch.nn.CrossEntropyLoss()
    n_batches = X_train.shape[0] // batch_size
    optimizers = {"Adam": Adam, "AdamW": AdamW, "RAdam": RAdam}
    results = {name: {} for name in optimizers}
    for name, make_optimizer in optimizers.items():
        for lr in lrs:
            model = make_model(seed)
            opt = make_optimizer(model.parameters(), lr=lr)
            gen = torch.Generator().manual_seed(seed)
            epoch_means = []
            for _ in range(epochs):
                order = torch.randperm(X_train.shape[0], generator=gen).to(DEVICE)
                batch_losses = []
                for b in range(n_batches):
                    rows = order[b * batch_size : (b + 1) * batch_size]
                    opt.zero_grad()
                    loss = criterion(model(X_train[rows]), y_train[rows])
                    loss.backward()
                    opt.step()
                    batch_losses.append(loss.item())
                epoch_means.append(sum(batch_losses) / len(batch_losses))
            results[name][lr] = {"train_loss": epoch_means, "test_acc": accuracy(model, X_test, y_test)}
    return results
'''

# --- 2. a class hierarchy; bias correction one step ahead (1 - beta^(t+1)) (mistake) ---------------------------

BASE_ADAM = '''
class AdamFamily(torch.optim.Optimizer):
    """Shared by my Adam and RAdam: argument checks, closure, moments."""

    def __init__(self, params, defaults):
        lr, betas, eps, wd = defaults["lr"], defaults["betas"], defaults["eps"], defaults["weight_decay"]
        if not lr >= 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not eps >= 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not wd >= 0.0:
            raise ValueError(f"Invalid weight_decay value: {wd}")
        super().__init__(params, defaults)

    @staticmethod
    def _loss(closure):
        if closure is None:
            return None
        with torch.enable_grad():
            return closure()

    def _moments(self, p, group, extra=()):
        state = self.state[p]
        if len(state) == 0:
            state["step"] = torch.tensor(0.0)
            for key in ("exp_avg", "exp_avg_sq") + tuple(extra):
                state[key] = torch.zeros_like(p, memory_format=torch.preserve_format)
        state["step"] += 1
        g = p.grad.neg() if group["maximize"] else p.grad
        if group["weight_decay"]:
            if group["decoupled_weight_decay"]:
                p.mul_(1.0 - group["lr"] * group["weight_decay"])
            else:
                g = g.add(p, alpha=group["weight_decay"])
        beta1, beta2 = group["betas"]
        state["exp_avg"].mul_(beta1).add_(g, alpha=1.0 - beta1)
        state["exp_avg_sq"].mul_(beta2).addcmul_(g, g, value=1.0 - beta2)
        return state, int(state["step"].item())
'''

BASE_ADAM_CELL = (
    BASE_ADAM
    + """

class Adam(AdamFamily):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 maximize=False, decoupled_weight_decay=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, decoupled_weight_decay=decoupled_weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = self._loss(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state, t = self._moments(p, group, ("max_exp_avg_sq",) if group["amsgrad"] else ())
                v = state["exp_avg_sq"]
                if group["amsgrad"]:
                    state["max_exp_avg_sq"] = torch.maximum(state["max_exp_avg_sq"], v)
                    v = state["max_exp_avg_sq"]
                bc1 = 1.0 - beta1 ** (t + 1)
                bc2 = 1.0 - beta2 ** (t + 1)
                p.addcdiv_(state["exp_avg"], (v / bc2).sqrt() + group["eps"], value=-group["lr"] / bc1)
        return loss
"""
)

BASE_ADAMW = """
class AdamW(Adam):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         maximize=maximize, decoupled_weight_decay=True)
"""

BASE_RADAM = """
class RAdam(AdamFamily):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, maximize=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay, maximize=maximize))

    @torch.no_grad()
    def step(self, closure=None):
        loss = self._loss(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            rho_max = 2 / (1 - beta2) - 1
            for p in group["params"]:
                if p.grad is None:
                    continue
                state, t = self._moments(p, group)
                corrected = state["exp_avg"] / (1 - beta1**t)
                rho = rho_max - 2 * t * beta2**t / (1 - beta2**t)
                if rho <= 5:
                    p.add_(corrected, alpha=-group["lr"])
                    continue
                rect = ((rho - 4) * (rho - 2) * rho_max / ((rho_max - 4) * (rho_max - 2) * rho)) ** 0.5
                adaptive = (1 - beta2**t) ** 0.5 / (state["exp_avg_sq"].sqrt() + group["eps"])
                p.add_(corrected * adaptive * (group["lr"] * rect), alpha=-1.0)
        return loss
"""

BASE_EXPERIMENT = """
def run_experiment(lrs=(3e-3, 1e-2, 3e-2), epochs=5, batch_size=64, seed=0):
    loss_fn = torch.nn.CrossEntropyLoss()
    results = {}
    for name, cls in (("Adam", Adam), ("AdamW", AdamW), ("RAdam", RAdam)):
        results[name] = {}
        for lr in lrs:
            net = make_model(seed)
            optimizer = cls(net.parameters(), lr=lr)
            shuffle = torch.Generator().manual_seed(seed)
            curve = []
            for epoch in range(epochs):
                perm = torch.randperm(len(X_train), generator=shuffle).to(DEVICE)
                running, count = 0.0, 0
                for start in range(0, len(X_train) - batch_size + 1, batch_size):
                    take = perm[start : start + batch_size]
                    optimizer.zero_grad()
                    loss = loss_fn(net(X_train[take]), y_train[take])
                    loss.backward()
                    optimizer.step()
                    running += loss.item()
                    count += 1
                curve.append(running / count)
            results[name][lr] = {"train_loss": curve, "test_acc": accuracy(net, X_test, y_test)}
    return results
"""

# --- 3. AdamW with coupled (L2) weight decay instead of decoupled (mistake) -------------------------------------

COUPLED_ADAM = HELPER_ADAM.replace(
    "g = prepare(p, group)",
    "g = -p.grad if group['maximize'] else p.grad\n                if group['weight_decay'] != 0:\n"
    "                    g = g + group['weight_decay'] * p  # AdamW: same as Adam here",
)
assert COUPLED_ADAM != HELPER_ADAM

# --- 4. eps inside the square root, numpy scalars for the bias corrections (mistake) ---------------------------

NUMPY_EPS_ADAM = """
class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 maximize=False, decoupled_weight_decay=False):
        check_adam_args(lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, decoupled_weight_decay=decoupled_weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            b1, b2 = (np.float64(b) for b in group["betas"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                st = self.state[p]
                if not st:
                    st["step"] = torch.tensor(0.0)
                    st["exp_avg"] = torch.zeros_like(p)
                    st["exp_avg_sq"] = torch.zeros_like(p)
                    if group["amsgrad"]:
                        st["max_exp_avg_sq"] = torch.zeros_like(p)
                st["step"] += 1
                t = st["step"].item()
                g = prepare(p, group)
                update_moments(st["exp_avg"], st["exp_avg_sq"], g, b1, b2)
                v = st["exp_avg_sq"]
                if group["amsgrad"]:
                    st["max_exp_avg_sq"].copy_(torch.maximum(st["max_exp_avg_sq"], v))
                    v = st["max_exp_avg_sq"]
                m_hat = st["exp_avg"] / (1 - b1**t)
                v_hat = v / (1 - b2**t)
                p.sub_(group["lr"] * m_hat / torch.sqrt(v_hat + group["eps"]))
        return loss
"""

STUDENTS: dict[str, dict] = {
    "a5-helpers": {
        "about": "correct; helpers in an added cell, integer step counters, docstrings naming torch.optim.Adam",
        "cells": {
            "adam": HELPER_ADAM,
            "adamw": HELPER_ADAMW,
            "radam": HELPER_RADAM,
            "experiment": HELPER_EXPERIMENT,
        },
        "added": [("setup", HELPERS)],
    },
    "a5-hierarchy-bias-ahead": {
        "about": "own base class; mistake: Adam's bias corrections use beta^(t+1)",
        "cells": {
            "adam": BASE_ADAM_CELL,
            "adamw": BASE_ADAMW,
            "radam": BASE_RADAM,
            "experiment": BASE_EXPERIMENT,
        },
    },
    "a5-coupled-adamw": {
        "about": "mistake: decoupled_weight_decay (AdamW) applied as L2 on the gradient",
        "cells": {
            "adam": COUPLED_ADAM,
            "adamw": HELPER_ADAMW,
            "radam": HELPER_RADAM,
            "experiment": BASE_EXPERIMENT,
        },
        "added": [("setup", HELPERS)],
    },
    "a5-numpy-eps-in-sqrt": {
        "about": "numpy scalars; mistake: Adam divides by sqrt(v_hat + eps)",
        "cells": {
            "adam": NUMPY_EPS_ADAM,
            "adamw": BASE_ADAMW,
            "radam": HELPER_RADAM,
            "experiment": HELPER_EXPERIMENT,
        },
        "added": [("setup", HELPERS)],
    },
}

# --- 5. correct but slow: 16 backward passes per mini-batch (the "slow a5 experiment") --------------

SLOW_EXPERIMENT = '''
def run_experiment(lrs=(3e-3, 1e-2, 3e-2), epochs=5, batch_size=64, seed=0):
    """Same experiment, but each mini-batch's gradient is built from 16 backward passes (slow, still correct)."""
    loss_fn = torch.nn.CrossEntropyLoss()
    results = {}
    for name, cls in {"Adam": Adam, "AdamW": AdamW, "RAdam": RAdam}.items():
        results[name] = {}
        for lr in lrs:
            model = make_model(seed)
            opt = cls(model.parameters(), lr=lr)
            gen = torch.Generator().manual_seed(seed)
            means = []
            for epoch in range(epochs):
                order = torch.randperm(len(X_train), generator=gen).to(DEVICE)
                losses = []
                for b in range(len(X_train) // batch_size):
                    opt.zero_grad()
                    batch_loss = 0.0
                    rows = order[b * batch_size : (b + 1) * batch_size]
                    for part in rows.split(4):
                        loss = loss_fn(model(X_train[part]), y_train[part]) * len(part) / batch_size
                        loss.backward()
                        batch_loss += loss.item()
                    opt.step()
                    losses.append(batch_loss)
                means.append(sum(losses) / len(losses))
            results[name][lr] = {"train_loss": means, "test_acc": accuracy(model, X_test, y_test)}
    return results
'''

STUDENTS["a5-slow-experiment"] = {
    "about": "correct; a slow experiment (16 backward passes per mini-batch) within stock nbgrader's 120 s cell limit",
    "cells": {
        "adam": HELPER_ADAM,
        "adamw": HELPER_ADAMW,
        "radam": HELPER_RADAM,
        "experiment": SLOW_EXPERIMENT,
    },
    "added": [("setup", HELPERS)],
}
