"""Honest a3 students, each written independently of the instructor solution and of each other.

``STUDENTS[name] = {"cells": {grade_id: code}, "added": [(after_grade_id, code)], "about": text}``. Some are fully
correct in a style of their own; the others carry one typical mistake each (named in ``about``).
"""

from __future__ import annotations

# --- 1. correct: helpers in a cell of their own, numpy floats, `copy` from the locked helper cell -------------

NUMPY_HELPERS = """
# My helpers (a cell I added). The schedules return numpy floats (numpy.float64 is a float).
def as_float(x):
    return np.float64(x)


def require_nonnegative(value, what):
    if value < 0:
        raise ValueError(f"Invalid {what}: {value}")
"""

NUMPY_SGD = '''
class SGD(torch.optim.Optimizer):
    """My SGD; it must behave exactly like torch.optim.SGD (which I read about but do not use)."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False):
        require_nonnegative(lr, "learning rate")
        require_nonnegative(momentum, "momentum value")
        require_nonnegative(weight_decay, "weight_decay value")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, {"lr": lr, "momentum": momentum, "dampening": dampening,
                                  "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize})

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            hyper = copy.deepcopy({k: v for k, v in group.items() if k != "params"})  # `copy`: the locked cell's
            for p in group["params"]:
                if p.grad is None:
                    continue
                d_p = p.grad.clone()
                if hyper["maximize"]:
                    d_p.neg_()
                if hyper["weight_decay"]:
                    d_p.add_(p, alpha=hyper["weight_decay"])
                if hyper["momentum"]:
                    st = self.state[p]
                    if "momentum_buffer" not in st:
                        st["momentum_buffer"] = d_p.clone()
                    else:
                        st["momentum_buffer"].mul_(hyper["momentum"]).add_(d_p, alpha=1 - hyper["dampening"])
                    buf = st["momentum_buffer"]
                    d_p = d_p + hyper["momentum"] * buf if hyper["nesterov"] else buf
                p.sub_(hyper["lr"] * d_p)
        return loss
'''

NUMPY_SCHEDULES = '''
def step_lr(k, eta0, step_size, gamma=0.1):
    """Like torch.optim.lr_scheduler.StepLR: eta0 * gamma ** floor(k / step_size)."""
    if step_size < 1:
        raise ValueError(f"step_size must be >= 1, got {step_size}")
    return as_float(eta0 * np.power(gamma, k // step_size))


def warmup_cosine(k, eta0, warmup_steps, total_steps, start_factor=0.1, eta_min=0.0):
    """Linear warm-up (LinearLR) then cosine annealing (CosineAnnealingLR), as with SequentialLR."""
    if warmup_steps < 0:
        raise ValueError("warmup_steps must not be negative")
    if total_steps <= warmup_steps:
        raise ValueError("total_steps must exceed warmup_steps")
    if k < 0 or k > total_steps:
        raise ValueError(f"k={k} is outside [0, {total_steps}]")
    if k < warmup_steps:
        return as_float(eta0 * (start_factor + (1.0 - start_factor) * k / warmup_steps))
    phase = np.pi * (k - warmup_steps) / (total_steps - warmup_steps)
    return as_float(eta_min + 0.5 * (eta0 - eta_min) * (1.0 + np.cos(phase)))
'''

NUMPY_CLIPPING = '''
def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Same contract as torch.nn.utils.clip_grad_norm_ (not used here)."""
    params = [parameters] if torch.is_tensor(parameters) else list(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return torch.tensor(0.0)
    norm_type = float(norm_type)
    if norm_type == math.inf:
        total = torch.stack([g.detach().abs().max() for g in grads]).max()
    else:
        total = torch.stack([g.detach().abs().pow(norm_type).sum() for g in grads]).sum().pow(1.0 / norm_type)
    if error_if_nonfinite and not bool(torch.isfinite(total)):
        raise RuntimeError(f"total norm {total} is not finite")
    scale = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g.mul_(scale)
    return total
'''

NUMPY_ACCUMULATION = """
def accumulate_gradients(model, loss_fn, x, y, k):
    n = len(x)
    if k < 1 or n % k:
        raise ValueError(f"cannot split a batch of {n} into k={k} equal micro-batches")
    for p in model.parameters():
        p.grad = None
    size = n // k
    losses = []
    for j in range(k):
        part = slice(j * size, (j + 1) * size)
        loss = loss_fn(model(x[part]), y[part])
        (loss / k).backward()
        losses.append(loss.item())
    return float(np.mean(losses))
"""

