"""Make torch's implementations of what the assignments ask for unusable inside the sandbox, at run time.

:func:`install` runs once in the sandbox template (after its trusted warm-up, before any student code exists) and
replaces, *in place*, the ``__code__`` of every function that implements a concrete optimizer, an optimizer kernel,
a learning-rate scheduler or gradient clipping. Because the function objects themselves are changed, every alias
raises: ``torch.optim.SGD``, ``getattr(torch.optim, "S" + "GD")``, ``Optimizer.__subclasses__()``, objects found
through ``gc.get_objects()``, the wrapped function behind a decorator. The fused C++ kernels are overridden in the
dispatcher (every route to ``aten::_fused_adam_`` reaches the override). Each blocked call raises
:class:`DelegationError` naming what was called, so the check that called it fails with that message.

Kept usable: ``torch.optim.Optimizer`` (the base class students subclass), ``LRScheduler`` with ``LambdaLR`` and
``MultiplicativeLR`` (they only evaluate the student's own function), tensors, autograd and ``torch.nn``.
The source files of the blocked modules are hidden by the sandbox's mount namespace (:func:`blocked_files`), so they
cannot be re-imported, reloaded or exec'd from disk.
"""

from __future__ import annotations

import gc
import importlib
import inspect
import os
import types
import warnings
from typing import Any

MESSAGE = (
    "{name} is torch's implementation of what this assignment asks you to write; it cannot be used while "
    "grading (write it yourself)"
)

# Modules whose every function is blocked (concrete optimizers and their functional kernels, clipping).
OPTIMIZER_MODULES = (
    "sgd",
    "adam",
    "adamw",
    "adagrad",
    "rmsprop",
    "adadelta",
    "adamax",
    "nadam",
    "radam",
    "asgd",
    "rprop",
    "lbfgs",
    "sparse_adam",
    "_adafactor",
    "_muon",
    "_functional",
)
OTHER_MODULES = ("torch.nn.utils.clip_grad",)
SCHEDULERS_KEPT = {"LRScheduler", "_LRScheduler", "LambdaLR", "MultiplicativeLR"}
FUSED_OPS = ("_fused_sgd_", "_fused_adam_", "_fused_adamw_", "_fused_adagrad_")

_KEEP: list[Any] = []  # dispatcher overrides live as long as their Library object


class DelegationError(RuntimeError):
    """Raised by every blocked torch implementation inside the sandbox."""


def _modules() -> list[types.ModuleType]:
    out = []
    for name in [f"torch.optim.{m}" for m in OPTIMIZER_MODULES] + list(OTHER_MODULES):
        try:
            out.append(importlib.import_module(name))
        except ImportError:
            continue
    return out


def blocked_files() -> list[str]:
    """Source and bytecode files of the blocked modules (hidden from the sandbox by the mount namespace)."""
    import torch.optim.lr_scheduler as sched

    files: set[str] = set()
    for mod in [*_modules(), sched]:
        path = getattr(mod, "__file__", None)
        if not path:
            continue
        files.add(path)
        cached = importlib.util.cache_from_source(path)
        if os.path.exists(cached):
            files.add(cached)
    return sorted(files)


def _raiser(fn: types.FunctionType, name: str) -> types.CodeType:
    """A code object with ``fn``'s free variables whose body raises :class:`DelegationError` for ``name``."""
    free = fn.__code__.co_freevars
    msg = MESSAGE.format(name=name)
    body = "\n".join(
        [
            "def _outer():",
            *[f"    {v} = None" for v in free],
            "    def _blocked(*args, **kwargs):",
            *[f"        {v}" for v in free],
            f"        raise _DelegationError({msg!r})",
            "    return _blocked",
        ]
    )
    ns: dict[str, Any] = {}
    exec(compile(body, f"<blocked {name}>", "exec"), ns)
    code = ns["_outer"]().__code__
    # The error class is looked up in the blocked function's own globals: put it there under a private name.
    fn.__globals__["_DelegationError"] = DelegationError
    return code.replace(co_name=fn.__code__.co_name, co_qualname=fn.__code__.co_qualname)


