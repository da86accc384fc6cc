# Helpers used by the tests below: run your optimizer and torch.optim side by side (in lockstep,
# float64, same parameters and gradients) and stop at the first step where parameters or state differ.
import copy

IGNORED_DEFAULTS = {"foreach", "differentiable", "fused", "capturable"}


def _to64(x):
    return torch.as_tensor(x).detach().to("cpu", torch.float64)


def _max_diff(a, b):
    a, b = _to64(a), _to64(b)
    if a.shape != b.shape:
        return math.inf
    return (a - b).abs().max().item() if a.numel() else 0.0


def _close(a, b, atol, rtol):
    a, b = _to64(a), _to64(b)
    return a.shape == b.shape and torch.allclose(a, b, atol=atol, rtol=rtol)


def make_params(shapes=((4, 3), (5,)), *, seed=0, device=DEVICE, noncontiguous=False):
    """Two identical lists of float64 leaf tensors: one for your optimizer, one for torch.optim."""
    gen = torch.Generator().manual_seed(seed)
    mine, ref = [], []
    for shape in shapes:
        base = torch.randn(*shape, 2, generator=gen, dtype=DTYPE).to(device)
        for out in (mine, ref):
            view = base.clone()[..., 0]  # a strided view: non-contiguous
            out.append((view if noncontiguous else view.contiguous()).requires_grad_())
    return mine, ref


def _set_grads(mine, ref, gen, *, none_grad, noncontiguous):
    for i, (pm, pr) in enumerate(zip(mine, ref)):
        if none_grad and i == len(mine) - 1:
            pm.grad = pr.grad = None  # this parameter gets no gradient: it must not move or get state
            continue
        base = torch.randn(*pm.shape, 2, generator=gen, dtype=DTYPE).to(pm.device)
        pm.grad, pr.grad = (base.clone()[..., 0] for _ in range(2))
        if not noncontiguous:
            pm.grad, pr.grad = pm.grad.contiguous(), pr.grad.contiguous()


def _compare(t, mine, ref, opt_mine, opt_ref, name, atol, rtol):
    for i, (pm, pr) in enumerate(zip(mine, ref)):
        if not _close(pm, pr, atol, rtol):
            raise AssertionError(
                f"step t={t}: parameter {i} (shape {tuple(pm.shape)}) differs from {name}: "
                f"max |Δθ| = {_max_diff(pm, pr):.3e}"
            )
        s_mine, s_ref = opt_mine.state.get(pm, {}), opt_ref.state.get(pr, {})
        if set(s_mine) != set(s_ref):
            raise AssertionError(
                f"step t={t}: state of parameter {i} has keys {sorted(s_mine)}, {name} has {sorted(s_ref)}"
            )
        for key in sorted(s_ref):
            if not _close(s_mine[key], s_ref[key], atol, rtol):
                raise AssertionError(
                    f"step t={t}: state[{key!r}] of parameter {i} differs from {name}: "
                    f"max |Δ| = {_max_diff(s_mine[key], s_ref[key]):.3e}"
                )


def _groups(params, groups):
    if groups is None:
        return params
    return [dict(params=params[i :: len(groups)], **g) for i, g in enumerate(groups)]


def _closure(params, opt, coefs):
    def closure():
        opt.zero_grad()
        # a smooth loss; the last parameter is left out when it should get no gradient
        loss = sum((c * p + 0.5 * c.abs() * p**2).sum() for c, p in zip(coefs, params))
        loss.backward()
        return loss

    return closure


