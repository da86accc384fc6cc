"""The declaration of an explorable: finite parameter grids and the :class:`Explorable` object.

An explorable is a pure function of a few named parameters, each ranging over a *finite* grid, split into

- ``compute(**params) -> result``: module-level, pure, deterministic (seeded), fast; returns plain data;
- ``draw(result, fig) -> None``: draws ``result`` on a :class:`matplotlib.figure.Figure` without axes (a new
  one, or the previous frame's emptied by :class:`~course_pkg.explore.frames.FrameRenderer`); it may use
  :func:`plain_log_ticks` for cheap log axes.

The same object renders two ways (chosen by :func:`rendering_mode`):

- **live** (a Jupyter kernel): ipywidgets controls bound to the grids; every change calls compute + draw;
- **static** (the book build): every grid point precomputed and embedded as self-contained HTML + inline JS.

Imports go one way: this module uses the frame renderer (:mod:`.frames`); the views (:mod:`.live`,
:mod:`.static`) use both, and the package (:mod:`course_pkg.explore`) registers them in :data:`VIEWS`.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from course_pkg.explore.frames import render_figure

#: Environment variable that selects the rendering: ``"static"`` or ``"live"`` (default: live).
MODE_ENV = "COURSE_EXPLORE_MODE"

#: The views of an explorable: ``"static"`` → ``f(explorable, **options) -> str`` (the static HTML) and ``"live"``
#: → ``f(explorable) -> widget``. Filled in by the package :mod:`course_pkg.explore`, which is always imported
#: before this module; the declaration imports no view.
VIEWS: dict[str, Callable[..., Any]] = {}


def rendering_mode() -> str:
    """The rendering chosen for displayed explorables in this process.

    Returns
    -------
    str
        ``"static"`` when the environment variable ``COURSE_EXPLORE_MODE`` is ``static`` (the book build sets
        it, see ``book/_ext/course_book.py``), otherwise ``"live"``.

    Raises
    ------
    ValueError
        If the variable holds anything other than ``static``, ``live`` or nothing.
    """
    mode = os.environ.get(MODE_ENV, "live").strip().lower() or "live"
    if mode not in ("static", "live"):
        raise ValueError(f"{MODE_ENV} must be 'static' or 'live', got {mode!r}")
    return mode


def _format_number(value: Any) -> str:
    """Short, readable label of a grid value (``0.001``, ``3.16e-05``, ``10``, ``True``, ``'adam'``)."""
    if isinstance(value, bool | np.bool_):
        return "on" if value else "off"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        v = float(value)
        if v == 0.0:
            return "0"
        if 1e-3 <= abs(v) < 1e4:
            return f"{v:.3g}"
        return f"{v:.2e}".replace("e-0", "e-").replace("e+0", "e")
    return str(value)


@dataclass(frozen=True)
class _Grid:
    """Common interface of the parameter grids: a finite tuple of values, a default index and a label."""

    values: tuple[Any, ...] = field(init=False)
    default_index: int = field(init=False)
    label: str = field(init=False)

    @property
    def default(self) -> Any:
        """The default value (an element of :attr:`values`)."""
        return self.values[self.default_index]

    def __len__(self) -> int:
        return len(self.values)

    def labels(self) -> list[str]:
        """Human-readable label of every value, in order."""
        return [_format_number(v) for v in self.values]

    def index(self, value: Any) -> int:
        """Index of ``value`` in the grid.

        Raises
        ------
        ValueError
            If ``value`` is not one of the grid values.
        """
        for i, v in enumerate(self.values):
            if v == value or (isinstance(v, float) and isinstance(value, float) and math.isclose(v, value)):
                return i
        raise ValueError(f"{value!r} is not a value of this grid ({self.labels()})")


def _snap(values: np.ndarray, default: float, log: bool) -> int:
    target = math.log(default) if log else default
    grid = np.log(values) if log else values
    return int(np.argmin(np.abs(grid - target)))


class LinGrid(_Grid):
    """``num`` linearly spaced values from ``lo`` to ``hi`` (both included).

    Parameters
    ----------
    lo, hi : float
        Ends of the range, ``lo < hi``.
    num : int
        Number of values, at least 2.
    default : float
        Initial value; snapped to the nearest grid value.
    label : str
        Label shown next to the control.
    """

    def __init__(self, lo: float, hi: float, num: int, default: float, label: str) -> None:
        if not (math.isfinite(lo) and math.isfinite(hi)) or not lo < hi:
            raise ValueError(f"LinGrid needs finite lo < hi, got lo={lo}, hi={hi}")
        if int(num) != num or num < 2:
            raise ValueError(f"LinGrid needs an integer num >= 2, got num={num}")
        values = np.linspace(lo, hi, int(num))
        object.__setattr__(self, "values", tuple(float(v) for v in values))
        object.__setattr__(self, "default_index", _snap(values, float(default), log=False))
        object.__setattr__(self, "label", str(label))
        object.__setattr__(self, "lo", float(lo))
        object.__setattr__(self, "hi", float(hi))

    def __repr__(self) -> str:
        return f"LinGrid({self.lo}, {self.hi}, num={len(self)}, default={self.default}, label={self.label!r})"


class LogGrid(_Grid):
    """``num`` log-spaced values from ``lo`` to ``hi`` (both included, both > 0).

    Parameters
    ----------
    lo, hi : float
        Ends of the range, ``0 < lo < hi``.
    num : int
        Number of values, at least 2.
    default : float
        Initial value (> 0); snapped to the nearest grid value in log scale.
    label : str
        Label shown next to the control.
    """

    def __init__(self, lo: float, hi: float, num: int, default: float, label: str) -> None:
        if not (math.isfinite(lo) and math.isfinite(hi)) or not 0 < lo < hi:
            raise ValueError(f"LogGrid needs finite 0 < lo < hi, got lo={lo}, hi={hi}")
        if int(num) != num or num < 2:
            raise ValueError(f"LogGrid needs an integer num >= 2, got num={num}")
        if not default > 0:
            raise ValueError(f"LogGrid needs a default > 0, got default={default}")
        values = np.geomspace(lo, hi, int(num))
        object.__setattr__(self, "values", tuple(float(v) for v in values))
        object.__setattr__(self, "default_index", _snap(values, float(default), log=True))
        object.__setattr__(self, "label", str(label))
        object.__setattr__(self, "lo", float(lo))
        object.__setattr__(self, "hi", float(hi))

    def __repr__(self) -> str:
        return f"LogGrid({self.lo}, {self.hi}, num={len(self)}, default={self.default}, label={self.label!r})"


class Choice(_Grid):
    """A choice among a few values (numbers or strings): a slider when the values are ordered, else a dropdown.

    Parameters
    ----------
    values : sequence
        The choices, at least one, no duplicates.
    default : object
        Initial value; must be one of ``values``.
    label : str
        Label shown next to the control.
    ordered : bool, optional
        Whether the values are in a meaningful order (a slider over them, in the given order). Default: true
        when every value is a number (not a bool) and the values increase or decrease strictly.
    """

    def __init__(self, values: Sequence[Any], default: Any, label: str, ordered: bool | None = None) -> None:
        values = tuple(values)
        if not values:
            raise ValueError("Choice needs at least one value")
        if len(set(map(repr, values))) != len(values):
            raise ValueError(f"Choice values must be distinct, got {values!r}")
        if default not in values:
            raise ValueError(f"Choice default {default!r} is not one of the values {values!r}")
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "default_index", values.index(default))
        object.__setattr__(self, "label", str(label))
        object.__setattr__(self, "ordered", _monotonic_numbers(values) if ordered is None else bool(ordered))

    def __repr__(self) -> str:
        return (
            f"Choice({list(self.values)!r}, default={self.default!r}, label={self.label!r}, "
            f"ordered={self.ordered})"
        )


def _monotonic_numbers(values: tuple[Any, ...]) -> bool:
    """Whether ``values`` are at least two numbers (no bools) in strictly increasing or decreasing order."""
    if len(values) < 2 or not all(
        isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool | np.bool_)
        for v in values
    ):
        return False
    steps = np.diff(np.asarray(values, dtype=float))
    return bool(np.all(steps > 0) or np.all(steps < 0))


def is_slider(grid: Any) -> bool:
    """Whether a grid is shown as a slider: a :class:`LinGrid`, a :class:`LogGrid` or an ordered :class:`Choice`."""
    return isinstance(grid, LinGrid | LogGrid) or (isinstance(grid, Choice) and grid.ordered)


def value_text(grid: Any, index: int) -> str:
    """What a control announces for the grid value at ``index``: ``"learning rate η = 0.1"``, ``"Nesterov: on"``."""
    label = grid.labels()[index]
    if isinstance(grid, Toggle):
        return f"{grid.label}: {label}"
    return f"{grid.label} = {label}"


class Toggle(_Grid):
    """An on/off switch (values ``False``, ``True``), shown as a checkbox.

    Parameters
    ----------
    default : bool
        Initial state.
    label : str
        Label shown next to the control.
    """

    def __init__(self, default: bool, label: str) -> None:
        if not isinstance(default, bool | np.bool_):
            raise ValueError(f"Toggle default must be a bool, got {default!r}")
        object.__setattr__(self, "values", (False, True))
        object.__setattr__(self, "default_index", int(bool(default)))
        object.__setattr__(self, "label", str(label))

    def __repr__(self) -> str:
        return f"Toggle(default={self.default}, label={self.label!r})"


Grid = LinGrid | LogGrid | Choice | Toggle


class Explorable:
    """An interactive figure: named parameter grids, a pure ``compute`` and a matplotlib ``draw``.

    Parameters
    ----------
    name : str
        Unique identifier (lower case, digits and dashes), used for page anchors and caches.
    title : str
        Title shown above the figure.
    params : dict of str to grid
        Parameter name (a keyword argument of ``compute``) to its grid (:class:`LinGrid`, :class:`LogGrid`,
        :class:`Choice` or :class:`Toggle`). The order is the order of the controls.
    compute : callable
        ``compute(**params) -> result``; module-level (picklable), pure and deterministic.
    draw : callable
        ``draw(result, fig) -> None``; draws on a :class:`matplotlib.figure.Figure` without axes (adds its own,
        with ``fig.subplots(...)``; see ``reuse_figure``).
    figsize : tuple of float
        Figure size in inches.
    reuse_figure : bool
        Whether the live rendering may redraw frames into one reused figure (:class:`FrameRenderer`): the axes
        ``draw`` created for the previous frame are emptied and handed to it again, which skips creating axes and
        ticks and makes a control change about a third cheaper. ``draw`` must then produce the same picture on a
        reused figure as on a fresh one; ``tests/course_pkg/test_explore_frames.py`` checks this for every
        explorable of the course. Set ``False`` for a ``draw`` that cannot (every frame then gets a fresh figure).

    Notes
    -----
    Displayed as the last expression of a cell, an explorable renders live ipywidgets in a Jupyter kernel and a
    static, self-contained HTML figure when ``COURSE_EXPLORE_MODE=static`` (the book build).
    """

    def __init__(
        self,
        name: str,
        title: str,
        params: dict[str, Grid],
        compute: Callable[..., Any],
        draw: Callable[[Any, Any], None],
        figsize: tuple[float, float] = (8, 4),
        reuse_figure: bool = True,
    ) -> None:
        if not name or not all(c.isalnum() or c == "-" for c in name) or name != name.lower():
            raise ValueError(f"Explorable name must be lower-case letters, digits and dashes, got {name!r}")
        if not isinstance(params, dict) or not params:
            raise ValueError("Explorable params must be a non-empty dict of name -> grid")
        for key, grid in params.items():
            if not isinstance(grid, _Grid):
                raise ValueError(
                    f"parameter {key!r} must be a LinGrid, LogGrid, Choice or Toggle, got {type(grid).__name__}"
                )
            if not key.isidentifier():
                raise ValueError(f"parameter name {key!r} is not a valid Python identifier")
        if not callable(compute) or not callable(draw):
            raise ValueError("Explorable compute and draw must be callables")
        if len(figsize) != 2 or not all(float(s) > 0 for s in figsize):
            raise ValueError(f"Explorable figsize must be two positive numbers, got {figsize!r}")
        self.name = name
        self.title = title
        self.params = dict(params)
        self.compute = compute
        self.draw = draw
        self.figsize = (float(figsize[0]), float(figsize[1]))
        self.reuse_figure = bool(reuse_figure)
        self.live_widget: Any = None

    # -- the grid ---------------------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """Number of values of each parameter, in order."""
        return tuple(len(g) for g in self.params.values())

    @property
    def n_frames(self) -> int:
        """Number of grid points (frames of the static rendering)."""
        return math.prod(self.shape)

    def defaults(self) -> dict[str, Any]:
        """The default value of every parameter."""
        return {k: g.default for k, g in self.params.items()}

    def default_indices(self) -> tuple[int, ...]:
        """Grid index of every parameter's default."""
        return tuple(g.default_index for g in self.params.values())

    def grid_points(self) -> Iterator[tuple[tuple[int, ...], dict[str, Any]]]:
        """Every grid point as ``(indices, params)``, in C order (last parameter fastest)."""
        keys = list(self.params)
        grids = list(self.params.values())
        for idx in itertools.product(*(range(len(g)) for g in grids)):
            yield idx, {k: g.values[i] for k, g, i in zip(keys, grids, idx)}

    # -- one frame --------------------------------------------------------------------------------------------
    def figure(self, **params: Any) -> Any:
        """Compute and draw one frame with matplotlib's constrained layout; missing parameters take defaults.

        Returns
        -------
        matplotlib.figure.Figure
            A new figure (not attached to pyplot; no need to close it).

        Raises
        ------
        ValueError
            If a parameter name is unknown.
        """
        return self.render(params)

    def render(self, params: dict[str, Any], positions: list[tuple[float, ...]] | None = None) -> Any:
        """Compute and draw one frame, optionally with fixed axes positions.

        Parameters
        ----------
        params : dict
            Parameter values; missing ones take their defaults.
        positions : list of tuple, optional
            Axes positions ``(left, bottom, width, height)`` in figure coordinates, one per axes in creation order,
            as measured on a constrained-layout frame by :func:`axes_positions`. Reusing them skips the layout
            solver (two thirds of the drawing time) and keeps the axes still from frame to frame. An optional
            fifth number fixes the vertical position of the axes titles (in axes coordinates) as measured too,
            which skips matplotlib's automatic title placement (a second tick-label layout per titled axes). If
            the frame has a different number of axes, constrained layout is used.

        Returns
        -------
        matplotlib.figure.Figure
            A new figure.

        Raises
        ------
        ValueError
            If a parameter name is unknown.
        """
        return render_figure(self, params, positions)

    def values(self, params: dict[str, Any]) -> dict[str, Any]:
        """Every parameter's value: ``params``, and the default of each parameter it leaves out.

        Raises
        ------
        ValueError
            If a parameter name is unknown.
        """
        unknown = set(params) - set(self.params)
        if unknown:
            raise ValueError(f"unknown parameter(s) {sorted(unknown)} for explorable {self.name!r}")
        return {**self.defaults(), **params}

    def result(self, **params: Any) -> Any:
        """What one frame shows, as data: ``compute`` run on ``params`` (missing parameters take their defaults).

        The frame at these parameters draws exactly this result. A chapter that asserts what its explorable shows
        calls this, not the module's private compute function.

        Raises
        ------
        ValueError
            If a parameter name is unknown.
        """
        return self.compute(**self.values(params))

    # -- renderings (the views registered in VIEWS) ------------------------------------------------------------
    def static_html(self, **options: Any) -> str:
        """The self-contained static HTML figure (every grid point precomputed); see :mod:`.static`."""
        return VIEWS["static"](self, **options)

    def widget(self) -> Any:
        """The live ipywidgets rendering (a :class:`course_pkg.explore.live.ExplorableWidget`)."""
        return VIEWS["live"](self)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        if rendering_mode() == "static":
            return {"text/html": self.static_html(), "text/plain": repr(self)}
        # kept so that code (and tests) can reach the controls of the last live display
        self.live_widget = self.widget()
        return self.live_widget._repr_mimebundle_(include=include, exclude=exclude)

    def __repr__(self) -> str:
        grids = ", ".join(f"{k}: {len(g)}" for k, g in self.params.items())
        return f"<Explorable {self.name!r}: {self.title} ({grids}; {self.n_frames} frames)>"


