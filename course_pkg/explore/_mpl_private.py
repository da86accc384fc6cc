"""The one gate in front of every private matplotlib internal the explorable renderer uses.

Frames drawn into one reused figure (:class:`course_pkg.explore.frames.FrameRenderer`) and the text cache of
:mod:`course_pkg.explore._textcache` make an explorable about twice as fast to redraw, and both depend on
matplotlib internals (underscore attributes) that may change in any release. Every such access goes through this
module: the helpers below, and :func:`supported`, which says whether the installed matplotlib is one the private
path was checked on, pixel for pixel (:data:`TESTED`), and has every internal it needs (:data:`REQUIRED`). When it
is not, or when ``COURSE_EXPLORE_PUBLIC_MPL=1``, callers take the plain public-API path: a fresh figure and the
stock Agg canvas for every frame (slower, the same picture).
"""

from __future__ import annotations

import functools
import os
from typing import Any

#: matplotlib releases (major, minor) on which the private path draws exactly the frames of the public one
#: (``tests/course_pkg/test_explore_frames.py``).
TESTED = ((3, 11),)
#: Environment variable: ``1`` forces the public path (a check that the fallback still renders).
PUBLIC_ENV = "COURSE_EXPLORE_PUBLIC_MPL"
#: The internals used, as ``(object, attribute)``: probed on a small figure by :func:`_probe`.
REQUIRED = (
    ("Axes", "_autotitlepos"),
    ("Axes", "_left_title"),
    ("Axes", "_right_title"),
    ("Axes", "_tight"),
    ("Axes", "_remove_method"),
    ("Figure", "_axstack"),
    ("Figure", "_localaxes"),
    ("Figure", "_suptitle"),
    ("Figure", "_supxlabel"),
    ("Figure", "_supylabel"),
    ("colorbar Axes", "_colorbar"),
    ("colorbar locator", "_orig_locator"),
    ("FT2Font", "_layout"),
    ("FT2Font", "_render_glyph"),
    ("FT2Font", "_set_transform"),
    ("RendererAgg", "_draw_text_glyphs_and_boxes"),
    ("RendererAgg", "_renderer"),
    ("FigureCanvasAgg", "_lastKey"),
    ("FontManager", "_find_fonts_by_props"),
    ("Text", "_get_layout"),
    ("Axis", "_get_ticklabel_bboxes"),
    ("Axis", "_get_tick_boxes_siblings"),
    ("Axis", "_get_axis_name"),
    ("Figure", "_align_label_groups"),
    ("VPacker", "_get_bbox_and_child_offsets"),
    ("HPacker", "_get_bbox_and_child_offsets"),
)


def supported() -> bool:
    """Whether the private path may be used: a tested matplotlib with every :data:`REQUIRED` internal, and
    ``COURSE_EXPLORE_PUBLIC_MPL`` not set to ``1``."""
    if os.environ.get(PUBLIC_ENV, "").strip() == "1":
        return False
    return not missing()


@functools.cache
def missing() -> tuple[str, ...]:
    """What keeps the private path off with the installed matplotlib (empty when it is usable)."""
    import matplotlib

    version = tuple(int(part) for part in matplotlib.__version__.split(".")[:2] if part.isdigit())
    problems = [] if version in TESTED else [f"matplotlib {matplotlib.__version__} is not one of {TESTED}"]
    objects = _probe()
    problems += [f"{owner}.{name}" for owner, name in REQUIRED if not hasattr(objects.get(owner), name)]
    return tuple(problems)


