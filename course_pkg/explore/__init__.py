"""Explorables: interactive figures that run live in Jupyter and stay interactive in the static book.

Declare an explorable once, in a chapter module ``course_pkg/explore/chapters/<chapter>.py``::

    from course_pkg.explore import Explorable, LogGrid, LinGrid, Choice, Toggle, plain_log_ticks

    def _compute(lr: float, kappa: float, clip: bool) -> dict: ...   # module-level, pure, seeded, fast
    def _draw(result: dict, fig) -> None: ...                         # adds its axes: fig.subplots(...)

    def lr_condition() -> Explorable:
        return Explorable(
            name="gd-lr-condition",
            title="Learning rate × condition number",
            params={"lr": LogGrid(1e-3, 1.0, num=24, default=0.1, label="learning rate η"),
                    "kappa": Choice([1, 10, 100], default=10, label="condition number κ"),
                    "clip": Toggle(default=False, label="clip gradients")},
            compute=_compute, draw=_draw, figsize=(9, 3.9),
        )

    EXPLORABLES = [lr_condition]

A chapter cell ends with ``lr_condition()``: live ipywidgets in a Jupyter kernel, a static self-contained HTML
figure when ``COURSE_EXPLORE_MODE=static`` (set by the book build). :func:`all_explorables` gathers every
chapter module's ``EXPLORABLES`` (tests and benchmarks iterate over it).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import Any

from course_pkg.explore import core
from course_pkg.explore.core import (
    MODE_ENV,
    Choice,
    Explorable,
    LinGrid,
    LogGrid,
    Toggle,
    contour_lines,
    draw_lines,
    log10_ticks,
    plain_log_ticks,
    rendering_mode,
)
from course_pkg.explore.frames import FrameRenderer

__all__ = [
    "MODE_ENV",
    "Choice",
    "Explorable",
    "FrameRenderer",
    "LinGrid",
    "LogGrid",
    "Toggle",
    "all_explorables",
    "contour_lines",
    "draw_lines",
    "explorable_modules",
    "log10_ticks",
    "plain_log_ticks",
    "rendering_mode",
]

# The framework's modules, one direction of imports: ``_mpl_private`` ← ``_textcache`` ← ``frames`` (the frame
# renderer) ← ``core`` (the declaration) ← ``live``, ``static`` (the views) ← ``book`` (the Sphinx side) and this
# package, which registers the views in :data:`core.VIEWS`. The chapters' explorables are the subpackage
# :mod:`course_pkg.explore.chapters`, which imports this package and is imported by nothing here but
# :func:`explorable_modules`.


def _static_view(explorable: Explorable, **options: Any) -> str:
    from course_pkg.explore.static import render_static_html

    return render_static_html(explorable, **options)


def _live_view(explorable: Explorable) -> Any:
    from course_pkg.explore.live import ExplorableWidget

    return ExplorableWidget(explorable)


core.VIEWS.update(static=_static_view, live=_live_view)


def explorable_modules() -> list[str]:
    """Names of the chapter modules, every module of :mod:`course_pkg.explore.chapters` (``_``-prefixed excepted)."""
    import course_pkg.explore.chapters as chapters

    return sorted(
        f"{chapters.__name__}.{m.name}"
        for m in pkgutil.iter_modules(chapters.__path__)
        if not m.name.startswith("_")
    )


def all_explorables() -> dict[str, Callable[[], Explorable]]:
    """Every explorable factory of the course, keyed by ``"<module>.<factory>"``.

    Returns
    -------
    dict of str to callable
        Each chapter module's ``EXPLORABLES`` list, flattened; the key names the chapter module by its last
        component (``"momentum.momentum_quadratic"`` for :mod:`course_pkg.explore.chapters.momentum`).

    Raises
    ------
    ValueError
        If a chapter module has no ``EXPLORABLES`` list.
    """
    found: dict[str, Callable[[], Explorable]] = {}
    for name in explorable_modules():
        module = importlib.import_module(name)
        factories = getattr(module, "EXPLORABLES", None)
        if not isinstance(factories, list | tuple):
            raise ValueError(f"{name} must define EXPLORABLES, a list of explorable factories")
        for factory in factories:
            found[f"{name.rsplit('.', 1)[-1]}.{factory.__name__}"] = factory
    return found
