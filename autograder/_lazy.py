"""Start-up work the grader and the sandbox template defer until something needs it (same behaviour, less CPU).

Both functions only change *when* a library does its work, never what it computes; each is measured in
``README.md`` ("Speed").
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from collections.abc import Callable
from typing import Any

_RFC = "rfc3987_syntax"


def defer_rfc3987_syntax() -> None:
    """Let ``jsonschema`` import ``rfc3987_syntax`` without building its parser.

    ``nbgrader`` imports ``nbformat``, which imports ``jsonschema``, which imports ``rfc3987_syntax`` for its
    optional ``"iri"`` format checker; that module builds an Earley parser of RFC 3987's grammar when it is imported
    (1.5–4 s of CPU, the largest part of importing nbgrader). nbformat validates notebooks without a format checker,
    so the grader never calls it. Here a stand-in module takes its place whose ``is_valid_syntax`` (the only name
    jsonschema takes) and every other attribute import the real module on first use. Does nothing when
    ``jsonschema`` or ``rfc3987_syntax`` is already imported, or when ``rfc3987_syntax`` is not installed.
    """
    if _RFC in sys.modules or "jsonschema" in sys.modules or importlib.util.find_spec(_RFC) is None:
        return
    stand_in = types.ModuleType(_RFC, "stand-in: imports rfc3987_syntax on first use (autograder._lazy)")

    def real() -> types.ModuleType:
        if sys.modules.get(_RFC) is stand_in:
            del sys.modules[_RFC]
        return importlib.import_module(_RFC)

    def is_valid_syntax(term: str, value: str) -> Any:
        return real().is_valid_syntax(term, value)

    def __getattr__(name: str) -> Any:  # noqa: N807 - a module's attribute hook (PEP 562)
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(real(), name)

    stand_in.is_valid_syntax = is_valid_syntax  # type: ignore[attr-defined]
    stand_in.__getattr__ = __getattr__  # type: ignore[attr-defined]
    sys.modules[_RFC] = stand_in


def defer_dynamo_import() -> int:
    """Let torch's ``_disable_dynamo`` functions run without importing ``torch._dynamo`` while nothing compiles.

    ``torch._disable_dynamo(fn)`` wraps ``fn`` (``Optimizer.zero_grad``, ``state_dict``, ``load_state_dict``, …)
    in a function that, on its first call, imports ``torch._dynamo`` (over 800 modules: 1.4–6 s of CPU) to build
    ``torch._dynamo.disable(fn)``, which only matters while dynamo compiles (``torch.compile``). Nothing can
    be compiling before ``torch._dynamo`` is imported, and then ``disable(fn)(*args)`` is ``fn(*args)``. So every
    such wrapper (found among the live objects) gets a ``__dynamo_disable`` (the attribute torch's wrapper looks up
    first) that calls ``fn`` directly while ``torch._dynamo`` is not imported, and once it is, builds and keeps
    ``torch._dynamo.disable(fn)`` exactly as torch's wrapper would. Wrappers made later (a torch module imported
    afterwards) keep torch's own behaviour. Returns the number of wrappers changed (0 without torch).
    """
    torch = sys.modules.get("torch")
    if torch is None or "torch._dynamo" in sys.modules:
        return 0
    import gc

    import torch._compile

    probe = torch._compile._disable_dynamo(_identity)
    code = getattr(probe, "__code__", None)
    if code is None or code.co_freevars != ("fn", "recursive"):  # another torch: leave it alone
        return 0
    changed = 0
    for obj in gc.get_objects():
        if type(obj) is not types.FunctionType or obj.__code__ is not code or obj is probe:
            continue
        cells = dict(zip(code.co_freevars, obj.__closure__ or ()))
        try:
            fn, recursive = cells["fn"].cell_contents, cells["recursive"].cell_contents
        except (KeyError, ValueError):
            continue
        if getattr(fn, "__dynamo_disable", None) is None:
            try:
                fn.__dynamo_disable = _until_dynamo(fn, recursive)
            except (AttributeError, TypeError):  # a builtin or a slotted callable: torch's path stays
                continue
            changed += 1
    return changed


def _identity(x: Any) -> Any:
    return x


def _until_dynamo(fn: Callable[..., Any], recursive: bool) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        if "torch._dynamo" not in sys.modules:  # nothing is compiling: disable(fn) would just call fn
            return fn(*args, **kwargs)
        import torch._dynamo

        disabled = torch._dynamo.disable(fn, recursive, wrapping=False)
        fn.__dynamo_disable = disabled  # type: ignore[attr-defined]  # what torch's wrapper caches
        return disabled(*args, **kwargs)

    return call
