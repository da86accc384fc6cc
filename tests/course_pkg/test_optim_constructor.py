"""Constructors of course_pkg.optim's torch-equivalent optimizers: arguments, defaults and error messages."""

from __future__ import annotations

import inspect
import re
from typing import Any

import pytest
import torch
from optim_lockstep import CASES, OptimizerCase, case_params

# torch.optim's implementation switches; ours have a single (readable) implementation and do not take them.
IMPLEMENTATION_FLAGS = {"foreach", "fused", "capturable", "differentiable"}


@pytest.mark.parametrize("case", case_params())
def test_same_arguments_and_defaults_as_torch(case: OptimizerCase) -> None:
    ours = inspect.signature(case.ours.__init__).parameters
    ref = inspect.signature(case.ref.__init__).parameters
    ref_names = [name for name in ref if name not in IMPLEMENTATION_FLAGS]
    assert list(ours) == ref_names
    for name in ref_names:
        assert ours[name].default == ref[name].default, name
        assert ours[name].kind == ref[name].kind, name


@pytest.mark.parametrize("case", case_params())
def test_default_param_group_matches_torch(case: OptimizerCase) -> None:
    param = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    ours = case.ours([param]).param_groups[0]
    ref = case.ref([param]).param_groups[0]
    for key, value in ours.items():
        if key != "params":
            assert ref[key] == value, key


def _bad_cases() -> list[Any]:
    return [
        pytest.param(case, kwargs, id=f"{case.name}-{'-'.join(f'{k}={v}' for k, v in kwargs.items())}")
        for case in CASES
        for kwargs in case.bad
    ]


@pytest.mark.parametrize(("case", "kwargs"), _bad_cases())
def test_invalid_hyperparameters_raise_torchs_message(case: OptimizerCase, kwargs: dict[str, Any]) -> None:
    param = torch.zeros(2, requires_grad=True)
    with pytest.raises(ValueError) as ref_error:
        case.ref([param], **kwargs)
    torch_message = str(ref_error.value)
    with pytest.raises(ValueError, match=f"^{re.escape(torch_message)}$"):
        case.ours([param], **kwargs)


@pytest.mark.parametrize("case", case_params())
def test_empty_parameter_list_is_rejected(case: OptimizerCase) -> None:
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        case.ours([])


@pytest.mark.parametrize("case", case_params())
def test_is_a_torch_optimizer_with_step_hooks(case: OptimizerCase) -> None:
    param = torch.ones(2, requires_grad=True)
    opt = case.ours([param])
    assert isinstance(opt, torch.optim.Optimizer)
    calls = []
    opt.register_step_pre_hook(lambda *_: calls.append("pre"))
    opt.register_step_post_hook(lambda *_: calls.append("post"))
    param.grad = torch.ones(2)
    opt.step()
    assert calls == ["pre", "post"]
