"""Sandbox side of a replayed test cell: call one of the student's functions on arguments the trusted side sent.

This module is public (it holds no test, no reference, no tolerance): the template imports it, and a probe built by
:mod:`autograder.replay` refers to :func:`remote_call` by name. Arguments arrive as plain values, tensors and
``torch.nn`` modules (rebuilt here with their gradients); what goes back is plain data only — the returned value
described by kind, and every tensor and module argument's values and gradients after the call (the student's
function may change them in place, as ``clip_grad_norm_`` and ``accumulate_gradients`` must).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

# Layers a returned model may be built from: the trusted side rebuilds the model from this description and its
# weights, and evaluates it outside the sandbox.
LAYERS = {
    "Linear": ("in_features", "out_features"),
    "ReLU": (),
    "Tanh": (),
    "Sigmoid": (),
    "GELU": (),
    "LeakyReLU": ("negative_slope",),
    "ELU": ("alpha",),
    "SiLU": (),
    "Softplus": (),
    "Identity": (),
    "Flatten": ("start_dim", "end_dim"),
    "Dropout": ("p",),
    "Softmax": ("dim",),
    "LogSoftmax": ("dim",),
}
MAX_DEPTH = 4


class Arg:
    """A tensor or module argument in transit: ``kind`` "tensor" or "module", with values and gradients."""

    def __init__(self, kind: str, value: Any, grads: list[Any]) -> None:
        self.kind, self.value, self.grads = kind, value, grads


def rebuild(arg: Any) -> Any:
    """Turn :class:`Arg` markers (nested in lists, tuples and dicts) back into tensors and modules."""
    import torch

    if isinstance(arg, Arg):
        if arg.kind == "tensor":
            data, requires_grad = arg.value
            t = data.clone()
            if requires_grad:
                t.requires_grad_()
            t.grad = arg.grads[0]
            return t
        module = arg.value
        for p, g in zip(module.parameters(), arg.grads):
            p.grad = g
        return module
    if isinstance(arg, list | tuple):
        return type(arg)(rebuild(a) for a in arg)
    if isinstance(arg, dict):
        return {k: rebuild(v) for k, v in arg.items()}
    if isinstance(arg, torch.Tensor):
        return arg
    return arg


def _leaves(value: Any, path: str, out: list[tuple[str, Any]]) -> None:
    import torch

    if isinstance(value, torch.Tensor | torch.nn.Module):
        out.append((path, value))
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            _leaves(v, f"{path}.{i}", out)
    elif isinstance(value, dict):
        for k, v in value.items():
            _leaves(v, f"{path}.{k}", out)


def _tensor(t: Any) -> np.ndarray:
    import torch

    with torch._C.DisableTorchFunction():
        t = torch.Tensor.detach(t)
        t = torch.Tensor.cpu(t)
        return np.array(
            torch.Tensor.numpy(torch.Tensor.to(torch.Tensor.contiguous(t), torch.float64)), copy=True
        )


def describe(value: Any, key: str, out: dict[str, Any], depth: int = 0) -> None:
    """Describe a returned value as plain data under ``key`` (kind, then the value or its parts)."""
    import torch

    if depth > MAX_DEPTH:
        raise TypeError("the returned value is nested too deeply")
    kind = type(value)
    if value is None or kind in (bool, int, float, str):
        out[f"{key}.kind"] = kind.__name__
        out[key] = value if kind is not int or abs(value) <= 2**63 else float(value)
    elif isinstance(value, np.floating | np.integer | np.bool_):
        out[f"{key}.kind"] = f"numpy.{kind.__name__}"
        out[key] = value.item()
    elif isinstance(value, torch.Tensor):
        out[f"{key}.kind"] = "Tensor"
        out[f"{key}.dtype"] = str(torch.Tensor.__getattribute__(value, "dtype")).removeprefix("torch.")
        out[key] = _tensor(value)
    elif isinstance(value, np.ndarray):
        out[f"{key}.kind"] = "ndarray"
        out[key] = np.asarray(value, dtype=np.float64)
    elif kind in (list, tuple):
        out[f"{key}.kind"] = kind.__name__
        out[f"{key}.len"] = len(value)
        if len(value) > 100_000:
            raise TypeError("the returned sequence is too long")
        if all(type(v) in (int, float) for v in value):
            out[f"{key}.numbers"] = ",".join(type(v).__name__[0] for v in value)
            out[key] = np.array(value, dtype=np.float64)
        else:
            for i, v in enumerate(value):
                describe(v, f"{key}.{i}", out, depth + 1)
    elif isinstance(value, torch.nn.Module):
        out[f"{key}.kind"] = "Module"
        out[f"{key}.arch"] = json.dumps(architecture(value))
        first = next(iter(value.parameters()), None)
        if first is not None:
            out[f"{key}.dtype"] = str(first.dtype).removeprefix("torch.")
        for name, p in value.state_dict().items():
            out[f"{key}.w.{name}"] = _tensor(p)
    else:
        out[f"{key}.kind"] = f"unsupported:{kind.__name__}"


def architecture(module: Any) -> list[list[Any]]:
    """The layers of a ``torch.nn.Sequential`` (or a single layer) as [type name, *arguments] lists."""
    import torch

    layers = list(module) if type(module) is torch.nn.Sequential else [module]
    arch: list[list[Any]] = []
    for layer in layers:
        name = type(layer).__name__
        if name not in LAYERS or type(layer) is not getattr(torch.nn, name):
            raise TypeError(
                f"the returned model contains a {name}: it must be a torch.nn.Sequential of "
                f"{', '.join(sorted(LAYERS))} so that it can be evaluated outside the sandbox"
            )
        args = [getattr(layer, a) for a in LAYERS[name]]
        if name == "Linear":
            args.append(layer.bias is not None)
        arch.append([name, *args])
    return arch


def remote_call(
    name: str, args: Any, kwargs: Any, ns: dict[str, Any], device: Any, dtype: Any
) -> dict[str, Any]:
    """Call ``ns[name](*args, **kwargs)`` and describe the outcome (value or exception) and the arguments after."""
    if name not in ns:
        return {"raised.type": "NameError", "raised.message": f"name {name!r} is not defined"}
    args, kwargs = rebuild(args), rebuild(kwargs)
    out: dict[str, Any] = {}
    try:
        value = ns[name](*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - the test cell decides what an exception means
        out["raised.type"] = type(exc).__name__
        out["raised.message"] = str(exc)[:2000]
    else:
        describe(value, "ret", out)
    leaves: list[tuple[str, Any]] = []
    _leaves(list(args), "arg", leaves)
    _leaves(dict(kwargs), "kw", leaves)
    for path, leaf in leaves:
        import torch

        params = [leaf] if isinstance(leaf, torch.Tensor) else list(leaf.parameters())
        for i, p in enumerate(params):
            out[f"{path}.{i}.data"] = _tensor(p)
            grad = p.grad
            out[f"{path}.{i}.grad"] = "none" if grad is None else _tensor(grad)
    return out


def capture_calls(ns: dict[str, Any], name: str) -> list[Any]:
    """Wrap the factory ``ns[name]`` (a locked helper such as ``make_model``) so that every object it returns
    is recorded, in creation order; returns the (growing) list of them."""
    made: list[Any] = []
    factory = ns[name]

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        obj = factory(*args, **kwargs)
        made.append(obj)
        return obj

    wrapped.__name__ = wrapped.__qualname__ = name
    wrapped.__doc__ = getattr(factory, "__doc__", None)
    ns[name] = wrapped
    return made


def weights(model: Any, key: str, out: dict[str, Any], max_numel: int = 1_000_000) -> None:
    """Describe a model's parameters and buffers (its state dict, read through ``torch.nn.Module`` itself) as
    raw float64 arrays under ``key.w.<name>``; the trusted side rebuilds the model from its own copy of the
    architecture and evaluates it."""
    import torch

    if not isinstance(model, torch.nn.Module):
        out[f"{key}.kind"] = f"unsupported:{type(model).__name__}"
        return
    state = torch.nn.Module.state_dict(model)
    if sum(torch.Tensor.numel(t) for t in state.values()) > max_numel:
        raise TypeError(f"a model with more than {max_numel} weights")
    out[f"{key}.kind"] = "Module"
    for name, value in state.items():
        out[f"{key}.w.{name}"] = _tensor(value)