def _probe() -> dict[str, Any]:
    """One object of each kind named in :data:`REQUIRED` (made on a tiny figure)."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import fontManager
    from matplotlib.ft2font import FT2Font
    from matplotlib.offsetbox import HPacker, VPacker

    fig = Figure(figsize=(1, 1))
    canvas = FigureCanvasAgg(fig)
    ax = fig.subplots()
    cbar = fig.colorbar(ax.imshow(np.eye(2)))
    return {
        "Axes": ax,
        "Figure": fig,
        "colorbar Axes": cbar.ax,
        "colorbar locator": cbar.ax.get_axes_locator(),
        "FT2Font": FT2Font,
        "RendererAgg": RendererAgg(10, 10, 72),
        "FigureCanvasAgg": canvas,
        "FontManager": fontManager,
        "Text": ax.title,
        "Axis": ax.xaxis,
        "VPacker": VPacker(),
        "HPacker": HPacker(),
    }


# -- axes titles ----------------------------------------------------------------------------------------------------
def titles(ax: Any) -> list[Any]:
    """The centre, left and right title :class:`~matplotlib.text.Text` of ``ax``."""
    candidates = (ax.title, getattr(ax, "_left_title", None), getattr(ax, "_right_title", None))
    return [t for t in candidates if t is not None]


def reset_titles(ax: Any) -> None:
    """Empty the titles of ``ax`` and give them back the height and the automatic placement of a new axes (a title
    placed at a measured height in the previous frame would otherwise stay there)."""
    import matplotlib as mpl

    y = mpl.rcParams["axes.titley"]
    for title in titles(ax):
        title.set_text("")
        title.set_y(1.0 if y is None else y)
    ax._autotitlepos = y is None


def fix_title_y(ax: Any, y: float) -> None:
    """Place the titles of ``ax`` at height ``y`` (axes coordinates) and turn off their automatic placement, as
    ``set_title(..., y=y)`` does; matplotlib then skips re-measuring the top tick labels at every draw. Titles that
    ``draw`` placed itself are left where they are."""
    if getattr(ax, "_autotitlepos", None) is not True:
        return
    for title in titles(ax):
        title.set_y(y)
    ax._autotitlepos = False


# -- a figure's axes and figure-level labels ------------------------------------------------------------------------
def set_axes_order(fig: Any, order: list[Any]) -> None:
    """Make ``order`` (the figure's axes, each once) the creation order: the order of ``fig.axes`` (the axes stack)
    and of drawing (``_localaxes``); nothing happens when the lists disagree in length."""
    stack = getattr(getattr(fig, "_axstack", None), "_axes", None)
    if isinstance(stack, dict) and len(stack) == len(order) == len(getattr(fig, "_localaxes", ())):
        fig._axstack._axes = {ax: stack[ax] for ax in order}
        fig._localaxes[:] = order


def remove_figure_labels(fig: Any) -> None:
    """Forget the figure's suptitle, supxlabel and supylabel (their Text artists already removed)."""
    for name in ("_suptitle", "_supxlabel", "_supylabel"):
        if getattr(fig, name, None) is not None:
            setattr(fig, name, None)


def reset_tight(ax: Any) -> None:
    """Forget an ``ax.autoscale_view(tight=...)`` setting, as on a new axes."""
    if hasattr(ax, "_tight"):
        ax._tight = None


# -- colour bars ----------------------------------------------------------------------------------------------------
def is_colorbar_axes(ax: Any) -> bool:
    """Whether ``ax`` holds a colour bar (public fallback: the label ``fig.colorbar`` gives the axes it makes)."""
    if supported():
        return hasattr(ax, "_colorbar")
    return ax.get_label() == "<colorbar>"


def colorbar_locator(cax: Any) -> Any:
    """The axes locator ``fig.colorbar`` gave the colour bar axes it made (unwrapped)."""
    return getattr(cax.get_axes_locator(), "_orig_locator", None)


def restart_colorbar_chain(cax: Any, remove_method: Any, locator: Any) -> None:
    """Give a reused colour bar axes a fresh ``remove`` and axes locator: a colour bar chains both to the previous
    colour bar's, which would keep the colour bars (and images) of past frames alive."""
    cax._remove_method = remove_method
    cax.set_axes_locator(locator)
