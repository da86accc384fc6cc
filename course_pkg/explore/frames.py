"""The frame renderer: one explorable frame (a grid point's picture) drawn with matplotlib and rasterised.

:func:`render_figure` draws a frame on a new figure (constrained layout, or the axes positions measured on the
default frame, :func:`default_positions`); :class:`FrameRenderer` draws frame after frame into one reused
:class:`RecyclingFigure` and rasterises it with the text-caching canvas of :mod:`course_pkg.explore._textcache`.
The reused figure and the text cache rely on matplotlib internals: where :func:`_mpl_private.supported` says
they are not available, every frame is drawn on a fresh figure with the stock Agg canvas (the same picture).

This module knows nothing of how an explorable is declared beyond the attributes it reads (``compute``, ``draw``,
``figsize``, ``reuse_figure``, ``values``): :mod:`course_pkg.explore.core` imports it, not the other way round.
"""

from __future__ import annotations

import struct
import zlib
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib import cbook
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from course_pkg.explore import _mpl_private


def render_figure(
    explorable: Any, params: dict[str, Any], positions: list[tuple[float, ...]] | None = None
) -> Any:
    """Compute and draw one frame of ``explorable`` on a new figure (see :meth:`Explorable.render`)."""
    values = explorable.values(params)
    fig = Figure(figsize=explorable.figsize, layout=None if positions else "constrained")
    explorable.draw(explorable.compute(**values), fig)
    if positions and not _place_axes(fig, positions):
        fig.set_layout_engine("constrained")
    return fig