NUMPY_TRAINING = """
def train_digits(epochs=8, batch_size=64, k=2, lr=0.1, seed=0):
    model = make_model(seed)
    criterion = torch.nn.CrossEntropyLoss()
    steps_per_epoch = X_train.shape[0] // batch_size
    total = epochs * steps_per_epoch
    opt = SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lr_lambda=lambda s: warmup_cosine(min(s, total), 1.0, steps_per_epoch, total))
    gen = torch.Generator().manual_seed(seed)
    history = []
    for _ in range(epochs):
        perm = torch.randperm(X_train.shape[0], generator=gen).to(DEVICE)
        for i in range(steps_per_epoch):
            batch = perm[i * batch_size : (i + 1) * batch_size]
            history.append(accumulate_gradients(model, criterion, X_train[batch], y_train[batch], k))
            clip_grad_norm_(model.parameters(), max_norm=1.0)
            opt.step()
            sched.step()
    return model, history
"""

# --- 2. a class hierarchy of their own; Nesterov looks ahead with the previous buffer b_{t-1} (mistake) -------

HIERARCHY_SGD = '''
class MyOptimizerBase(torch.optim.Optimizer):
    """Things every optimizer of mine needs."""

    def _evaluate(self, closure):
        if closure is None:
            return None
        with torch.enable_grad():
            return closure()

    def _params_with_grad(self):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    yield group, p


class SGD(MyOptimizerBase):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize))

    @torch.no_grad()
    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group, p in self._params_with_grad():
            g = p.grad.neg() if group["maximize"] else p.grad.clone()
            if group["weight_decay"] != 0:
                g += group["weight_decay"] * p
            mu = group["momentum"]
            if mu != 0:
                state = self.state[p]
                if "momentum_buffer" in state:
                    previous = state["momentum_buffer"].clone()
                    state["momentum_buffer"].mul_(mu).add_((1 - group["dampening"]) * g)
                else:
                    state["momentum_buffer"] = g.clone()
                    previous = state["momentum_buffer"]
                g = g + mu * previous if group["nesterov"] else state["momentum_buffer"]
            p -= group["lr"] * g
        return loss
'''

HIERARCHY_SCHEDULES = """
def step_lr(k, eta0, step_size, gamma=0.1):
    if step_size <= 0:
        raise ValueError("step_size must be positive")
    n_decays = k // step_size
    return eta0 * gamma**n_decays


def warmup_cosine(k, eta0, warmup_steps, total_steps, start_factor=0.1, eta_min=0.0):
    if warmup_steps < 0 or total_steps <= warmup_steps or not 0 <= k <= total_steps:
        raise ValueError(f"bad schedule: k={k}, warmup_steps={warmup_steps}, total_steps={total_steps}")
    if k >= warmup_steps:
        t = (k - warmup_steps) / (total_steps - warmup_steps)
        return eta_min + (eta0 - eta_min) * 0.5 * (1 + math.cos(math.pi * t))
    return eta0 * start_factor + eta0 * (1 - start_factor) * (k / warmup_steps)
"""

HIERARCHY_CLIPPING = """
def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    grads = [p.grad for p in parameters if p.grad is not None]
    if len(grads) == 0:
        return torch.tensor(0.0)
    total = torch.linalg.vector_norm(torch.cat([g.detach().reshape(-1) for g in grads]), ord=norm_type)
    if error_if_nonfinite and (total.isnan() or total.isinf()):
        raise RuntimeError("non-finite total norm")
    factor = max_norm / (total + 1e-6)
    if factor < 1:
        for g in grads:
            g.mul_(factor)
    return total
"""

HIERARCHY_ACCUMULATION = """
def accumulate_gradients(model, loss_fn, x, y, k):
    if k < 1 or x.shape[0] % k != 0:
        raise ValueError(f"batch size {x.shape[0]} is not a multiple of k = {k}")
    model.zero_grad()
    total = 0.0
    for xs, ys in zip(torch.chunk(x, k), torch.chunk(y, k)):
        micro = loss_fn(model(xs), ys)
        (micro / k).backward()
        total += micro.item() / k
    return total
"""