# -- log axes that are cheap to redraw ------------------------------------------------------------------------------
_SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def superscript_power_label(value: float, _pos: Any = None) -> str:
    """``10⁻²`` for a power of ten, in plain text (no mathtext), every power in the same style: ``10⁻³``, ``10⁰``,
    ``10¹``, ``10²`` (never ``1`` or ``10`` beside ``10²`` on one axis; for plain numbers use the decimal labels of
    :func:`plain_log_ticks`)."""
    exponent = int(round(np.log10(value)))
    return "10" + str(exponent).translate(_SUPERSCRIPTS)


def _decimal_label(value: float, _pos: Any = None) -> str:
    return f"{value:g}"


def plain_log_ticks(axis: Any, labels: str = "exponent", numticks: int | None = None) -> None:
    """Plain-text labels and no minor ticks on a log-scaled axis, for cheap redraws.

    Matplotlib's default log labels are mathtext (``$10^{-2}$``) and its minor log ticks are a dozen tick objects
    per decade; both are laid out at every draw and cost about as much as the rest of a typical frame.

    Parameters
    ----------
    axis : matplotlib.axis.Axis
        ``ax.xaxis`` or ``ax.yaxis`` of a log-scaled axes.
    labels : {"exponent", "superscript", "decimal"}
        The labels of the major ticks: ``1e-02`` (matplotlib's plain :class:`~matplotlib.ticker.LogFormatter`,
        powers of ten only), ``10⁻²`` (:func:`superscript_power_label`) or ``0.01`` (``f"{value:g}"``).
    numticks : int, optional
        At most this many major ticks (a :class:`~matplotlib.ticker.LogLocator`); default: the axis' locator.

    Raises
    ------
    ValueError
        If ``labels`` is not one of the three styles.
    """
    from matplotlib import ticker

    formatters = {
        "exponent": lambda: ticker.LogFormatter(labelOnlyBase=True),
        "superscript": lambda: ticker.FuncFormatter(superscript_power_label),
        "decimal": lambda: ticker.FuncFormatter(_decimal_label),
    }
    if labels not in formatters:
        raise ValueError(f"labels must be one of {sorted(formatters)}, got {labels!r}")
    if numticks is not None:
        axis.set_major_locator(ticker.LogLocator(numticks=numticks))
    axis.set_major_formatter(formatters[labels]())
    axis.set_minor_locator(ticker.NullLocator())