def _label(fn: types.FunctionType) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


def _is_blocked(fn: types.FunctionType, files: set[str], sched_file: str) -> bool:
    filename = fn.__code__.co_filename
    if filename in files:
        return True
    if filename == sched_file:
        owner = fn.__code__.co_qualname.split(".")[0]
        return owner not in SCHEDULERS_KEPT and owner[:1].isupper()
    return False


def install() -> list[str]:
    """Block the implementations; returns the names of the functions replaced (for tests and the README)."""
    import torch
    import torch.optim.lr_scheduler as sched

    files = {m.__file__ for m in _modules() if getattr(m, "__file__", None)}
    sched_file = sched.__file__
    done: list[str] = []
    seen: set[int] = set()

    def block(fn: types.FunctionType) -> None:
        if id(fn) in seen:
            return
        seen.add(id(fn))
        for cell in fn.__closure__ or ():  # decorators keep the original in a closure cell
            try:
                inner = cell.cell_contents
            except ValueError:
                continue
            if isinstance(inner, types.FunctionType):
                block(inner)
        wrapped = getattr(fn, "__wrapped__", None)
        if isinstance(wrapped, types.FunctionType):
            block(wrapped)
        if _is_blocked(fn, files, sched_file):
            fn.__code__ = _raiser(fn, _label(fn))
            done.append(_label(fn))

    with warnings.catch_warnings():  # touching deprecated module attributes warns
        warnings.simplefilter("ignore")
        for obj in gc.get_objects():  # every function object, wherever it is referenced from
            if type(obj) is types.FunctionType:
                block(obj)
    for mod in [*_modules(), sched]:  # and what the modules expose (functions reached through classes)
        for _, member in inspect.getmembers(mod):
            if isinstance(member, type):
                for attr in vars(member).values():
                    fn = getattr(attr, "__func__", attr)
                    if isinstance(fn, types.FunctionType):
                        block(fn)
    for op in FUSED_OPS:
        if not hasattr(torch.ops.aten, op):
            continue
        lib = torch.library.Library("aten", "IMPL")
        for key in ("CPU", "CUDA", "Meta"):
            with warnings.catch_warnings():  # "overriding a previously registered kernel": that is the point
                warnings.simplefilter("ignore")
                try:
                    lib.impl(op, _fused_blocker(f"torch.{op}"), key)
                except RuntimeError:
                    continue
        _KEEP.append(lib)
        done.append(f"torch.{op}")
    return sorted(set(done))


def block_names(names: list[str]) -> list[str]:
    """Block more implementations by dotted name (a spec's ``blocked``, e.g. scikit-learn's ``KFold``).

    A function's code is replaced in place (every alias raises); a class gets a raising ``__init__`` on the class
    object itself (every alias is that object; its base classes stay usable for other subclasses).
    """
    done = []
    for dotted in names:
        module_name, _, attr = dotted.rpartition(".")
        obj = getattr(importlib.import_module(module_name), attr)
        if isinstance(obj, type):
            msg = MESSAGE.format(name=dotted)

            def init(self: Any, *args: Any, _msg: str = msg, **kwargs: Any) -> None:
                raise DelegationError(_msg)

            obj.__init__ = init  # type: ignore[misc]
        elif isinstance(obj, types.FunctionType):
            fn = inspect.unwrap(obj)
            for f in {id(obj): obj, id(fn): fn}.values():
                f.__code__ = _raiser(f, dotted)
        else:
            raise TypeError(f"cannot block {dotted}: not a function or a class")
        done.append(dotted)
    return done


def _fused_blocker(name: str) -> Any:
    def blocked(*args: Any, **kwargs: Any) -> Any:
        raise DelegationError(MESSAGE.format(name=name))

    return blocked