HIERARCHY_TRAINING = """
def train_digits(epochs=8, batch_size=64, k=2, lr=0.1, seed=0):
    net = make_model(seed)
    optimizer = SGD(net.parameters(), lr=lr, momentum=0.9, nesterov=True)
    n_batches = len(X_train) // batch_size
    n_steps = epochs * n_batches
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: warmup_cosine(min(step, n_steps), 1.0, n_batches, n_steps))
    shuffler = torch.Generator().manual_seed(seed)
    ce = torch.nn.CrossEntropyLoss()
    losses = []
    for epoch in range(epochs):
        idx = torch.randperm(len(X_train), generator=shuffler).to(DEVICE)
        for b in range(n_batches):
            take = idx[b * batch_size : b * batch_size + batch_size]
            losses.append(accumulate_gradients(net, ce, X_train[take], y_train[take], k))
            clip_grad_norm_(net.parameters(), 1.0)
            optimizer.step()
            schedule.step()
    return net, losses
"""

# --- 3. p.data style, docstrings naming torch; dampening applied to the very first buffer (mistake) -----------

DATA_SGD = '''
class SGD(torch.optim.Optimizer):
    """Re-implementation of torch.optim.SGD. Usage, as with torch.optim.SGD:

        opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
        opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False):
        checks = [(lr, "Invalid learning rate: {}"), (momentum, "Invalid momentum value: {}"),
                  (weight_decay, "Invalid weight_decay value: {}")]
        for value, message in checks:
            if value < 0:
                raise ValueError(message.format(value))
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        super(SGD, self).__init__(params, defaults)

    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        with torch.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    grad = p.grad.data
                    if group["maximize"]:
                        grad = -grad
                    if group["weight_decay"] != 0:
                        grad = grad + group["weight_decay"] * p.data
                    if group["momentum"] != 0:
                        state = self.state[p]
                        if "momentum_buffer" not in state:
                            state["momentum_buffer"] = (1 - group["dampening"]) * grad
                        else:
                            state["momentum_buffer"] = (group["momentum"] * state["momentum_buffer"]
                                                        + (1 - group["dampening"]) * grad)
                        if group["nesterov"]:
                            grad = grad + group["momentum"] * state["momentum_buffer"]
                        else:
                            grad = state["momentum_buffer"]
                    p.data.add_(grad, alpha=-group["lr"])
        return loss
'''

DATA_SCHEDULES = '''
import math as m


def step_lr(k, eta0, step_size, gamma=0.1):
    """Equivalent to torch.optim.lr_scheduler.StepLR(opt, step_size, gamma) after k steps."""
    if step_size < 1:
        raise ValueError("step_size < 1")
    lr = float(eta0)
    for i in range(1, k + 1):
        if i % step_size == 0:
            lr *= gamma
    return lr


def warmup_cosine(k, eta0, warmup_steps, total_steps, start_factor=0.1, eta_min=0.0):
    """SequentialLR([LinearLR, CosineAnnealingLR]) in closed form."""
    if warmup_steps < 0:
        raise ValueError("negative warmup_steps")
    if total_steps <= warmup_steps:
        raise ValueError("total_steps <= warmup_steps")
    if k < 0 or k > total_steps:
        raise ValueError("k out of range")
    if k < warmup_steps:
        return eta0 * (start_factor + (1 - start_factor) * k / warmup_steps)
    return eta_min + (eta0 - eta_min) * (1 + m.cos(m.pi * (k - warmup_steps) / (total_steps - warmup_steps))) / 2
'''

DATA_CLIPPING = '''
def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Like torch.nn.utils.clip_grad_norm_(parameters, max_norm, norm_type)."""
    if torch.is_tensor(parameters):
        parameters = [parameters]
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return torch.tensor(0.0)
    per_tensor = torch.stack([torch.linalg.vector_norm(g, norm_type) for g in grads])
    total = torch.linalg.vector_norm(per_tensor, norm_type)
    if error_if_nonfinite and not torch.isfinite(total).item():
        raise RuntimeError("gradient norm is nan or inf")
    coef = (max_norm / (total + 1e-6)).clamp(max=1.0)
    for g in grads:
        g.mul_(coef)
    return total
'''

