"""The explorable specification: finite parameter grids and the :class:`Explorable` object.

An explorable is a pure function of a few named parameters, each ranging over a *finite* grid, split into

- ``compute(**params) -> result``: module-level, pure, deterministic (seeded), fast; returns plain data;
- ``draw(result, fig) -> None``: draws ``result`` on a :class:`matplotlib.figure.Figure` without axes (a new
  one, or the previous frame's emptied by :class:`FrameRenderer`).

The same object renders two ways (chosen by :func:`rendering_mode`):

- **live** (a Jupyter kernel): ipywidgets controls bound to the grids; every change calls compute + draw;
- **static** (the book build): every grid point precomputed and embedded as self-contained HTML + inline JS.
"""

from __future__ import annotations

import functools
import itertools
import math
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Environment variable that selects the rendering: ``"static"`` or ``"live"`` (default: live).
MODE_ENV = "COURSE_EXPLORE_MODE"


def rendering_mode() -> str:
    """The rendering chosen for displayed explorables in this process.

    Returns
    -------
    str
        ``"static"`` when the environment variable ``COURSE_EXPLORE_MODE`` is ``static`` (the book build sets
        it, see ``book/_ext/explore_static.py``), otherwise ``"live"``.

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
        from matplotlib.figure import Figure

        values = self.values(params)
        fig = Figure(figsize=self.figsize, layout=None if positions else "constrained")
        self.draw(self.compute(**values), fig)
        if positions and not _place_axes(fig, positions):
            fig.set_layout_engine("constrained")
        return fig

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

    # -- renderings -------------------------------------------------------------------------------------------
    def static_html(self, **options: Any) -> str:
        """The self-contained static HTML figure (every grid point precomputed); see :mod:`.static`."""
        from course_pkg.explore.static import render_static_html

        return render_static_html(self, **options)

    def widget(self) -> Any:
        """The live ipywidgets rendering (a :class:`course_pkg.explore.live.ExplorableWidget`)."""
        from course_pkg.explore.live import ExplorableWidget

        return ExplorableWidget(self)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        if rendering_mode() == "static":
            return {"text/html": self.static_html(), "text/plain": repr(self)}
        # kept so that code (and tests) can reach the controls of the last live display
        self.live_widget = self.widget()
        return self.live_widget._repr_mimebundle_(include=include, exclude=exclude)

    def __repr__(self) -> str:
        grids = ", ".join(f"{k}: {len(g)}" for k, g in self.params.items())
        return f"<Explorable {self.name!r}: {self.title} ({grids}; {self.n_frames} frames)>"


def axes_positions(fig: Any) -> list[tuple[float, ...]]:
    """Positions of a figure's axes after drawing it (run the layout first), for :meth:`Explorable.render`.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A figure drawn with constrained layout.

    Returns
    -------
    list of tuple
        ``(left, bottom, width, height, title_y)`` of every axes, in creation order: the position in figure
        coordinates and where matplotlib placed the axes titles (axes coordinates, 1.0 unless decorations on
        top of the axes pushed them up).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    return [(*ax.get_position().bounds, float(ax.title.get_position()[1])) for ax in fig.axes]


def default_positions(explorable: Explorable, dpi: float) -> list[tuple[float, ...]]:
    """Axes positions of the default frame under constrained layout (see :func:`axes_positions`), reused for every
    frame."""
    fig = explorable.render({})
    fig.set_dpi(dpi)
    return axes_positions(fig)