def log10_ticks(axis: Any, ticks: Any, labels: str = "superscript") -> None:
    """Fixed ticks on an axis that shows log₁₀ of the data on a linear scale: a log plot without a log scale to set
    up at every frame (plot ``np.log10(values)`` and set the limits in log₁₀ units, after the ticks: ``set_ticks``
    widens the view to every tick).

    Parameters
    ----------
    axis : matplotlib.axis.Axis
        ``ax.xaxis`` or ``ax.yaxis``.
    ticks : sequence of float
        The tick values (not their logarithms), positive.
    labels : {"superscript", "decimal"}
        ``10⁻²`` (:func:`superscript_power_label`, powers of ten only), or plain numbers while they are short
        (``0.01``, ``1``, ``1000``) and ``10⁴``, ``10⁵`` … from ten thousand on.

    Raises
    ------
    ValueError
        If ``labels`` is not one of the two styles.
    """
    if labels not in ("superscript", "decimal"):
        raise ValueError(f"labels must be 'superscript' or 'decimal', got {labels!r}")
    ticks = np.asarray(ticks, dtype=float)
    text = [
        superscript_power_label(v) if labels == "superscript" or v >= 1e4 else _decimal_label(v)
        for v in ticks
    ]
    axis.set_ticks(np.log10(ticks), text)