DATA_ACCUMULATION = """
def accumulate_gradients(model, loss_fn, x, y, k):
    batch = x.size(0)
    if k < 1 or batch % k:
        raise ValueError(f"{batch} samples cannot be split into {k} equal micro-batches")
    model.zero_grad(set_to_none=True)
    parts = batch // k
    values = []
    for xb, yb in zip(x.split(parts), y.split(parts)):
        loss = loss_fn(model(xb), yb) / k
        loss.backward()
        values.append(loss.item())
    return sum(values)
"""

# --- 4. torch._foreach_ arithmetic and a helper cell after the setup; clipping without the 1e-6 (mistake) -----

FOREACH_HELPERS = '''
def flat_norm(tensors, p):
    """Norm of all tensors seen as one long vector."""
    if p == math.inf:
        return max(t.abs().max() for t in tensors)
    return sum(t.abs().pow(p).sum() for t in tensors) ** (1.0 / p)
'''

FOREACH_SGD = """
class SGD(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            grads = [p.grad.clone() for p in params]
            if group["maximize"]:
                torch._foreach_neg_(grads)
            if group["weight_decay"] != 0:
                torch._foreach_add_(grads, params, alpha=group["weight_decay"])
            mu = group["momentum"]
            if mu != 0:
                bufs = []
                for p, g in zip(params, grads):
                    st = self.state[p]
                    if "momentum_buffer" not in st:
                        st["momentum_buffer"] = g.clone()
                    else:
                        st["momentum_buffer"].mul_(mu).add_(g, alpha=1 - group["dampening"])
                    bufs.append(st["momentum_buffer"])
                if group["nesterov"]:
                    torch._foreach_add_(grads, bufs, alpha=mu)
                else:
                    grads = bufs
            torch._foreach_add_(params, grads, alpha=-group["lr"])
        return loss
"""

FOREACH_CLIPPING = """
def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    params = [parameters] if isinstance(parameters, torch.Tensor) else [p for p in parameters]
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return torch.tensor(0.0)
    total = torch.as_tensor(flat_norm([g.detach() for g in grads], float(norm_type)))
    if error_if_nonfinite and not torch.isfinite(total):
        raise RuntimeError("The total norm is non-finite")
    if total > max_norm:
        torch._foreach_mul_(grads, max_norm / total)
    return total
"""

STUDENTS: dict[str, dict] = {
    "a3-numpy-helpers": {
        "about": "correct; numpy floats, helpers in an added cell, `copy` from the locked optim_helpers cell",
        "cells": {
            "sgd": NUMPY_SGD,
            "schedules": NUMPY_SCHEDULES,
            "clipping": NUMPY_CLIPPING,
            "accumulation": NUMPY_ACCUMULATION,
            "training": NUMPY_TRAINING,
        },
        "added": [("setup", NUMPY_HELPERS)],
    },
    "a3-hierarchy-nesterov-old-buffer": {
        "about": "own base class; mistake: Nesterov looks ahead with b_{t-1} instead of b_t",
        "cells": {
            "sgd": HIERARCHY_SGD,
            "schedules": HIERARCHY_SCHEDULES,
            "clipping": HIERARCHY_CLIPPING,
            "accumulation": HIERARCHY_ACCUMULATION,
            "training": HIERARCHY_TRAINING,
        },
    },
    "a3-data-dampened-first-buffer": {
        "about": "p.data style, docstrings naming torch.optim.SGD; mistake: dampening on the first buffer",
        "cells": {
            "sgd": DATA_SGD,
            "schedules": DATA_SCHEDULES,
            "clipping": DATA_CLIPPING,
            "accumulation": DATA_ACCUMULATION,
            "training": HIERARCHY_TRAINING,
        },
    },
    "a3-foreach-clip-no-eps": {
        "about": "torch._foreach_ arithmetic, helper cell; mistake: clipping factor max_norm / norm (no 1e-6)",
        "cells": {
            "sgd": FOREACH_SGD,
            "schedules": HIERARCHY_SCHEDULES,
            "clipping": FOREACH_CLIPPING,
            "accumulation": NUMPY_ACCUMULATION,
            "training": NUMPY_TRAINING,
        },
        "added": [("setup", FOREACH_HELPERS + NUMPY_HELPERS)],
    },
}