def check_against_torch(my_cls, torch_cls, *, steps=7, shapes=((4, 3), (5,)), groups=None, closure=False,
                        none_grad=False, noncontiguous=False, device=DEVICE, seed=0, atol=1e-12, rtol=1e-9,
                        **hyper):
    """Run ``my_cls`` and ``torch_cls`` for ``steps`` steps with the hyper-parameters ``hyper``.

    groups: list of per-group option dicts (parameters are dealt to them in turn); closure: pass a closure to
    step() and compare the returned loss; none_grad: the last parameter never gets a gradient;
    noncontiguous: parameters and gradients are strided views. Raises AssertionError at the first mismatch.
    """
    mine, ref = make_params(shapes, seed=seed, device=device, noncontiguous=noncontiguous)
    opt_mine = my_cls(_groups(mine, groups), **hyper)
    opt_ref = torch_cls(_groups(ref, groups), **hyper)
    name = f"torch.optim.{torch_cls.__name__}({', '.join(f'{k}={v}' for k, v in hyper.items())})"
    gen = torch.Generator().manual_seed(seed + 1)
    n_loss = len(mine) - 1 if none_grad else len(mine)
    coefs = [torch.randn(*p.shape, generator=gen, dtype=DTYPE).to(device) for p in mine[:n_loss]]
    for t in range(1, steps + 1):
        if closure:
            loss_mine = opt_mine.step(_closure(mine[:n_loss], opt_mine, coefs))
            loss_ref = opt_ref.step(_closure(ref[:n_loss], opt_ref, coefs))
            if loss_mine is None or not _close(loss_mine, loss_ref, atol, rtol):
                raise AssertionError(f"step t={t}: step(closure) returned {loss_mine}, {name} returned {loss_ref}")
        else:
            _set_grads(mine, ref, gen, none_grad=none_grad, noncontiguous=noncontiguous)
            opt_mine.step()
            opt_ref.step()
        _compare(t, mine, ref, opt_mine, opt_ref, name, atol, rtol)


def check_state_dict_roundtrip(my_cls, torch_cls, *, before=3, after=4, device=DEVICE, atol=1e-12, rtol=1e-9,
                               **hyper):
    """Run ``before`` steps, save ``state_dict()``, load it into a NEW optimizer and run ``after`` more steps:
    the result must match torch.optim run without interruption."""
    mine, ref = make_params(seed=3, device=device)
    opt_mine, opt_ref = my_cls(mine, **hyper), torch_cls(ref, **hyper)
    name = f"torch.optim.{torch_cls.__name__}({', '.join(f'{k}={v}' for k, v in hyper.items())})"
    gen = torch.Generator().manual_seed(4)
    for t in range(1, before + after + 1):
        if t == before + 1:
            saved = copy.deepcopy(opt_mine.state_dict())
            opt_mine = my_cls(mine, **hyper)
            opt_mine.load_state_dict(saved)
        _set_grads(mine, ref, gen, none_grad=False, noncontiguous=False)
        opt_mine.step()
        opt_ref.step()
        _compare(t, mine, ref, opt_mine, opt_ref, f"{name} [state_dict reloaded after step {before}]", atol, rtol)


def check_same_error(my_cls, torch_cls, **hyper):
    """Both constructors must raise ValueError with torch's exact message for these hyper-parameters."""
    params = [torch.zeros(2, dtype=DTYPE, requires_grad=True)]
    try:
        torch_cls(params, **hyper)
    except ValueError as err:
        expected = str(err)
    else:
        raise AssertionError(f"torch.optim.{torch_cls.__name__} accepts {hyper}: nothing to check")
    try:
        my_cls(params, **hyper)
    except ValueError as err:
        assert str(err) == expected, f"{my_cls.__name__}(**{hyper}) raised ValueError({str(err)!r}), expected {expected!r}"
    else:
        raise AssertionError(f"{my_cls.__name__}(**{hyper}) should raise ValueError({expected!r})")


def check_defaults(my_cls, torch_cls):
    """Your constructor's defaults must equal torch.optim's (ignoring foreach/fused/... implementation flags)."""
    mine = my_cls([torch.zeros(2, dtype=DTYPE, requires_grad=True)]).defaults
    ref = torch_cls([torch.zeros(2, dtype=DTYPE, requires_grad=True)]).defaults
    for key, value in ref.items():
        if key in IGNORED_DEFAULTS:
            continue
        assert key in mine, f"{my_cls.__name__}.defaults has no {key!r} (torch.optim.{torch_cls.__name__} has {key}={value})"
        assert mine[key] == value, f"{my_cls.__name__}.defaults[{key!r}] = {mine[key]}, torch.optim.{torch_cls.__name__} uses {value}"