def rasterize(fig: Any) -> np.ndarray:
    """Draw ``fig`` with its Agg canvas (a plain ``FigureCanvasAgg`` if it has none): a new ``(height, width, 3)``
    uint8 RGB array."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def _place_axes(fig: Any, positions: list[tuple[float, ...]]) -> bool:
    """Put the axes of ``fig`` at ``positions`` (and their titles at the measured height); ``False``, and nothing
    moved, when the figure has another number of axes."""
    if len(fig.axes) != len(positions):
        return False
    for ax, pos in zip(fig.axes, positions):
        ax.set_position(pos[:4])
        if len(pos) > 4:
            _fix_title_y(ax, pos[4])
    return True


def _fix_title_y(ax: Any, y: float) -> None:
    """Place the titles of ``ax`` at height ``y`` (axes coordinates) and turn off their automatic placement.

    Titles that ``draw`` placed itself (``set_title(..., y=...)``) are left where they are.
    """
    if getattr(ax, "_autotitlepos", None) is not True:
        return
    for title in (ax.title, getattr(ax, "_left_title", None), getattr(ax, "_right_title", None)):
        if title is not None:
            title.set_y(y)
    # what ``set_title(..., y=y)`` does; matplotlib then skips re-measuring the top tick labels at every draw
    ax._autotitlepos = False


def plain_log_ticks(axis: Any) -> None:
    """Plain-text labels (``1e-02``) and no minor ticks on a log-scaled axis, for cheap redraws.

    Matplotlib's default log labels are mathtext (``$10^{-2}$``) and its minor log ticks are a dozen tick objects
    per decade; both are laid out at every draw and cost about as much as the rest of a typical frame.

    Parameters
    ----------
    axis : matplotlib.axis.Axis
        ``ax.xaxis`` or ``ax.yaxis`` of a log-scaled axes.
    """
    from matplotlib import ticker

    axis.set_major_formatter(ticker.LogFormatter(labelOnlyBase=True))
    axis.set_minor_locator(ticker.NullLocator())


# -- frames drawn into one reused figure ----------------------------------------------------------------------------
class FrameRenderer:
    """Draws the frames of one explorable, one after the other, into one figure that is kept and reused.

    Drawing a frame on a fresh figure pays for creating its axes and their ticks (matplotlib builds a tick, with
    its line and label, for every tick location, at every draw of a new axes): about a third of a typical frame.
    A ``FrameRenderer`` keeps the figure of the previous frame; before the next frame it empties the axes that
    ``draw`` made (data artists, legends, titles, axis labels, scales, locators, limits and autoscaling back to
    a new axes' state) and, when ``draw`` asks for axes with the same ``fig.subplots(...)`` call as before,
    hands it the emptied axes again. Axes made any other way (a colour bar's, a twin) are recycled the same way
    when ``fig.colorbar`` is called again for the same position, or removed and made again. The figure is
    rasterised by a canvas that keeps the text it has rendered (:mod:`course_pkg.explore._textcache`: tick
    labels, titles and legends are mostly the same strings from frame to frame), which halves what is left of
    the Agg time. The picture is the one a fresh figure gives, pixel for pixel (checked for every explorable of
    the course by ``tests/course_pkg/test_explore_frames.py``).

    Parameters
    ----------
    explorable : Explorable
        The explorable whose frames are drawn.
    dpi : float
        Resolution of the rasterised frames.
    positions : list of tuple, optional
        Axes positions as returned by :func:`axes_positions` (see :meth:`Explorable.render`). Default: measured
        on the default frame under constrained layout.

    Notes
    -----
    When ``explorable.reuse_figure`` is false, or a frame has a different number of axes than ``positions``,
    that frame is drawn on a fresh figure (:meth:`Explorable.render`) and nothing is reused.
    """

    def __init__(
        self, explorable: Explorable, dpi: float = 80, positions: list[tuple[float, ...]] | None = None
    ):
        self.explorable = explorable
        self.dpi = float(dpi)
        self.positions = default_positions(explorable, self.dpi) if positions is None else positions
        self._fig: Any = None

    def figure(self, params: dict[str, Any]) -> Any:
        """Draw the frame of ``params`` (missing parameters take their defaults) and return its figure.

        The figure is the renderer's own and is reused by the next call: read it (or :meth:`rgb`) before that.

        Raises
        ------
        ValueError
            If a parameter name is unknown.
        """
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        e = self.explorable
        values = e.values(params)
        if not e.reuse_figure:
            return self._fresh(values)
        if self._fig is None:
            from course_pkg.explore._textcache import TextCachingCanvasAgg, text_cache_supported

            self._fig = _recycling_figure_class()(figsize=e.figsize, layout=None)
            self._fig.set_dpi(self.dpi)
            (TextCachingCanvasAgg if text_cache_supported() else FigureCanvasAgg)(self._fig)
        fig = self._fig
        fig.begin_frame()
        try:
            e.draw(e.compute(**values), fig)
        except BaseException:
            self._fig = None  # half-drawn: start again from a fresh figure next time
            raise
        fig.end_frame()
        if not _place_axes(fig, self.positions):
            self._fig = None
            return self._fresh(values)
        return fig

    def rgb(self, params: dict[str, Any]) -> np.ndarray:
        """Draw the frame of ``params`` and rasterise it: a new ``(height, width, 3)`` uint8 RGB array."""
        return rasterize(self.figure(params))

    def _fresh(self, values: dict[str, Any]) -> Any:
        fig = self.explorable.render(values, self.positions)
        fig.set_dpi(self.dpi)
        return fig


@functools.cache
def _recycling_figure_class() -> type:
    """The :class:`matplotlib.figure.Figure` subclass behind :class:`FrameRenderer` (matplotlib imported lazily)."""
    import matplotlib as mpl
    from matplotlib import cbook
    from matplotlib.figure import Figure

    def call_key(index: int, args: tuple, kwargs: dict) -> str:
        return repr((index, args, sorted(kwargs.items())))

    class RecyclingFigure(Figure):
        """A figure whose axes are emptied and handed out again, frame after frame (see :class:`FrameRenderer`)."""

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self._kept_subplots: dict[str, Any] = {}  # call key -> what fig.subplots returned
            self._kept_colorbar_axes: dict[int, Any] = {}  # colorbar call index -> its axes
            self._subplots_calls = 0
            self._colorbar_calls = 0
            self._unclaimed: list[Any] = []
            self._order: list[Any] = []  # this frame's axes in the order a fresh figure would have made them

        def _kept_axes(self) -> list[Any]:
            kept = [ax for axs in self._kept_subplots.values() for ax in np.ravel(axs)]
            return kept + list(self._kept_colorbar_axes.values())

        def begin_frame(self) -> None:
            """Empty the figure for the next frame: keep the recyclable axes (emptied), remove the rest."""
            kept = {id(ax) for ax in self._kept_axes()}
            for ax in list(self.axes):
                if id(ax) not in kept:
                    self.delaxes(ax)
            for ax in self.axes:
                _empty_axes(ax)
            for artist in [*self.texts, *self.legends, *self.images, *self.lines, *self.patches]:
                artist.remove()
            for name in ("_suptitle", "_supxlabel", "_supylabel"):
                if getattr(self, name, None) is not None:
                    getattr(self, name).remove()
                    setattr(self, name, None)
            self._unclaimed = list(self.axes)
            self._order = []
            self._subplots_calls = self._colorbar_calls = 0

        def end_frame(self) -> None:
            """Remove the kept axes this frame did not ask for (``draw`` took another branch); order the rest."""
            self._note_new_axes()
            for ax in self._unclaimed:
                # not ``ax.remove()``: a colour bar's would give its parent axes (maybe gone) their room back
                self.delaxes(ax)
                self._kept_subplots = {
                    k: v for k, v in self._kept_subplots.items() if all(a is not ax for a in np.ravel(v))
                }
                self._kept_colorbar_axes = {k: v for k, v in self._kept_colorbar_axes.items() if v is not ax}
            self._unclaimed = []
            # the axes in creation order, as on a fresh figure: positions are applied, and axes drawn, in this order
            # (matplotlib keeps the order twice: ``fig.axes`` from the axes stack, drawing from ``_localaxes``)
            stack = getattr(getattr(self, "_axstack", None), "_axes", None)
            if isinstance(stack, dict) and len(stack) == len(self._order) == len(
                getattr(self, "_localaxes", ())
            ):
                self._axstack._axes = {ax: stack[ax] for ax in self._order}
                self._localaxes[:] = self._order

        def _note_new_axes(self) -> None:
            """Record the axes made since the last call (twins, say) in creation order."""
            for ax in self.axes:
                if all(ax is not a for a in self._order) and all(ax is not a for a in self._unclaimed):
                    self._order.append(ax)

        def _claim(self, axes: Any) -> None:
            self._note_new_axes()
            for ax in np.ravel(axes):
                self._unclaimed = [a for a in self._unclaimed if a is not ax]
                self._order.append(ax)

        def subplots(self, *args: Any, **kwargs: Any) -> Any:
            key = call_key(self._subplots_calls, args, kwargs)
            self._subplots_calls += 1
            if key in self._kept_subplots:
                self._claim(self._kept_subplots[key])
                return self._kept_subplots[key]
            self._note_new_axes()
            axes = super().subplots(*args, **kwargs)
            self._note_new_axes()
            self._kept_subplots[key] = axes
            return axes

        def colorbar(self, mappable: Any, cax: Any = None, ax: Any = None, **kwargs: Any) -> Any:
            index = self._colorbar_calls
            self._colorbar_calls += 1
            if cax is None and index in self._kept_colorbar_axes:
                kept = self._kept_colorbar_axes[index]
                self._claim(kept)
                # a colour bar chains the ``remove`` of its axes to the previous one's: start a fresh chain, so
                # that the colour bars (and images) of past frames are not kept alive through it
                kept._remove_method = self.delaxes
                kept.set_axes_locator(kept._course_colorbar_locator)  # (its axes locator chains the same way)
                # the colour bar's own settings that making its axes would have returned
                kwargs.setdefault("orientation", kept._course_colorbar_orientation)
                kwargs.setdefault("ticklocation", kept._course_colorbar_ticklocation)
                return super().colorbar(mappable, cax=kept, **kwargs)
            self._note_new_axes()
            cbar = super().colorbar(mappable, cax=cax, ax=ax, **kwargs)
            self._note_new_axes()
            if cax is None:
                cbar.ax._course_colorbar_orientation = cbar.orientation
                cbar.ax._course_colorbar_ticklocation = cbar.ticklocation
                cbar.ax._course_colorbar_locator = getattr(cbar.ax.get_axes_locator(), "_orig_locator", None)
                self._kept_colorbar_axes[index] = cbar.ax
            return cbar

    def _empty_axes(ax: Any) -> None:
        """Put ``ax`` back in the state of a new axes, keeping its Axis objects and their ticks."""
        for artist in [
            *ax.lines,
            *ax.collections,
            *ax.patches,
            *ax.images,
            *ax.texts,
            *ax.tables,
            *ax.artists,
            *ax.child_axes,
        ]:
            artist.remove()
        ax.containers.clear()
        if ax.legend_ is not None:
            ax.legend_.remove()
        # what a new axes has; also drops what past frames connected (a colour bar's limit callbacks)
        ax.callbacks = cbook.CallbackRegistry(signals=["xlim_changed", "ylim_changed", "zlim_changed"])
        ax.set_prop_cycle(None)
        # scales back to linear also reset the locators and formatters; limits back to (0, 1), autoscaled
        ax.set_xscale("linear")
        ax.set_yscale("linear")
        ax.set_xlim(0, 1, auto=True)
        ax.set_ylim(0, 1, auto=True)
        ax.relim()
        ax.set_xmargin(mpl.rcParams["axes.xmargin"])
        ax.set_ymargin(mpl.rcParams["axes.ymargin"])
        ax.use_sticky_edges = True
        if hasattr(ax, "_tight"):
            ax._tight = None
        ax.grid(False)
        ax.set_aspect("auto")
        ax.set_axis_on()
        for title in (ax.title, getattr(ax, "_left_title", None), getattr(ax, "_right_title", None)):
            if title is not None:
                title.set_text("")
        ax.set_xlabel("")
        ax.set_ylabel("")

    return RecyclingFigure
