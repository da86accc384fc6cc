"""Honest a4 students (Adagrad, RMSprop, Adadelta), each written independently; see ``honest_a3``."""

from __future__ import annotations

# --- 1. correct: a helper cell, numpy scalars, plain-number step counters, comments naming torch.optim --------

HELPERS = '''
# Helpers shared by my three optimizers (a cell I added).
def direction(p, group):
    """g_t after maximize and (coupled) weight decay, as torch.optim.Adagrad / RMSprop / Adadelta do."""
    g = p.grad.neg() if group["maximize"] else p.grad.clone()
    if group["weight_decay"] != 0:
        g = g.add(p, alpha=group["weight_decay"])
    return g


def run_closure(closure):
    if closure is None:
        return None
    with torch.enable_grad():
        return closure()


def validate(**named):
    for label, value in named.items():
        if value < 0:
            raise ValueError(f"Invalid {label.replace('_', ' ')}: {value}")
'''

NUMPY_ADAGRAD = '''
class Adagrad(torch.optim.Optimizer):
    """My version of torch.optim.Adagrad (same arguments as torch.optim.Adagrad)."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, *,
                 maximize=False):
        if lr < 0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if lr_decay < 0:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if weight_decay < 0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if initial_accumulator_value < 0:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if eps < 0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps,
                                      maximize=maximize))
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p]["step"] = 0.0
                self.state[p]["sum"] = torch.zeros_like(p) + initial_accumulator_value

    @torch.no_grad()
    def step(self, closure=None):
        loss = run_closure(closure)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                state["step"] += 1
                g = direction(p, group)
                clr = np.float64(group["lr"]) / (1.0 + (state["step"] - 1) * group["lr_decay"])
                state["sum"].add_(g * g)
                p.sub_(clr * g / (state["sum"].sqrt() + group["eps"]))
        return loss
'''

NUMPY_RMSPROP = '''
class RMSprop(torch.optim.Optimizer):
    """Like torch.optim.RMSprop, incl. centered and momentum."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, *,
                 maximize=False):
        if lr < 0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if eps < 0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if momentum < 0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if alpha < 0:
            raise ValueError(f"Invalid alpha value: {alpha}")
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered, maximize=maximize))

    @torch.no_grad()
    def step(self, closure=None):
        loss = run_closure(closure)
        for group in self.param_groups:
            a = np.float64(group["alpha"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["square_avg"] = torch.zeros_like(p)
                    if group["momentum"] > 0:
                        state["momentum_buffer"] = torch.zeros_like(p)
                    if group["centered"]:
                        state["grad_avg"] = torch.zeros_like(p)
                state["step"] += 1
                g = direction(p, group)
                state["square_avg"].mul_(a).add_((1 - a) * g * g)
                second = state["square_avg"]
                if group["centered"]:
                    state["grad_avg"].mul_(a).add_((1 - a) * g)
                    second = second - state["grad_avg"] ** 2
                denom = second.sqrt() + group["eps"]
                if group["momentum"] > 0:
                    state["momentum_buffer"].mul_(group["momentum"]).add_(g / denom)
                    p.sub_(group["lr"] * state["momentum_buffer"])
                else:
                    p.sub_(group["lr"] * g / denom)
        return loss
'''

NUMPY_ADADELTA = '''
class Adadelta(torch.optim.Optimizer):
    """Like torch.optim.Adadelta (Zeiler 2012)."""

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False):
        if lr < 0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if rho < 0 or rho > 1:
            raise ValueError(f"Invalid rho value: {rho}")
        if eps < 0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if weight_decay < 0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize))

    @torch.no_grad()
    def step(self, closure=None):
        loss = run_closure(closure)
        for group in self.param_groups:
            rho, eps = group["rho"], group["eps"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["square_avg"] = torch.zeros_like(p)
                    state["acc_delta"] = torch.zeros_like(p)
                state["step"] += 1
                g = direction(p, group)
                v, u = state["square_avg"], state["acc_delta"]
                v.mul_(rho).addcmul_(g, g, value=1 - rho)
                delta = torch.sqrt(u + eps) / torch.sqrt(v + eps) * g
                u.mul_(rho).addcmul_(delta, delta, value=1 - rho)
                p.sub_(group["lr"] * delta)
        return loss
'''

# --- 2. a class hierarchy; RMSprop with eps inside the square root (mistake) -----------------------------------

