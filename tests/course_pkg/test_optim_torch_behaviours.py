"""The torch.optim behaviours course_pkg.optim's classes claim, each checked against torch.optim itself (float64).

Modelled on PyTorch's ``TestOptimRenewed`` (``test/test_optim.py``): maximize and the direction of the loss, a tensor
learning rate against a float one, complex parameters against their real views, no-ops on missing or zero
gradients, deterministic state dicts, state dicts from older torch versions (``step`` a plain number), optimizer
hooks, deepcopy, and sparse gradients (SGD and Adagrad accept them; the others refuse them, as torch's do).
"""

from __future__ import annotations

import copy
import inspect
from typing import Any

import pytest
import torch
from optim_lockstep import CASES, TOL, Lockstep, OptimizerCase, batch, case_params, loss_fn
from torch import Tensor

from course_pkg.optim._base import step_dtype

STEPS = 8


def _run(opt: torch.optim.Optimizer, params: list[Tensor], steps: int, sign: float = 1.0) -> list[float]:
    """``steps`` steps on the lockstep MLP problem (on ``sign`` × its loss); the losses before each step."""
    losses = []
    for t in range(1, steps + 1):
        opt.zero_grad(set_to_none=True)
        loss = sign * loss_fn(params, batch(t % 2, "cpu"))  # two batches, alternating: the loss can go down
        loss.backward()
        losses.append(loss.item())
        opt.step()
    return losses


def _params(seed: int = 0) -> list[Tensor]:
    from optim_lockstep import make_params

    return make_params("cpu", seed)


def _clone(params: list[Tensor]) -> list[Tensor]:
    return [p.detach().clone().requires_grad_() for p in params]


def _zero_decay(case: OptimizerCase, options: dict[str, Any]) -> dict[str, Any]:
    """``options`` with no weight decay (AdamW's default is 1e-2): a zero gradient then leaves θ unchanged."""
    return (
        {**options, "weight_decay": 0.0}
        if "weight_decay" in inspect.signature(case.ours).parameters
        else options
    )


@pytest.mark.parametrize("case", case_params())
def test_maximize_ascends_and_equals_minimizing_the_negated_loss(case: OptimizerCase) -> None:
    """maximize=True on L follows torch's iterates, raises L, and is the same run as minimizing -L."""
    options = _zero_decay(case, {k: v for k, v in case.options[0].items() if k != "maximize"})
    p_max, p_ref, p_neg = _params(), _params(), _params()
    opt_max = case.make_ours(p_max, **options, maximize=True)
    ref_max = case.make_ref(p_ref, **options, maximize=True)
    opt_neg = case.make_ours(p_neg, **options)
    losses = _run(opt_max, p_max, 20)
    _run(ref_max, p_ref, 20)
    _run(opt_neg, p_neg, 20, sign=-1.0)
    for a, b, c in zip(p_max, p_ref, p_neg):
        torch.testing.assert_close(a, b, **TOL)
        torch.testing.assert_close(a, c, **TOL)
    final = loss_fn(p_max, batch(1, "cpu")).item()
    assert final > losses[0]  # ascent: the loss grew


@pytest.mark.parametrize("case", case_params())
def test_tensor_lr_gives_the_float_lr_run(case: OptimizerCase) -> None:
    """A 0-dim tensor lr and the same float lr give the same iterates (to rounding), in ours as in torch."""
    results = {}
    for name, lr in (("float", 0.02), ("tensor", torch.tensor(0.02, dtype=torch.float64))):
        p_ours, p_ref = _params(), _params()
        _run(case.make_ours(p_ours, **{**case.options[-1], "lr": lr}), p_ours, STEPS)
        _run(case.make_ref(p_ref, **{**case.options[-1], "lr": lr}), p_ref, STEPS)
        for a, b in zip(p_ours, p_ref):
            torch.testing.assert_close(a, b, **TOL)
        results[name] = p_ours
    for a, b in zip(results["float"], results["tensor"]):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", case_params())
