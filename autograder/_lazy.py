"""Start-up work the grader defers until something needs it: the same behaviour, less CPU at every start."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
from typing import Any

_RFC = "rfc3987_syntax"
_LOCK = threading.Lock()


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
        with _LOCK:  # one thread replaces the stand-in; the others then find the real module
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