HIERARCHY_BASE = '''
class Adaptive(torch.optim.Optimizer):
    """Common base of my adaptive optimizers: checks, closure, g_t."""

    CHECKS = ()

    def __init__(self, params, **defaults):
        for key, label in self.CHECKS:
            if defaults[key] < 0:
                raise ValueError(f"Invalid {label}: {defaults[key]}")
        super().__init__(params, defaults)

    def gradient(self, p, group):
        g = -p.grad if group["maximize"] else p.grad
        return g + group["weight_decay"] * p if group["weight_decay"] != 0 else g

    def closure_loss(self, closure):
        if closure is None:
            return None
        with torch.enable_grad():
            return closure()


class Adagrad(Adaptive):
    CHECKS = (("lr", "learning rate"), ("lr_decay", "lr_decay value"), ("weight_decay", "weight_decay value"),
              ("initial_accumulator_value", "initial_accumulator_value value"), ("eps", "epsilon value"))

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, *,
                 maximize=False):
        super().__init__(params, lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                         initial_accumulator_value=initial_accumulator_value, eps=eps, maximize=maximize)
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p].update(step=torch.tensor(0.0), sum=torch.full_like(p, initial_accumulator_value))

    @torch.no_grad()
    def step(self, closure=None):
        loss = self.closure_loss(closure)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                s = self.state[p]
                s["step"] += 1
                g = self.gradient(p, group)
                s["sum"].addcmul_(g, g)
                rate = group["lr"] / (1 + (s["step"].item() - 1) * group["lr_decay"])
                p.addcdiv_(g, s["sum"].sqrt().add(group["eps"]), value=-rate)
        return loss
'''

HIERARCHY_RMSPROP = """
class RMSprop(Adaptive):
    CHECKS = (("lr", "learning rate"), ("eps", "epsilon value"), ("momentum", "momentum value"),
              ("weight_decay", "weight_decay value"), ("alpha", "alpha value"))

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, *,
                 maximize=False):
        super().__init__(params, lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                         centered=centered, maximize=maximize)

    @torch.no_grad()
    def step(self, closure=None):
        loss = self.closure_loss(closure)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                s = self.state[p]
                if not s:
                    s["step"] = torch.tensor(0.0)
                    s["square_avg"] = torch.zeros_like(p)
                    if group["momentum"] > 0:
                        s["momentum_buffer"] = torch.zeros_like(p)
                    if group["centered"]:
                        s["grad_avg"] = torch.zeros_like(p)
                s["step"] += 1
                g = self.gradient(p, group)
                alpha = group["alpha"]
                s["square_avg"].mul_(alpha).addcmul_(g, g, value=1 - alpha)
                var = s["square_avg"]
                if group["centered"]:
                    s["grad_avg"].mul_(alpha).add_(g, alpha=1 - alpha)
                    var = var - s["grad_avg"] * s["grad_avg"]
                denom = (var + group["eps"]).sqrt()
                if group["momentum"] > 0:
                    s["momentum_buffer"].mul_(group["momentum"]).addcdiv_(g, denom)
                    p.add_(s["momentum_buffer"], alpha=-group["lr"])
                else:
                    p.addcdiv_(g, denom, value=-group["lr"])
        return loss
"""

HIERARCHY_ADADELTA = """
class Adadelta(Adaptive):
    CHECKS = (("lr", "learning rate"), ("eps", "epsilon value"), ("weight_decay", "weight_decay value"))

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False):
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        super().__init__(params, lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)

    @torch.no_grad()
    def step(self, closure=None):
        loss = self.closure_loss(closure)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                s = self.state[p]
                if not s:
                    s.update(step=torch.tensor(0.0), square_avg=torch.zeros_like(p), acc_delta=torch.zeros_like(p))
                s["step"] += 1
                g = self.gradient(p, group)
                rho, eps = group["rho"], group["eps"]
                s["square_avg"].mul_(rho).addcmul_(g, g, value=1 - rho)
                upd = s["acc_delta"].add(eps).sqrt() / s["square_avg"].add(eps).sqrt() * g
                s["acc_delta"].mul_(rho).addcmul_(upd, upd, value=1 - rho)
                p.add_(upd, alpha=-group["lr"])
        return loss
"""

# --- 3. functions in their own cell, `copy` from the locked cell; Adagrad decays with t instead of t - 1 -------

FUNCTIONAL_HELPERS = '''
def adagrad_update(p, g, acc, rate, eps):
    acc += g * g
    p -= rate * g / (acc.sqrt() + eps)


def ema_(avg, x, keep):
    """avg <- keep * avg + (1 - keep) * x, in place."""
    avg.mul_(keep).add_(x, alpha=1 - keep)
'''

FUNCTIONAL_ADAGRAD = """
class Adagrad(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, *,
                 maximize=False):
        hyper = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                     initial_accumulator_value=initial_accumulator_value, eps=eps, maximize=maximize)
        names = {"lr": "learning rate", "lr_decay": "lr_decay value", "weight_decay": "weight_decay value",
                 "initial_accumulator_value": "initial_accumulator_value value", "eps": "epsilon value"}
        for key, label in names.items():
            if hyper[key] < 0:
                raise ValueError(f"Invalid {label}: {hyper[key]}")
        super().__init__(params, copy.deepcopy(hyper))
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p]["step"] = torch.tensor(0.0)
                self.state[p]["sum"] = torch.full_like(p, group["initial_accumulator_value"])

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                st = self.state[p]
                st["step"] += 1
                g = -p.grad if group["maximize"] else p.grad
                if group["weight_decay"]:
                    g = g + group["weight_decay"] * p
                rate = group["lr"] / (1 + st["step"].item() * group["lr_decay"])
                adagrad_update(p, g, st["sum"], rate, group["eps"])
        return loss
"""

