"""Live rendering: ipywidgets controls bound to the grids; each change runs compute + draw in the kernel."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any

import ipywidgets as widgets

from course_pkg.explore.core import Explorable, Toggle, is_slider
from course_pkg.explore.frames import FrameRenderer

_STYLE = {"description_width": "initial"}


def make_control(grid: Any) -> widgets.ValueWidget:
    """The ipywidgets control of one grid.

    Parameters
    ----------
    grid : LinGrid, LogGrid, Choice or Toggle
        The parameter grid.

    Returns
    -------
    ipywidgets.ValueWidget
        A :class:`~ipywidgets.Checkbox` for a toggle, a :class:`~ipywidgets.Dropdown` for a choice among
        unordered values, otherwise (ordered values: a :class:`LinGrid`, a :class:`LogGrid`, an ordered
        :class:`Choice`) a :class:`~ipywidgets.SelectionSlider` over exactly the grid values (so live and static
        show the same frames), which shows the current value. Labels are never truncated
        (``description_width: initial``).
    """
    if isinstance(grid, Toggle):
        return widgets.Checkbox(value=bool(grid.default), description=grid.label, style=_STYLE, indent=False)
    options = list(zip(grid.labels(), grid.values))
    if not is_slider(grid):
        return widgets.Dropdown(
            options=options, index=grid.default_index, description=grid.label, style=_STYLE
        )
    return widgets.SelectionSlider(
        options=options,
        index=grid.default_index,
        description=grid.label,
        style=_STYLE,
        continuous_update=True,
        layout=widgets.Layout(width="auto", min_width="18em"),
    )


class ExplorableWidget(widgets.VBox):
    """Live view of an :class:`~course_pkg.explore.core.Explorable`: a title, the controls and the figure.

    Parameters
    ----------
    explorable : Explorable
        The explorable to show.
    dpi : float
        Resolution of the figure image.
    cache_size : int
        Number of encoded frames kept (least recently used dropped first). ``compute`` and ``draw`` are pure,
        so a grid point seen before is shown again without recomputing or redrawing it.

    Attributes
    ----------
    controls : dict of str to ipywidgets.ValueWidget
        One control per parameter, keyed by parameter name.
    image : ipywidgets.Image
        The current frame as PNG.

    Notes
    -----
    What a control change costs (see ``python -m benchmarks explore``): ``compute``, ``draw``, one Agg
    rasterisation and a PNG encoding. The widget keeps that minimal: frames are drawn by a
    :class:`~course_pkg.explore.frames.FrameRenderer`, which reuses the previous frame's figure and axes (no new
    axes and ticks per frame) at the axes positions of the default frame, measured once (no layout solver per
    frame, and the axes stay still while the controls move); the canvas is rasterised once and its pixels are
    encoded by :func:`~course_pkg.explore.frames.encode_png` (one PNG filter for every row, the fastest zlib
    level: ``savefig`` would redraw the figure and compress at level 6 for a few percent fewer bytes); encoded frames are cached by grid point; and when a slider is dragged inside a
    running kernel, changes that arrive before the next redraw are coalesced into one redraw of the latest
    values.
    """

    def __init__(self, explorable: Explorable, dpi: float = 80, cache_size: int = 64) -> None:
        if cache_size < 0:
            raise ValueError(f"cache_size must be >= 0, got {cache_size}")
        self.explorable = explorable
        self.dpi = float(dpi)
        self.cache_size = int(cache_size)
        self._renderer: FrameRenderer | None = None
        self._frames: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self._pending = False
        self.redraws = 0
        self.controls = {key: make_control(grid) for key, grid in explorable.params.items()}
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%", height="auto"))
        title = widgets.HTML(f"<b>{explorable.title}</b>")
        box = widgets.HBox(list(self.controls.values()), layout=widgets.Layout(flex_flow="row wrap"))
        super().__init__([title, box, self.image])
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.refresh()

    def values(self) -> dict[str, Any]:
        """The current value of every parameter."""
        return {key: control.value for key, control in self.controls.items()}

    def render_png(self) -> bytes:
        """Compute and draw the current frame; return it as PNG bytes (from the frame cache when seen before)."""
        values = self.values()
        key = tuple(values[k] for k in self.explorable.params)
        png = self._frames.get(key)
        if png is not None:
            self._frames.move_to_end(key)
            return png
        png = self._draw_png(values)
        self.redraws += 1
        if self.cache_size:
            self._frames[key] = png
            while len(self._frames) > self.cache_size:
                self._frames.popitem(last=False)
        return png

    @property
    def renderer(self) -> FrameRenderer:
        """The frame renderer (made at the first redraw, which measures the default frame's layout)."""
        if self._renderer is None:
            self._renderer = FrameRenderer(self.explorable, dpi=self.dpi)
        return self._renderer

    def _draw_png(self, values: dict[str, Any]) -> bytes:
        return self.renderer.png(values)

    def refresh(self) -> None:
        """Redraw the figure for the current control values."""
        self._pending = False
        png = self.render_png()
        if png != self.image.value:
            self.image.value = png

    def _on_change(self, change: dict[str, Any]) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop (a script, a test): redraw now
            self.refresh()
            return
        # inside a kernel: redraw once the kernel has taken the messages already waiting, so that a dragged
        # slider redraws its latest value instead of every value it passed over
        if not self._pending:
            self._pending = True
            loop.call_soon(self.refresh)