# -- level lines of a fixed function, computed once -----------------------------------------------------------------
def contour_lines(X: np.ndarray, Y: np.ndarray, Z: np.ndarray, levels: Any, with_levels: bool = False) -> Any:
    """The level lines of ``Z`` on the grid ``X, Y`` at ``levels``: one read-only ``(k, 2)`` vertex array per piece,
    level after level.

    What ``ax.contour`` computes at every call (contourpy, with matplotlib's algorithm and corner masking). A figure that shows the
    level lines of a fixed function caches them (``functools.cache`` on what the function depends on) and draws them
    with :func:`draw_lines` at every frame: a tenth of the cost of ``ax.contour``.

    Parameters
    ----------
    X, Y, Z : numpy.ndarray
        The grid (as from ``numpy.meshgrid``) and the function's values on it.
    levels : sequence of float
        The levels, in the order the lines are returned.
    with_levels : bool
        Also return the level of each piece (to colour the lines by level).

    Returns
    -------
    tuple of numpy.ndarray, or (tuple of numpy.ndarray, numpy.ndarray)
        The pieces; with ``with_levels``, also an array holding the level of each piece.
    """
    import contourpy
    import matplotlib as mpl

    generator = contourpy.contour_generator(
        X,
        Y,
        np.ma.masked_invalid(Z),
        name=mpl.rcParams["contour.algorithm"],
        corner_mask=mpl.rcParams["contour.corner_mask"],
        line_type=contourpy.LineType.SeparateCode,
    )
    lines, of_level = [], []
    for level in levels:
        for line in generator.lines(float(level))[0]:
            line = np.asarray(line, dtype=float)
            line.flags.writeable = False  # cached and shared by every frame
            lines.append(line)
            of_level.append(float(level))
    return (tuple(lines), np.array(of_level)) if with_levels else tuple(lines)


def draw_lines(
    ax: Any, lines: Any, colors: Any = "0.75", linewidths: float = 0.7, alpha: float | None = None
) -> Any:
    """Draw ``lines`` (vertex arrays, e.g. from :func:`contour_lines`) on ``ax`` as one
    :class:`~matplotlib.collections.LineCollection`: what ``ax.contour`` draws (solid lines, one colour or one per
    line, no labels; where a closed line meets its start the join may differ by a pixel). The axes' limits are left
    to the caller; returns the collection."""
    from matplotlib.collections import LineCollection

    collection = LineCollection(lines, colors=colors, linewidths=linewidths, alpha=alpha)
    ax.add_collection(collection, autolim=False)
    return collection
