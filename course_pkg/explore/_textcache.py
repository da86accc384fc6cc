"""An Agg canvas that remembers the text it has rasterised, for figures redrawn frame after frame.

Text is about half of what Agg spends on a typical explorable frame: for every tick label, title, axis label and
legend entry matplotlib shapes the string (HarfBuzz/FreeType layout) and renders each glyph with FreeType. From one
frame to the next most strings are the same, so :class:`TextCachingCanvasAgg` keeps

- the layout of each string (glyphs and their offsets), keyed by string, font, size, resolution, font features,
  language and hinting;
- each rendered glyph bitmap, keyed by font, size, resolution, glyph, angle, hinting, antialiasing and the
  sub-pixel part of its position (FreeType renders a glyph moved by whole pixels as the same bitmap, moved); and
- for each string drawn at a given position (a title, an axis label, a tick label that did not move), its glyphs'
  bitmaps and pixel positions, merged into one or two bitmaps (:func:`_merged`), so that drawing it again is
  one or two blits.

It draws exactly what :class:`matplotlib.backends.backend_agg.FigureCanvasAgg` draws, pixel for pixel (the tests
compare both on every explorable of the course). The cache relies on the glyph-level text path of the Agg
renderer of matplotlib 3.11 (``FT2Font._layout``, ``FT2Font._render_glyph``): it is used only where the gate of
every private matplotlib dependency, :func:`course_pkg.explore._mpl_private.supported`, allows it (otherwise
:func:`text_cache_supported` is false and callers use the plain canvas).

Laying text out costs about as much as rendering it: matplotlib measures every text (tick labels, titles, legend
entries) several times per draw (its window extent for the axis-label placement, the legend's packing, then the
draw), each time finding the font and reading its ascent and descent from the font file. The canvas also keeps

- the layout of each :class:`~matplotlib.text.Text` (``Text._get_layout``: its box, lines and their offsets), keyed
  by everything that layout reads (string, font properties, alignment, rotation, line spacing, resolution and the
  font rcParams); and
- the font of each font-properties key and its height metrics (``_get_font_height_metrics``, which matplotlib asks
  the renderer for before reading the font's tables itself).

During one draw it also measures the tick labels of an axis once: ``Axis.draw`` measures them, then to place the
axis label asks for the tick-label boxes of the axis and its siblings (``Axis._get_tick_boxes_siblings``), which
recomputes the ticks and measures them again; when the axis has no siblings (no ``Figure.align_labels``) the boxes
just measured are the answer; and the spine's extent, needed for the same placement, recomputes the axis' ticks
(locators and formatters) that ``Axis.draw`` has just computed: during one draw each axis computes them once. Likewise a legend's nested packers (``VPacker``/``HPacker``) compute their box and
their children's offsets from their children's boxes, and each level asks again for everything below it (to draw,
to place the legend, to size its frame): during one draw each packer computes them once.

``Text._get_layout``, the two ``Axis`` methods and the packers' ``_get_bbox_and_child_offsets`` are wrapped once,
for every text, axis and packer, but the wrappers only answer from the caches when the renderer is a
:class:`TextCachingRendererAgg` (any other canvas draws as before).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib.axis import Axis
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg, get_hinting_flag
from matplotlib.font_manager import fontManager, get_font
from matplotlib.offsetbox import HPacker, VPacker
from matplotlib.text import Text

from course_pkg.explore import _mpl_private

#: Most entries each cache keeps (least recently used dropped first); a frame has a few hundred glyphs.
MAX_ENTRIES = 20_000


def text_cache_supported() -> bool:
    """Whether this matplotlib renders Agg text glyph by glyph as the cache expects: the one gate of the private
    matplotlib path, :func:`course_pkg.explore._mpl_private.supported`."""
    return _mpl_private.supported()


class _LRU(OrderedDict):
    def get_or(self, key: Any, make: Any, *args: Any) -> Any:
        """The value of ``key``, made by ``make(*args)`` (and kept) when missing."""
        value = self.get(key)
        if value is None:
            value = make(*args)
            self[key] = value
            if len(self) > MAX_ENTRIES:
                self.popitem(last=False)
        else:
            self.move_to_end(key)
        return value


_LAYOUTS = _LRU()
_GLYPHS = _LRU()
_TEXT_LAYOUTS = _LRU()  # Text._get_layout results
_PLACED = _LRU()  # a text's glyph bitmaps and their pixel positions, by text and position
_FONTS: dict[tuple, Any] = {}  # font-properties key -> (font, height metrics or None)

#: rcParams that choose a font, shape or measure text (part of every cache key, read once per draw).
FONT_RCPARAMS = (
    *(
        f"font.{key}"
        for key in (
            "family",
            "style",
            "variant",
            "weight",
            "stretch",
            "size",
            "serif",
            "sans-serif",
            "cursive",
            "fantasy",
            "monospace",
        )
    ),
    "text.hinting",
    "text.hinting_factor",
    "text.kerning_factor",
    "text.parse_math",
    *(
        f"mathtext.{key}"
        for key in ("fontset", "default", "fallback", "rm", "it", "bf", "bfit", "sf", "tt", "cal")
    ),
)


_RC_KEYS: dict[tuple, int] = {}


def _rc_key() -> int:
    """A small number standing for the current values of :data:`FONT_RCPARAMS`."""
    values = tuple(tuple(v) if isinstance(v, list) else v for v in (mpl.rcParams[k] for k in FONT_RCPARAMS))
    return _RC_KEYS.setdefault(values, len(_RC_KEYS))


def _props_key(prop: Any) -> tuple:
    """What a :class:`~matplotlib.font_manager.FontProperties` is (the fields its hash is made of)."""
    return (
        tuple(prop.get_family()),
        prop.get_slant(),
        prop.get_variant(),
        prop.get_weight(),
        prop.get_stretch(),
        prop.get_size_in_points(),
        prop.get_file(),
        prop.get_math_fontfamily(),
    )


def _font_and_metrics(prop: Any, rc: int) -> tuple[Any, tuple[float, float, float] | None]:
    """The font of ``prop`` and its height metrics in font units per point, as ``Text._get_layout`` reads them:
    ``(line gap, ascender, descender) / units per em`` from the OS/2 table, else from hhea, else ``None``."""
    key = (_props_key(prop), rc)
    found = _FONTS.get(key)
    if found is None:
        font = get_font(fontManager._find_fonts_by_props(prop))
        metrics = None
        for table_name, gap_key, ascent_key, descent_key in (
            ("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"),
            ("hhea", "lineGap", "ascent", "descent"),
        ):
            table = font.get_sfnt_table(table_name)
            if table is not None:
                units_per_em = font.get_sfnt_table("head")["unitsPerEm"]
                metrics = (table[gap_key], table[ascent_key], table[descent_key], units_per_em)
                break
        found = _FONTS[key] = (font, metrics)
    return found


_plain_get_layout = Text._get_layout


def _get_layout(text: Any, renderer: Any) -> Any:
    """``Text._get_layout``, answered from the renderer's cache when the renderer is a
    :class:`TextCachingRendererAgg` (same inputs, same result: a copy of the kept box)."""
    rc = getattr(renderer, "course_rc_key", None)
    if rc is None or text.get_usetex() or text.get_wrap():
        return _plain_get_layout(text, renderer)
    key = (
        text.get_text(),
        _props_key(text._fontproperties),
        text._linespacing,
        text.get_parse_math(),
        text._multialignment,
        text._horizontalalignment,
        text._verticalalignment,
        text.get_rotation(),
        text.get_rotation_mode(),
        text.get_figure(root=True).dpi,
        renderer.dpi,
        rc,
    )
    cached = _TEXT_LAYOUTS.get_or(key, _plain_get_layout, text, renderer)
    bbox, info, corner = cached
    return bbox.frozen(), list(info), corner


def _layout(font: Any, s: str, size: float, dpi: float, flags: Any, features: Any, language: Any) -> list:
    """The glyphs of ``s`` with their offsets: ``(font object, glyph index, x, y)`` each."""
    font.clear()
    font.set_size(size, dpi)
    return [
        (item.ft_object, item.glyph_index, item.x, item.y)
        for item in font._layout(s, flags=flags, features=features, language=language)
    ]


def _render_glyph(
    ft: Any,
    glyph: int,
    size: float,
    dpi: float,
    angle: float,
    sub_x: int,
    sub_y: int,
    flags: Any,
    antialiased: bool,
) -> tuple[np.ndarray, int, int]:
    """The bitmap of one glyph at the sub-pixel position ``(sub_x, sub_y)`` (64ths), with its left and top."""
    from matplotlib.ft2font import RenderMode

    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    ft.set_size(size, dpi)
    ft._set_transform((0x10000 * np.array([[cos, -sin], [sin, cos]])).round().astype(int), [sub_x, sub_y])
    bitmap = ft._render_glyph(glyph, flags, RenderMode.NORMAL if antialiased else RenderMode.MONO)
    buffer = np.array(bitmap.buffer, copy=True)
    if not antialiased:
        buffer *= 0xFF
    return buffer, bitmap.left, bitmap.top


_plain_ticklabel_bboxes = Axis._get_ticklabel_bboxes
_plain_update_ticks = Axis._update_ticks


def _update_ticks_once(axis: Any) -> list:
    """``Axis._update_ticks``, computed once per axis during a draw of a :class:`TextCachingCanvasAgg`.

    ``Axis.draw`` computes the ticks to draw, then, to place the axis label, the spine's window extent computes
    them again (``Spine.get_window_extent``); nothing changes the view limits, locators or formatters in between,
    so the second call returns what the first did (the same tick objects, already at their positions)."""
    memo = getattr(axis.get_figure(root=True).canvas, "course_ticks", None)
    if memo is None:
        return _plain_update_ticks(axis)
    found = memo.get(axis)
    if found is None:
        found = memo[axis] = _plain_update_ticks(axis)
    return list(found)


_plain_tick_boxes_siblings = Axis._get_tick_boxes_siblings


def _ticklabel_bboxes(axis: Any, ticks: list, renderer: Any) -> Any:
    """``Axis._get_ticklabel_bboxes``, remembered for the rest of the draw when the renderer keeps them."""
    boxes = _plain_ticklabel_bboxes(axis, ticks, renderer)
    memo = getattr(renderer, "course_tick_boxes", None)
    if memo is not None:
        memo[axis] = boxes
    return boxes


def _tick_boxes_siblings(axis: Any, renderer: Any) -> Any:
    """``Axis._get_tick_boxes_siblings``: the boxes ``Axis.draw`` just measured when the axis has no siblings."""
    memo = getattr(renderer, "course_tick_boxes", None)
    if memo is not None and axis in memo:
        name = axis._get_axis_name()
        groups = axis.get_figure(root=False)._align_label_groups
        if name not in groups:
            return [], []
        siblings = groups[name].get_siblings(axis.axes)
        if len(siblings) == 1 and siblings[0] is axis.axes:
            boxes, boxes2 = memo[axis]
            return list(boxes), list(boxes2)
    return _plain_tick_boxes_siblings(axis, renderer)


_plain_packed = {cls: cls._get_bbox_and_child_offsets for cls in (VPacker, HPacker)}


def _packed_once(cls: type) -> Any:
    plain = _plain_packed[cls]

    def packed(box: Any, renderer: Any) -> Any:
        """``_get_bbox_and_child_offsets`` of a packer, computed once per draw when the renderer keeps it."""
        memo = getattr(renderer, "course_packed", None)
        if memo is None:
            return plain(box, renderer)
        found = memo.get(box)
        if found is None:
            found = memo[box] = plain(box, renderer)
        bbox, offsets = found
        return bbox.frozen(), offsets

    return packed


def _merged(placed: list[tuple[np.ndarray, int, int]]) -> list[tuple[np.ndarray, int, int]]:
    """The glyph bitmaps of one text merged into a few bitmaps that draw exactly what the glyphs draw one by one.

    ``draw_text_image`` (unrotated, as the cache calls it) blends each pixel whose coverage is not zero and leaves
    the others alone, so glyphs whose boxes are disjoint draw the same drawn as one bitmap. Where two boxes overlap
    (kerned or antialiased neighbours) the order of the two blends matters: each glyph goes into the layer after
    the last layer holding a glyph it overlaps, so the glyphs of a layer are disjoint and overlapping glyphs are
    blended in their original order (typically two layers: one blit or two per text instead of one per glyph)."""
    placed = [p for p in placed if p[0].size]  # an empty bitmap (a space) draws nothing
    if len(placed) < 2:
        return placed
    boxes = [(left, bottom - b.shape[0], left + b.shape[1], bottom) for b, left, bottom in placed]
    layer_of: list[int] = []
    for k, (x0, y0, x1, y1) in enumerate(boxes):
        below = [
            layer_of[j]
            for j, (u0, v0, u1, v1) in enumerate(boxes[:k])
            if x0 < u1 and u0 < x1 and y0 < v1 and v0 < y1
        ]
        layer_of.append(max(below) + 1 if below else 0)
    merged = []
    for layer in range(max(layer_of) + 1):
        members = [k for k in range(len(placed)) if layer_of[k] == layer]
        left, top = min(boxes[k][0] for k in members), min(boxes[k][1] for k in members)
        right, bottom = max(boxes[k][2] for k in members), max(boxes[k][3] for k in members)
        image = np.zeros((bottom - top, right - left), dtype=np.uint8)
        for k in members:
            x0, y0, x1, y1 = boxes[k]
            image[y0 - top : y1 - top, x0 - left : x1 - left] = placed[k][0]
        merged.append((image, left, bottom))
    return merged


class TextCachingRendererAgg(RendererAgg):
    """:class:`~matplotlib.backends.backend_agg.RendererAgg` whose plain (non-math) text comes from the caches."""

    #: :func:`_rc_key` of the draw under way (set by :meth:`TextCachingCanvasAgg.get_renderer`).
    course_rc_key: int | None = None
    #: Tick-label boxes measured during the draw under way, by axis (``None`` outside a draw).
    course_tick_boxes: dict | None = None
    #: Packers' boxes and child offsets computed during the draw under way (``None`` outside a draw).
    course_packed: dict | None = None

    def draw_text(
        self,
        gc: Any,
        x: float,
        y: float,
        s: str,
        prop: Any,
        angle: float,
        ismath: Any = False,
        mtext: Any = None,
    ) -> None:
        if ismath:
            return super().draw_text(gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)
        font = _font_and_metrics(prop, self._rc())[0]
        size = prop.get_size_in_points()
        flags = get_hinting_flag()
        features = mtext.get_fontfeatures() if mtext is not None else None
        language = mtext.get_language() if mtext is not None else None
        features_key = tuple(features) if isinstance(features, list) else features
        layout_key = (s, font.fname, id(font), size, self.dpi, features_key, language, flags)
        antialiased = bool(gc.get_antialiased())
        placed = _PLACED.get_or(
            (layout_key, x, y, angle, antialiased, self.height),
            self._place,
            *(layout_key, font, s, size, flags, features, language, x, y, angle, antialiased),
        )
        draw = self._renderer.draw_text_image
        for buffer, left, bottom in placed:
            draw(buffer, left, bottom, 0, gc)
        return None

    def _place(
        self,
        layout_key: tuple,
        font: Any,
        s: str,
        size: float,
        flags: Any,
        features: Any,
        language: Any,
        x: float,
        y: float,
        angle: float,
        antialiased: bool,
    ) -> list[tuple[np.ndarray, int, int]]:
        """The glyph bitmaps of a text drawn at ``(x, y)`` and where each goes (the arguments of
        ``draw_text_image``): the same for every draw of the same text at the same place."""
        items = _LAYOUTS.get_or(layout_key, _layout, *(font, s, size, self.dpi, flags, features, language))
        cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        height = self.height
        placed = []
        for ft, glyph, dx, dy in items:
            px = round(0x40 * (x + dx * cos - dy * sin))
            py = round(0x40 * (height - y + dx * sin + dy * cos))  # FreeType's y is upwards
            # FreeType renders a glyph moved by whole pixels as the same bitmap
            sub_x, sub_y = px & 63, py & 63
            key = (id(ft), ft.fname, size, self.dpi, glyph, angle, flags, antialiased, sub_x, sub_y)
            buffer, left, top = _GLYPHS.get_or(
                key, _render_glyph, *(ft, glyph, size, self.dpi, angle, sub_x, sub_y, flags, antialiased)
            )
            # whole pixels of the position shift the bitmap; draw_text_image's y is downwards, at the bitmap bottom
            placed.append((buffer, left + (px >> 6), int(height) - (top + (py >> 6)) + buffer.shape[0]))
        return _merged(placed)

    def _rc(self) -> int:
        return _rc_key() if self.course_rc_key is None else self.course_rc_key

    def _get_font_height_metrics(self, prop: Any) -> tuple[float, float, float] | tuple[None, None, None]:
        """Ascent, descent and line gap of the font of ``prop`` in pixels (what ``Text._get_layout`` otherwise
        reads from the font's tables at every layout), or ``None`` each when the font has neither table."""
        metrics = _font_and_metrics(prop, self._rc())[1]
        if metrics is None:
            return None, None, None
        gap, ascent, descent, units_per_em = metrics
        scale = 1 / units_per_em * prop.get_size_in_points() * self.dpi / 72
        return ascent * scale, -descent * scale, gap * scale


class TextCachingCanvasAgg(FigureCanvasAgg):
    """:class:`~matplotlib.backends.backend_agg.FigureCanvasAgg` drawing with :class:`TextCachingRendererAgg`."""

    #: The ticks to draw of each axis, computed during the draw under way (``None`` outside a draw).
    course_ticks: dict | None = None

    def __init__(self, figure: Any = None) -> None:
        if Text._get_layout is _plain_get_layout:
            Text._get_layout = _get_layout
            Axis._get_ticklabel_bboxes = _ticklabel_bboxes
            Axis._get_tick_boxes_siblings = _tick_boxes_siblings
            Axis._update_ticks = _update_ticks_once
            for cls in _plain_packed:
                cls._get_bbox_and_child_offsets = _packed_once(cls)
        super().__init__(figure)

    def draw(self) -> None:
        renderer = self.get_renderer()
        renderer.course_tick_boxes = {}  # tick-label boxes measured during this draw, by axis
        renderer.course_packed = {}  # packers' boxes and child offsets computed during this draw, by packer
        self.course_ticks = {}  # the ticks to draw of each axis, computed during this draw
        try:
            super().draw()
        finally:
            renderer.course_tick_boxes = renderer.course_packed = self.course_ticks = None

    def get_renderer(self) -> RendererAgg:
        w, h = self.get_width_height(physical=True)
        key = w, h, self.figure.dpi
        if self._lastKey != key:
            self.renderer = TextCachingRendererAgg(w, h, self.figure.dpi)
            self._lastKey = key
        self.renderer.course_rc_key = _rc_key()  # the font rcParams of this draw
        return self.renderer