def test_complex_parameter_equals_its_real_view(case: OptimizerCase) -> None:
    """A complex parameter is optimized as the real tensor holding its (real, imaginary) pairs, as in torch."""
    gen = torch.Generator().manual_seed(3)
    z0 = torch.randn(4, 3, dtype=torch.complex128, generator=gen)
    z_ours, z_ref = z0.clone().requires_grad_(), z0.clone().requires_grad_()
    r_ours = torch.view_as_real(z0).clone().requires_grad_()
    opt_z = case.make_ours([z_ours], **case.options[-1])
    ref_z = case.make_ref([z_ref], **case.options[-1])
    opt_r = case.make_ours([r_ours], **case.options[-1])
    for _ in range(STEPS):
        g = torch.randn(4, 3, dtype=torch.complex128, generator=gen)
        z_ours.grad, z_ref.grad, r_ours.grad = g.clone(), g.clone(), torch.view_as_real(g).clone()
        opt_z.step()
        ref_z.step()
        opt_r.step()
        torch.testing.assert_close(z_ours, z_ref, **TOL)
        torch.testing.assert_close(torch.view_as_real(z_ours.detach()), r_ours.detach(), **TOL)


@pytest.mark.parametrize("case", case_params())
def test_missing_and_zero_gradients(case: OptimizerCase) -> None:
    """No gradient: nothing changes, no state appears. A zero gradient (no weight decay): θ unchanged, state as torch's."""
    options = _zero_decay(case, case.options[-1])
    p_ours, p_ref = _params(), _params()
    opt, ref = case.make_ours(p_ours, **options), case.make_ref(p_ref, **options)
    state_before = copy.deepcopy(opt.state_dict())
    opt.step()
    ref.step()
    torch.testing.assert_close(opt.state_dict(), state_before, rtol=0, atol=0)
    torch.testing.assert_close(opt.state_dict()["state"], ref.state_dict()["state"], **TOL)
    for p, q in zip(p_ours, p_ref):
        p.grad, q.grad = torch.zeros_like(p), torch.zeros_like(q)
    before = [p.detach().clone() for p in p_ours]
    for _ in range(3):
        opt.step()
        ref.step()
    for p, p0 in zip(p_ours, before):
        assert torch.equal(p.detach(), p0)
    torch.testing.assert_close(opt.state_dict()["state"], ref.state_dict()["state"], **TOL)


@pytest.mark.parametrize("case", case_params())
def test_state_dict_is_deterministic(case: OptimizerCase) -> None:
    """Two optimizers loaded from one state dict have equal state dicts and continue bit for bit alike.

    The loaded values equal the saved ones; only their dtype may change (``load_state_dict`` casts every state
    tensor but ``step`` to the parameter's dtype, so NAdam's float32 ``mu_product`` becomes float64, in torch too).
    """
    p_a = _params()
    opt_a = case.make_ours(p_a, **case.options[-1])
    _run(opt_a, p_a, 4)
    saved = opt_a.state_dict()
    p_b, p_c = _clone(p_a), _clone(p_a)
    opt_b = case.make_ours(p_b, **case.options[-1])
    opt_b.load_state_dict(copy.deepcopy(saved))
    opt_c = case.make_ours(p_c, **case.options[-1])
    opt_c.load_state_dict(copy.deepcopy(opt_b.state_dict()))
    torch.testing.assert_close(opt_b.state_dict(), saved, rtol=0, atol=0, check_dtype=False)
    torch.testing.assert_close(opt_c.state_dict(), opt_b.state_dict(), rtol=0, atol=0)
    _run(opt_b, p_b, 4)
    _run(opt_c, p_c, 4)
    for b, c in zip(p_b, p_c):
        assert torch.equal(b, c)
    torch.testing.assert_close(opt_c.state_dict(), opt_b.state_dict(), rtol=0, atol=0)


def _as_old_torch(state_dict: dict[str, Any]) -> dict[str, Any]:
    """A state dict as torch < 1.12 saved it: ``step`` (and NAdam's ``mu_product``) plain Python floats."""
    old = copy.deepcopy(state_dict)
    for entries in old["state"].values():
        for key in ("step", "mu_product"):
            if key in entries:
                entries[key] = float(entries[key])
    return old


