"""Frames drawn into one reused figure (FrameRenderer, text cache) are the frames of a fresh figure, pixel for pixel.

The reference is matplotlib itself: ``static.render_rgb`` draws every frame on a new Figure with the stock
``FigureCanvasAgg``. Every explorable of the course is checked on a sequence that visits every value of every
choice and toggle and the ends and middle of every slider, in a shuffled order (so that each frame follows frames
of other branches), plus random grid points.
"""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

from course_pkg.explore import Choice, Explorable, FrameRenderer, LinGrid, Toggle, all_explorables, static
from course_pkg.explore._textcache import TextCachingCanvasAgg, text_cache_supported

FACTORIES = all_explorables()
DPI = 80


def _visit_sequence(e: Explorable, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    points = [e.defaults()]
    for key, grid in e.params.items():
        values = grid.values if isinstance(grid, Choice | Toggle) else grid.values[:: max(1, len(grid) // 2)]
        points += [{**e.defaults(), key: v} for v in {*values, grid.values[-1]}]
    every = [p for _, p in e.grid_points()]
    points += [every[int(i)] for i in rng.choice(len(every), size=min(3, len(every)), replace=False)]
    return [points[i] for i in rng.permutation(len(points))]


def _assert_same_frames(
    e: Explorable, sequence: list[dict], dpi: float = DPI, renderer: FrameRenderer | None = None
) -> FrameRenderer:
    renderer = renderer or FrameRenderer(e, dpi)
    for params in sequence:
        reused = renderer.rgb(params)
        fresh = static.render_rgb(e, params, dpi, renderer.positions)
        assert reused.shape == fresh.shape, params
        differing = np.any(reused != fresh, axis=-1)
        assert not differing.any(), (
            f"{e.name} at {params}: {int(differing.sum())} pixels differ from a fresh figure"
        )
    return renderer


@pytest.mark.parametrize("key", sorted(FACTORIES))
def test_every_course_explorable_draws_the_same_frames_into_a_reused_figure(key: str) -> None:
    e = FACTORIES[key]()
    assert e.reuse_figure
    sequence = _visit_sequence(e)
    renderer = FrameRenderer(e, DPI)
    fig = renderer.figure(sequence[-1])
    n_axes = len(fig.axes)
    ax = fig.axes[0]
    first_artist = weakref.ref([*ax.lines, *ax.collections, *ax.images, *ax.patches][0])
    _assert_same_frames(e, sequence, renderer=renderer)
    # the figure was reused, not rebuilt per frame, and keeps nothing of past frames
    assert renderer.figure(sequence[-1]) is fig and len(fig.axes) == n_axes
    gc.collect()
    assert first_artist() is None


# -- the mechanism, on draws that exercise what a reused figure must undo -----------------------------------------------
def _compute(mode: str, flag: bool) -> dict:
    x = np.linspace(0.1, 3.0, 40)
    return {"x": x, "y": np.exp(x) if mode == "exp" else np.sin(3 * x) + 1.5, "mode": mode, "flag": flag}


def _draw_branchy(r: dict, fig) -> None:
    """State that persists on an axes unless undone: conditional scales, limits, grid, legend, texts, titles."""
    if r["mode"] == "two":
        ax, other = fig.subplots(1, 2)
        other.bar(["a", "b", "c"], [1, 3, 2])
        other.set_title("bars", loc="left")
    else:
        ax = fig.subplots()
    ax.plot(r["x"], r["y"], label="curve")
    ax.plot(r["x"], r["y"] / 2)  # the next colour of the cycle
    if r["mode"] == "exp":
        ax.set_yscale("log")
        ax.set_xlim(0, 2)
        ax.grid(True)
    if r["flag"]:
        ax.legend(loc="upper left")
        ax.text(0.5, 0.5, "flag", transform=ax.transAxes)
        ax.set_title("flagged")
        ax.set_xlabel("x")
        ax.invert_yaxis()
        fig.suptitle("a suptitle")
        ax.set_aspect("equal", adjustable="datalim")
    twin = ax.twinx()
    twin.plot(r["x"], -r["y"], color="k")
    image = ax.imshow(np.outer(np.arange(4), np.arange(5)), extent=(0.2, 1.0, 0.5, 1.0), aspect="auto")
    if r["mode"] != "two":  # three axes either way: (axes, twin, colour bar) or (axes, axes, twin)
        fig.colorbar(image, ax=ax, label="colour")


def branchy(reuse: bool = True) -> Explorable:
    return Explorable(
        name="test-branchy",
        title="Branchy",
        params={
            "mode": Choice(["sin", "exp", "two"], default="sin", label="mode"),
            "flag": Toggle(False, "flag"),
        },
        compute=_compute,
        draw=_draw_branchy,
        figsize=(5, 2.5),
        reuse_figure=reuse,
    )


def test_a_reused_figure_undoes_conditional_state_of_the_previous_frame() -> None:
    e = branchy()
    order = [("sin", False), ("exp", True), ("sin", False), ("two", True), ("exp", False), ("sin", True)]
    _assert_same_frames(e, [{"mode": m, "flag": f} for m, f in order * 2], dpi=50)


def test_reused_axes_are_the_same_objects_and_extra_axes_are_made_again() -> None:
    e = branchy()
    renderer = FrameRenderer(e, 50)
    first = list(renderer.figure({"mode": "sin"}).axes)
    first_image = weakref.ref(first[0].images[0])
    second = list(renderer.figure({"mode": "exp"}).axes)
    # in creation order, as on a fresh figure: the axes, its twin, a colour bar
    assert len(first) == len(second) == 3
    assert second[0] is first[0]  # from fig.subplots: emptied and handed out again
    assert second[1] is not first[1]  # the twin: removed and made again
    assert first[1] not in renderer._fig.axes
    assert second[2] is first[2]  # the colour bar's axes: reused for the same colorbar call
    # many frames later the figure still has three axes and the axes keep no callbacks of past frames
    for i in range(30):
        fig = renderer.figure({"mode": ["sin", "exp"][i % 2], "flag": bool(i % 3)})
    assert len(fig.axes) == 3
    assert all(len(ax.callbacks.callbacks.get("xlim_changed", {})) <= 1 for ax in fig.axes)
    gc.collect()
    assert first_image() is None  # nothing (a chain of colour bars, say) keeps past frames alive


def test_reuse_can_be_turned_off() -> None:
    e = branchy(reuse=False)
    renderer = FrameRenderer(e, 50)
    assert renderer.figure({"mode": "sin"}) is not renderer.figure({"mode": "exp"})
    _assert_same_frames(e, [{"mode": "sin"}, {"mode": "exp", "flag": True}], dpi=50)


def _draw_failing(r: dict, fig) -> None:
    ax = fig.subplots()
    ax.plot([0, 1], [0, r["a"]])
    if r["a"] > 1.5:
        raise RuntimeError("draw failed")


def test_a_failing_draw_does_not_spoil_the_next_frame() -> None:
    e = Explorable(
        "test-failing", "f", {"a": LinGrid(1, 2, 3, 1, "a")}, _compute_a, _draw_failing, figsize=(3, 2)
    )
    renderer = FrameRenderer(e, 50)
    renderer.rgb({"a": 1.0})
    with pytest.raises(RuntimeError, match="draw failed"):
        renderer.rgb({"a": 2.0})
    np.testing.assert_array_equal(
        renderer.rgb({"a": 1.5}), static.render_rgb(e, {"a": 1.5}, 50, renderer.positions)
    )


def _compute_a(a: float) -> dict:
    return {"a": a}


def test_unknown_parameter_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown parameter"):
        FrameRenderer(branchy(), 50).figure({"nope": 1})


# -- the text cache -------------------------------------------------------------------------------------------------
def _text_figure(canvas_class: type, shift: float):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4, 2), dpi=72)
    canvas_class(fig)
    ax = fig.add_axes((0.12, 0.2, 0.8, 0.7))
    ax.plot([0, 1], [0, 1])
    ax.set_title(f"θ₁ = {shift:.2f}, λ_max, ∇L", fontsize=9)
    ax.set_xlabel("step t  (ünïcödé, 日本)")
    ax.text(0.1 + shift, 0.5, "rotated text", rotation=33, fontsize=7)
    ax.text(0.4, 0.3 + shift, "bold serif", family="serif", weight="bold", fontsize=11)
    ax.text(0.6, 0.7, "not antialiased", antialiased=False)
    ax.text(0.2, 0.8, r"math $\sqrt{x^2}$ and text")
    ax.text(0.7 + shift / 3, 0.15, "vertical", rotation=90)
    return fig


@pytest.mark.skipif(not text_cache_supported(), reason="this matplotlib has no glyph-level Agg text path")
def test_text_cache_draws_what_agg_draws() -> None:
    import warnings

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    warnings.filterwarnings("ignore", message="Glyph .* missing from font")
    cached = _text_figure(TextCachingCanvasAgg, 0.0)
    # sub-pixel shifts of the same strings: cache hits at other whole-pixel positions and new sub-pixel keys
    for shift in (0.0, 0.013, 0.2501, 0.0, 0.37):
        plain = _text_figure(FigureCanvasAgg, shift)
        plain.canvas.draw()
        cached = _text_figure(TextCachingCanvasAgg, shift)
        cached.canvas.draw()
        np.testing.assert_array_equal(
            np.asarray(cached.canvas.buffer_rgba()), np.asarray(plain.canvas.buffer_rgba())
        )


def test_merged_glyph_bitmaps_draw_what_the_glyphs_draw_one_by_one() -> None:
    """Glyph bitmaps merged into layers (disjoint boxes in a layer, overlapping ones in their order) blend the same
    pixels as one ``draw_text_image`` per glyph, on a canvas that already holds a picture, clipped at its edges."""
    from matplotlib.backend_bases import GraphicsContextBase
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.transforms import IdentityTransform

    from course_pkg.explore._textcache import _merged

    rng = np.random.default_rng(3)
    context = GraphicsContextBase()
    context.set_foreground((0.1, 0.3, 0.7, 0.8))
    for trial in range(40):
        placed = []
        x = int(rng.integers(-5, 10))
        for _ in range(int(rng.integers(1, 12))):
            h, w = (int(v) for v in rng.integers(0, 9, size=2))  # empty bitmaps (spaces) too
            buffer = (rng.random((h, w)) < 0.6) * rng.integers(1, 256, size=(h, w))
            placed.append((buffer.astype(np.uint8), x, int(rng.integers(6, 34))))
            x += int(rng.integers(-2, 7))  # neighbours that overlap, touch or stand apart
        merged = _merged(placed)
        assert len(merged) <= len(placed)
        pictures = []
        for bitmaps in (placed, merged):
            renderer = RendererAgg(40, 32, 72)
            renderer.draw_path(context, _background_path(), IdentityTransform(), (0.9, 0.2, 0.1, 0.5))
            for buffer, left, bottom in bitmaps:
                renderer._renderer.draw_text_image(buffer, left, bottom, 0, context)
            pictures.append(np.asarray(renderer.buffer_rgba()).copy())
        np.testing.assert_array_equal(pictures[1], pictures[0], err_msg=f"trial {trial}")


def _background_path():
    from matplotlib.path import Path

    return Path([(0, 0), (40, 0), (40, 17), (0, 32), (0, 0)], closed=True)


def test_axes_positions_do_not_carry_the_layouts_last_bits() -> None:
    """Constrained layout gives the same axes other last bits from one process to another (measured: three
    layouts of adaboost_rounds, cliff_clipping and bias_variance in seven processes); a line through many points
    then rasterises differently. Positions a few ulps apart must measure the same."""
    from matplotlib.figure import Figure

    from course_pkg.explore.frames import axes_positions

    measured = []
    for ulps in (0, 3, -2):
        fig = Figure(figsize=(6, 3))
        ax = fig.add_axes((0.1, 0.2, 0.35, 0.6))
        left, bottom, width, height = (0.123456789012, 0.2345678901234, 0.3456789012345, 0.56789012345678)
        for _ in range(abs(ulps)):
            left, width = (
                np.nextafter(left, np.sign(ulps) * np.inf),
                np.nextafter(width, np.sign(ulps) * np.inf),
            )
        ax.set_position((left, bottom, width, height))
        measured.append(axes_positions(fig))
    assert measured[0] == measured[1] == measured[2]
    assert measured[0][0][0] == pytest.approx(0.123456789012, abs=1e-9)