FUNCTIONAL_RMSPROP = """
class RMSprop(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, *,
                 maximize=False):
        for value, label in ((lr, "learning rate"), (eps, "epsilon value"), (momentum, "momentum value"),
                             (weight_decay, "weight_decay value"), (alpha, "alpha value")):
            if value < 0:
                raise ValueError(f"Invalid {label}: {value}")
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered, maximize=maximize))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                st = self.state[p]
                if not st:
                    st["step"] = torch.zeros(())
                    st["square_avg"] = torch.zeros_like(p)
                    if group["momentum"] > 0:
                        st["momentum_buffer"] = torch.zeros_like(p)
                    if group["centered"]:
                        st["grad_avg"] = torch.zeros_like(p)
                st["step"] += 1
                g = -p.grad if group["maximize"] else p.grad
                if group["weight_decay"]:
                    g = g + group["weight_decay"] * p
                ema_(st["square_avg"], g * g, group["alpha"])
                if group["centered"]:
                    ema_(st["grad_avg"], g, group["alpha"])
                    avg = (st["square_avg"] - st["grad_avg"] ** 2).sqrt() + group["eps"]
                else:
                    avg = st["square_avg"].sqrt() + group["eps"]
                if group["momentum"] > 0:
                    st["momentum_buffer"].mul_(group["momentum"]).add_(g / avg)
                    p -= group["lr"] * st["momentum_buffer"]
                else:
                    p -= group["lr"] * g / avg
        return loss
"""

FUNCTIONAL_ADADELTA = """
class Adadelta(torch.optim.Optimizer):
    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False):
        if lr < 0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not (0 <= rho <= 1):
            raise ValueError(f"Invalid rho value: {rho}")
        if eps < 0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if weight_decay < 0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, copy.deepcopy(dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                                    maximize=maximize)))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                st = self.state[p]
                if not st:
                    st["step"] = torch.zeros(())
                    st["square_avg"] = torch.zeros_like(p)
                    st["acc_delta"] = torch.zeros_like(p)
                st["step"] += 1
                g = -p.grad if group["maximize"] else p.grad
                if group["weight_decay"]:
                    g = g + group["weight_decay"] * p
                ema_(st["square_avg"], g * g, group["rho"])
                delta = ((st["acc_delta"] + group["eps"]) / (st["square_avg"] + group["eps"])).sqrt() * g
                ema_(st["acc_delta"], delta * delta, group["rho"])
                p -= group["lr"] * delta
        return loss
"""

# --- 4. Adadelta accumulating the squared *gradient* into u_t instead of the squared update (mistake) ----------

WRONG_ADADELTA = NUMPY_ADADELTA.replace(
    "u.mul_(rho).addcmul_(delta, delta, value=1 - rho)", "u.mul_(rho).addcmul_(g, g, value=1 - rho)"
)
assert WRONG_ADADELTA != NUMPY_ADADELTA

STUDENTS: dict[str, dict] = {
    "a4-numpy-helpers": {
        "about": "correct; helpers in an added cell, numpy scalars, plain-number step counters, torch named in docs",
        "cells": {"adagrad": NUMPY_ADAGRAD, "rmsprop": NUMPY_RMSPROP, "adadelta": NUMPY_ADADELTA},
        "added": [("setup", HELPERS)],
    },
    "a4-hierarchy-eps-in-sqrt": {
        "about": "own base class; mistake: RMSprop divides by sqrt(v + eps) instead of sqrt(v) + eps",
        "cells": {"adagrad": HIERARCHY_BASE, "rmsprop": HIERARCHY_RMSPROP, "adadelta": HIERARCHY_ADADELTA},
    },
    "a4-functional-lr-decay-t": {
        "about": "helpers in an added cell, `copy` from the locked cell; mistake: Adagrad decays with t, not t - 1",
        "cells": {
            "adagrad": FUNCTIONAL_ADAGRAD,
            "rmsprop": FUNCTIONAL_RMSPROP,
            "adadelta": FUNCTIONAL_ADADELTA,
        },
        "added": [("optim_helpers", FUNCTIONAL_HELPERS)],
    },
    "a4-adadelta-squared-gradient": {
        "about": "mistake: Adadelta's u_t accumulates g_t^2 instead of the squared update",
        "cells": {"adagrad": NUMPY_ADAGRAD, "rmsprop": NUMPY_RMSPROP, "adadelta": WRONG_ADADELTA},
        "added": [("setup", HELPERS)],
    },
}
