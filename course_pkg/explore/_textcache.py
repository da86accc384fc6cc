"""An Agg canvas that remembers the text it has rasterised, for figures redrawn frame after frame.

Text is about half of what Agg spends on a typical explorable frame: for every tick label, title, axis label and
legend entry matplotlib shapes the string (HarfBuzz/FreeType layout) and renders each glyph with FreeType. From one
frame to the next most strings are the same, so :class:`TextCachingCanvasAgg` keeps

- the layout of each string (glyphs and their offsets), keyed by string, font, size, resolution, font features,
  language and hinting; and
- each rendered glyph bitmap, keyed by font, size, resolution, glyph, angle, hinting, antialiasing and the
  sub-pixel part of its position (FreeType renders a glyph moved by whole pixels as the same bitmap, moved).

It draws exactly what :class:`matplotlib.backends.backend_agg.FigureCanvasAgg` draws, pixel for pixel (the tests
compare both on every explorable of the course). The cache relies on the glyph-level text path of the Agg
renderer of matplotlib 3.11 (``FT2Font._layout``, ``FT2Font._render_glyph``): it is used only where the gate of
every private matplotlib dependency, :func:`course_pkg.explore._mpl_private.supported`, allows it (otherwise
:func:`text_cache_supported` is false and callers use the plain canvas).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg, get_hinting_flag
from matplotlib.font_manager import fontManager, get_font

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


class TextCachingRendererAgg(RendererAgg):
    """:class:`~matplotlib.backends.backend_agg.RendererAgg` whose plain (non-math) text comes from the caches."""

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
        font = get_font(fontManager._find_fonts_by_props(prop))
        size = prop.get_size_in_points()
        flags = get_hinting_flag()
        features = mtext.get_fontfeatures() if mtext is not None else None
        language = mtext.get_language() if mtext is not None else None
        features_key = tuple(features) if isinstance(features, list) else features
        items = _LAYOUTS.get_or(
            (s, font.fname, id(font), size, self.dpi, features_key, language, flags),
            _layout,
            *(font, s, size, self.dpi, flags, features, language),
        )
        cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        antialiased = bool(gc.get_antialiased())
        height = self.height
        for ft, glyph, dx, dy in items:
            px = round(0x40 * (x + dx * cos - dy * sin))
            py = round(0x40 * (height - y + dx * sin + dy * cos))  # FreeType's y is upwards
            sub_x, sub_y = (
                px & 63,
                py & 63,
            )  # FreeType renders a glyph moved by whole pixels as the same bitmap
            key = (id(ft), ft.fname, size, self.dpi, glyph, angle, flags, antialiased, sub_x, sub_y)
            buffer, left, top = _GLYPHS.get_or(
                key, _render_glyph, *(ft, glyph, size, self.dpi, angle, sub_x, sub_y, flags, antialiased)
            )
            # whole pixels of the position shift the bitmap; draw_text_image's y is downwards, at the bitmap bottom
            self._renderer.draw_text_image(
                buffer, left + (px >> 6), int(height) - (top + (py >> 6)) + buffer.shape[0], 0, gc
            )
        return None


class TextCachingCanvasAgg(FigureCanvasAgg):
    """:class:`~matplotlib.backends.backend_agg.FigureCanvasAgg` drawing with :class:`TextCachingRendererAgg`."""

    def get_renderer(self) -> RendererAgg:
        w, h = self.get_width_height(physical=True)
        key = w, h, self.figure.dpi
        if self._lastKey != key:
            self.renderer = TextCachingRendererAgg(w, h, self.figure.dpi)
            self._lastKey = key
        return self.renderer