@pytest.mark.parametrize("case", [s for s in case_params() if s.values[0].name != "SGD"])
def test_older_state_dict_with_float_step(case: OptimizerCase) -> None:
    """Loading a state dict whose counters are plain numbers restores tensors, as torch does, and continues."""
    run = Lockstep(case, "cpu", **case.options[-1])
    for _ in range(5):
        run.step()
    old = _as_old_torch(run.ref.state_dict())
    assert any(isinstance(v, float) for e in old["state"].values() for v in e.values())
    run.opt = case.make_ours(run.p_ours, **case.options[-1])
    run.opt.load_state_dict(copy.deepcopy(old))
    run.ref = case.make_ref(run.p_ref, **case.options[-1])
    run.ref.load_state_dict(copy.deepcopy(old))
    for entries in run.opt.state.values():
        for key in ("step", "mu_product"):
            if key in entries:
                assert torch.is_tensor(entries[key]) and entries[key].dtype == step_dtype()
                assert entries[key].dim() == 0 and entries[key].device.type == "cpu"
    run.check()
    for _ in range(5):
        run.step()


@pytest.mark.parametrize("case", case_params())
def test_hooks_run_as_in_torch(case: OptimizerCase) -> None:
    """Step pre/post hooks (one halves lr before every step) and state-dict hooks act on ours as on torch."""

    def install(opt: torch.optim.Optimizer, log: list[str]) -> None:
        def pre(optimizer: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
            log.append("pre")
            for group in optimizer.param_groups:
                group["lr"] = group["lr"] * 0.5

        opt.register_step_pre_hook(pre)
        opt.register_step_post_hook(lambda *_: log.append("post"))
        opt.register_state_dict_post_hook(lambda _opt, sd: {**sd, "note": "saved"})
        opt.register_load_state_dict_pre_hook(lambda _opt, sd: log.append(f"load {sd.get('note')}"))
        opt.register_load_state_dict_post_hook(lambda _opt: log.append("loaded"))

    logs: dict[str, list[str]] = {"ours": [], "ref": []}
    run = Lockstep(case, "cpu", **case.options[0])
    install(run.opt, logs["ours"])
    install(run.ref, logs["ref"])
    for _ in range(4):
        run.step()
    assert run.opt.param_groups[0]["lr"] == pytest.approx(
        case.options[0].get("lr", case.base.get("lr", 1.0)) / 16
    )
    saved = run.opt.state_dict()
    assert saved["note"] == "saved"
    run.opt.load_state_dict(copy.deepcopy(saved))
    run.ref.load_state_dict(copy.deepcopy(run.ref.state_dict()))
    assert logs["ours"] == logs["ref"] == ["pre", "post"] * 4 + ["load saved", "loaded"]
    run.step()


@pytest.mark.parametrize("case", case_params())
def test_deepcopy_continues_like_the_original(case: OptimizerCase) -> None:
    """deepcopy of (parameters, optimizer) copies every public attribute and state; both runs then agree."""
    p, p_ref = _params(), _params()
    opt, ref = case.make_ours(p, **case.options[-1]), case.make_ref(p_ref, **case.options[-1])
    _run(opt, p, 3)
    _run(ref, p_ref, 3)
    p_copy, opt_copy = copy.deepcopy((p, opt))
    assert type(opt_copy) is type(opt)
    assert {k for k in vars(opt) if not k.startswith("_")} == {
        k for k in vars(opt_copy) if not k.startswith("_")
    }
    for q, q_copy in zip(p, p_copy):
        assert q is not q_copy and torch.equal(q, q_copy)
    assert len(opt_copy.state) == len(opt.state)
    for q, q_copy in zip(p, p_copy):
        for key, value in opt.state.get(q, {}).items():
            copied = opt_copy.state[q_copy][key]
            assert copied is not value and torch.equal(copied, value)
    _run(opt, p, 3)
    _run(opt_copy, p_copy, 3)
    _run(ref, p_ref, 3)
    for a, b, c in zip(p, p_copy, p_ref):
        assert torch.equal(a, b)
        torch.testing.assert_close(a, c, **TOL)
    torch.testing.assert_close(opt_copy.state_dict(), opt.state_dict(), rtol=0, atol=0)


# --- sparse gradients -------------------------------------------------------------------------------------------

SPARSE_OPTIONS = {
    "SGD": [{}, {"momentum": 0.9}, {"momentum": 0.9, "nesterov": True}, {"maximize": True, "momentum": 0.5}],
    "Adagrad": [{}, {"lr_decay": 0.1, "initial_accumulator_value": 0.2}, {"maximize": True, "eps": 1e-3}],
}


def _embedding_grad(step: int) -> Tensor:
    """The gradient of an embedding table (10 rows × 3) after a batch that looks up a few rows, some twice."""
    gen = torch.Generator().manual_seed(step)
    rows = torch.randint(0, 10, (6,), generator=gen)  # repeated rows: the indices are not coalesced
    values = torch.randn(6, 3, generator=gen, dtype=torch.float64)
    return torch.sparse_coo_tensor(rows.unsqueeze(0), values, (10, 3), check_invariants=True)


@pytest.mark.parametrize(
    ("name", "options"),
    [pytest.param(n, o, id=f"{n}-{o}") for n, opts in SPARSE_OPTIONS.items() for o in opts],
)
def test_sparse_gradients_as_torch(name: str, options: dict[str, Any]) -> None:
    case = next(s for s in CASES if s.name == name)
    table = torch.randn(10, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    p_ours, p_ref = table.clone().requires_grad_(), table.clone().requires_grad_()
    opt, ref = case.make_ours([p_ours], **options), case.make_ref([p_ref], **options)
    for t in range(1, STEPS + 1):
        g = _embedding_grad(t)
        p_ours.grad, p_ref.grad = g.clone(), g.clone()
        opt.step()
        ref.step()
        torch.testing.assert_close(p_ours, p_ref, **TOL)
    untouched = [
        i for i in range(10) if all(i not in _embedding_grad(t)._indices() for t in range(1, STEPS + 1))
    ]
    if not options.get("momentum"):  # without momentum, a row no batch looked up never moves
        assert torch.equal(p_ours.detach()[untouched], table[untouched])
    ours_state = {
        k: v.to_dense() if v.is_sparse else v for k, v in opt.state_dict()["state"].get(0, {}).items()
    }
    ref_state = {
        k: v.to_dense() if v.is_sparse else v for k, v in ref.state_dict()["state"].get(0, {}).items()
    }
    assert set(ours_state) == (
        {"momentum_buffer"} if options.get("momentum") else {"step", "sum"} if name == "Adagrad" else set()
    )
    torch.testing.assert_close(ours_state, ref_state, **TOL)


def test_sparse_adagrad_with_weight_decay_fails_like_torch() -> None:
    case = next(s for s in CASES if s.name == "Adagrad")
    messages = []
    for make in (case.make_ours, case.make_ref):
        param = torch.zeros(10, 3, dtype=torch.float64, requires_grad=True)
        param.grad = _embedding_grad(1)
        with pytest.raises(RuntimeError) as error:
            make([param], weight_decay=0.1).step()
        messages.append(str(error.value))
    assert messages[0] == messages[1] == "weight_decay option is not compatible with sparse gradients"


@pytest.mark.parametrize("case", [s for s in case_params() if s.values[0].name not in SPARSE_OPTIONS])
def test_sparse_gradients_refused_where_torch_refuses_them(case: OptimizerCase) -> None:
    for make in (case.make_ours, case.make_ref):
        param = torch.zeros(3, dtype=torch.float64, requires_grad=True)
        param.grad = torch.zeros(3, dtype=torch.float64).to_sparse()
        with pytest.raises(RuntimeError, match="does not support sparse gradients"):
            make([param]).step()