#: Decimals the measured axes positions are rounded to (a billionth of the figure: a millionth of a pixel).
#: Constrained layout's solver returns the same layout with other last bits from one process to the next
#: (measured: three different layouts of the same figure in seven processes); a line drawn through many points, or
#: an edge on a pixel boundary, then rasterises differently. Rounded, the frames are the same in every process.
POSITION_DECIMALS = 9


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
        top of the axes pushed them up), rounded to :data:`POSITION_DECIMALS` decimals.
    """
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    return [
        tuple(
            round(float(v), POSITION_DECIMALS)
            for v in (*ax.get_position().bounds, ax.title.get_position()[1])
        )
        for ax in fig.axes
    ]


def default_positions(explorable: Any, dpi: float) -> list[tuple[float, ...]]:
    """Axes positions of the default frame under constrained layout (see :func:`axes_positions`), reused for every
    frame."""
    fig = render_figure(explorable, {})
    fig.set_dpi(dpi)
    return axes_positions(fig)


def rasterize(fig: Any) -> np.ndarray:
    """Draw ``fig`` with its Agg canvas (a plain ``FigureCanvasAgg`` if it has none): a new ``(height, width, 3)``
    uint8 RGB array."""
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def encode_png(pixels: np.ndarray, level: int = 1) -> bytes:
    """A PNG file (8-bit RGB, lossless) of ``pixels``, encoded fast: what the live widget sends at every redraw.

    Every row is stored with PNG's "Up" filter (the byte-wise difference from the row above, modulo 256: rows of
    a plot differ little) and the whole compressed with zlib at ``level``; Pillow's encoder, choosing a filter per
    row, takes about twice as long for a file of about the same size.

    Parameters
    ----------
    pixels : numpy.ndarray
        ``(height, width, 3)`` RGB or ``(height, width, 4)`` RGBA uint8 pixels (the alpha channel is dropped).
    level : int
        zlib compression level, 0–9.

    Returns
    -------
    bytes
        The PNG file.
    """
    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] not in (3, 4):
        raise ValueError(f"pixels must be (height, width, 3 or 4) uint8, got {pixels.dtype} {pixels.shape}")
    height, width = pixels.shape[:2]
    rgb = pixels[..., :3]
    raw = np.empty((height, 1 + 3 * width), np.uint8)
    raw[:, 0] = 2  # the "Up" filter (the row above the first row counts as zeros)
    rows = raw[:, 1:].reshape(height, width, 3)
    rows[:1] = rgb[:1]
    np.subtract(rgb[1:], rgb[:-1], out=rows[1:])  # uint8 arithmetic wraps modulo 256, as PNG specifies

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8 bits, RGB, deflate, no interlace
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", header),
            chunk(b"IDAT", zlib.compress(raw.data, level)),
            chunk(b"IEND", b""),
        )
    )


def _place_axes(fig: Any, positions: list[tuple[float, ...]]) -> bool:
    """Put the axes of ``fig`` at ``positions`` (and their titles at the measured height, where matplotlib's
    internals allow); ``False``, and nothing moved, when the figure has another number of axes."""
    if len(fig.axes) != len(positions):
        return False
    fix_titles = _mpl_private.supported()
    for ax, pos in zip(fig.axes, positions):
        ax.set_position(pos[:4])
        if len(pos) > 4 and fix_titles:
            _mpl_private.fix_title_y(ax, pos[4])
    return True


# -- frames drawn into one reused figure ----------------------------------------------------------------------------
class FrameRenderer:
    """Draws the frames of one explorable, one after the other, into one figure that is kept and reused.

    Drawing a frame on a fresh figure pays for creating its axes and their ticks (matplotlib builds a tick, with
    its line and label, for every tick location, at every draw of a new axes): about a third of a typical frame.
    A ``FrameRenderer`` keeps the figure of the previous frame (a :class:`RecyclingFigure`); before the next frame
    it empties the axes that ``draw`` made (data artists, legends, titles, axis labels, scales, locators, limits
    and autoscaling back to a new axes' state) and, when ``draw`` asks for axes with the same
    ``fig.subplots(...)`` call as before, hands it the emptied axes again. Axes made any other way (a colour
    bar's, a twin) are recycled the same way when ``fig.colorbar`` is called again for the same position, or
    removed and made again. The figure is rasterised by a canvas that keeps the text it has rendered
    (:mod:`course_pkg.explore._textcache`: tick labels, titles and legends are mostly the same strings from frame
    to frame), which halves what is left of the Agg time. The picture is the one a fresh figure gives, pixel for
    pixel (checked for every explorable of the course by ``tests/course_pkg/test_explore_frames.py``).

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
    When ``explorable.reuse_figure`` is false, when matplotlib's internals are not available
    (:func:`_mpl_private.supported`), or when a frame has a different number of axes than ``positions``, that
    frame is drawn on a fresh figure (:func:`render_figure`) and nothing is reused.
    """

    def __init__(self, explorable: Any, dpi: float = 80, positions: list[tuple[float, ...]] | None = None):
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
        e = self.explorable
        values = e.values(params)
        if not (e.reuse_figure and _mpl_private.supported()):
            return self._fresh(values)
        if self._fig is None:
            from course_pkg.explore._textcache import TextCachingCanvasAgg

            self._fig = RecyclingFigure(figsize=e.figsize, layout=None)
            self._fig.set_dpi(self.dpi)
            TextCachingCanvasAgg(self._fig)
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

    def png(self, params: dict[str, Any]) -> bytes:
        """Draw the frame of ``params``, rasterise it and encode it (:func:`encode_png`)."""
        fig = self.figure(params)
        canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
        canvas.draw()
        return encode_png(np.asarray(canvas.buffer_rgba()))

    def _fresh(self, values: dict[str, Any]) -> Any:
        fig = render_figure(self.explorable, values, self.positions)
        fig.set_dpi(self.dpi)
        return fig


def _call_key(index: int, args: tuple, kwargs: dict) -> str:
    return repr((index, args, sorted(kwargs.items())))


class RecyclingFigure(Figure):
    """A figure whose axes are emptied and handed out again, frame after frame (see :class:`FrameRenderer`).

    Relies on matplotlib internals (through :mod:`course_pkg.explore._mpl_private`); used only where
    :func:`_mpl_private.supported`.
    """

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
            empty_axes(ax)
        for artist in [*self.texts, *self.legends, *self.images, *self.lines, *self.patches]:
            artist.remove()
        _mpl_private.remove_figure_labels(self)  # (their Text artists were in self.texts)
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
        _mpl_private.set_axes_order(self, self._order)

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
        key = _call_key(self._subplots_calls, args, kwargs)
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
            _mpl_private.restart_colorbar_chain(kept, self.delaxes, kept.course_colorbar_locator)
            # the colour bar's own settings that making its axes would have returned
            kwargs.setdefault("orientation", kept.course_colorbar_orientation)
            kwargs.setdefault("ticklocation", kept.course_colorbar_ticklocation)
            return super().colorbar(mappable, cax=kept, **kwargs)
        self._note_new_axes()
        cbar = super().colorbar(mappable, cax=cax, ax=ax, **kwargs)
        self._note_new_axes()
        if cax is None:
            cbar.ax.course_colorbar_orientation = cbar.orientation
            cbar.ax.course_colorbar_ticklocation = cbar.ticklocation
            cbar.ax.course_colorbar_locator = _mpl_private.colorbar_locator(cbar.ax)
            self._kept_colorbar_axes[index] = cbar.ax
        return cbar


def empty_axes(ax: Any) -> None:
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
    _mpl_private.reset_tight(ax)
    ax.grid(False)
    ax.set_aspect("auto")
    ax.set_axis_on()
    _mpl_private.reset_titles(ax)
    ax.set_xlabel("")
    ax.set_ylabel("")
