"""Live rendering: ipywidgets controls bound to the grids; each change runs compute + draw in the kernel."""

from __future__ import annotations

import io
from typing import Any

import ipywidgets as widgets

from course_pkg.explore.core import Choice, Explorable, Toggle, axes_positions

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
        A :class:`~ipywidgets.Checkbox` for a toggle, a :class:`~ipywidgets.Dropdown` for a choice, otherwise a
        :class:`~ipywidgets.SelectionSlider` over exactly the grid values (so live and static show the same
        frames). Labels are never truncated (``description_width: initial``).
    """
    if isinstance(grid, Toggle):
        return widgets.Checkbox(value=bool(grid.default), description=grid.label, style=_STYLE, indent=False)
    options = list(zip(grid.labels(), grid.values))
    if isinstance(grid, Choice):
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

    Attributes
    ----------
    controls : dict of str to ipywidgets.ValueWidget
        One control per parameter, keyed by parameter name.
    image : ipywidgets.Image
        The current frame as PNG.
    """

    def __init__(self, explorable: Explorable, dpi: float = 80) -> None:
        self.explorable = explorable
        self.dpi = float(dpi)
        self._positions: list[tuple[float, ...]] | None = None
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
        """Compute and draw the current frame; return it as PNG bytes."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        if self._positions is None:
            # the layout of the default frame, measured once and reused: the axes stay still while the controls
            # move, every frame looks like its static twin, and redraws skip the layout solver
            first = self.explorable.render(self.explorable.defaults())
            first.set_dpi(self.dpi)
            self._positions = axes_positions(first)
        fig = self.explorable.render(self.values(), self._positions)
        FigureCanvasAgg(fig)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=self.dpi)
        return buf.getvalue()

    def refresh(self) -> None:
        """Redraw the figure for the current control values."""
        self.image.value = self.render_png()

    def _on_change(self, change: dict[str, Any]) -> None:
        self.refresh()
