"""Reusable experiment helpers for the book's chapters.

Each module serves one chapter (``sgd``, ``momentum``, ``adaptive``, ``adam`` ...): small, seeded, CPU-sized
experiments whose numbers the chapters quote. Nothing here prints; every function returns plain data.
"""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def _blas_controller() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def one_blas_thread() -> Any:
    """A context in which BLAS runs on one thread: small matrix products, where threads only add contention.

    The BLAS libraries are found once per process (``threadpool_limits(1)`` searches them at every call, some
    milliseconds: as much as a small experiment's frame)."""
    return _blas_controller().limit(limits=1, user_api="blas")
