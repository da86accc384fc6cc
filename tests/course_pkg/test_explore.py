"""The explorable framework: grids, frames, the static HTML (self-contained, ≤ 2 MB) and its cache.

The budget test iterates over EVERY explorable of the course (each chapter module's ``EXPLORABLES``).
"""

from __future__ import annotations

import io
import json
import math
import re

import numpy as np
import pytest
from PIL import Image

from course_pkg.explore import (
    Choice,
    Explorable,
    LinGrid,
    LogGrid,
    Toggle,
    all_explorables,
    rendering_mode,
    static,
)
from course_pkg.explore.core import is_slider, value_text

FACTORIES = all_explorables()


# -- a tiny explorable defined at module level (picklable for the worker processes) ---------------------------
def _compute(a: float, kind: str, flag: bool) -> dict:
    x = np.linspace(0, 1, 50)
    y = a * x if kind == "line" else a * x**2
    return {"x": x, "y": -y if flag else y}


def _draw(result: dict, fig) -> None:
    ax = fig.subplots()
    ax.plot(result["x"], result["y"])
    ax.set(ylim=(-3, 3), xlabel="x", ylabel="y")


def _compute_ignores_flag(a: float, flag: bool) -> dict:
    return {"a": a}


def _draw_bar(result: dict, fig) -> None:
    ax = fig.subplots()
    ax.bar([0], [result["a"]])
    ax.set_ylim(0, 3)


def tiny() -> Explorable:
    return Explorable(
        name="test-tiny",
        title="Tiny",
        params={
            "a": LinGrid(0.5, 2.5, num=3, default=1.4, label="slope a"),
            "kind": Choice(["line", "parabola"], default="parabola", label="kind"),
            "flag": Toggle(default=False, label="flip"),
        },
        compute=_compute,
        draw=_draw,
        figsize=(3, 2),
    )


# -- grids ---------------------------------------------------------------------------------------------------------
def test_lingrid_values_and_default_snaps_to_nearest() -> None:
    g = LinGrid(0.0, 1.0, num=5, default=0.3, label="x")
    np.testing.assert_allclose(g.values, np.linspace(0, 1, 5))
    assert g.default == 0.25 and g.default_index == 1 and len(g) == 5


def test_loggrid_is_geometric_and_snaps_in_log_scale() -> None:
    g = LogGrid(1e-3, 1.0, num=4, default=0.05, label="η")
    np.testing.assert_allclose(g.values, [1e-3, 1e-2, 1e-1, 1.0])
    # 0.05 is nearer to 0.1 than to 0.01 in log scale (|log 0.05 - log 0.1| = 0.69 < 1.61)
    assert g.default == pytest.approx(0.1)
    ratios = np.diff(np.log(LogGrid(0.01, 3.0, num=9, default=1.0, label="η").values))
    np.testing.assert_allclose(ratios, ratios[0])


def test_choice_and_toggle() -> None:
    c = Choice([1, 10, "adam"], default=10, label="c")
    assert c.values == (1, 10, "adam") and c.default == 10 and c.labels() == ["1", "10", "adam"]
    t = Toggle(default=True, label="t")
    assert t.values == (False, True) and t.default is True and t.labels() == ["off", "on"]
    assert c.index("adam") == 2
    # a choice among ordered numbers is a slider, among other values a dropdown (unless declared ordered)
    assert Choice([0.1, 0.5, 0.9], 0.5, "β").ordered and Choice([3, 2, 1], 1, "k").ordered
    assert (
        not c.ordered and not Choice([1, 3, 2], 1, "x").ordered and not Choice(["b", "a"], "a", "x").ordered
    )
    assert not Choice([1], 1, "x").ordered and Choice(["1", "3", "full"], "1", "depth", ordered=True).ordered
    assert (
        is_slider(Choice([0.1, 0.5], 0.5, "β")) and not is_slider(c) and is_slider(LinGrid(0, 1, 2, 0, "x"))
    )
    assert not is_slider(t)
    assert value_text(Choice([0.01, 0.1], 0.1, "η"), 1) == "η = 0.1" and value_text(t, 0) == "t: off"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: LinGrid(1.0, 0.0, 3, 0.5, "x"), "lo < hi"),
        (lambda: LinGrid(0.0, 1.0, 1, 0.5, "x"), "num >= 2"),
        (lambda: LogGrid(0.0, 1.0, 3, 0.5, "x"), "0 < lo < hi"),
        (lambda: LogGrid(0.1, 1.0, 3, -1.0, "x"), "default > 0"),
        (lambda: Choice([], None, "x"), "at least one"),
        (lambda: Choice([1, 2], 3, "x"), "not one of the values"),
        (lambda: Choice([1, 1], 1, "x"), "distinct"),
        (lambda: Toggle(1, "x"), "bool"),
        (lambda: Choice([1, 2], 1, "x").index(5), "not a value"),
    ],
)
def test_bad_grids_raise(make, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


# -- the explorable ------------------------------------------------------------------------------------------------
def test_explorable_grid_points_in_c_order() -> None:
    e = tiny()
    assert e.shape == (3, 2, 2) and e.n_frames == 12
    points = list(e.grid_points())
    assert len(points) == 12
    assert [idx for idx, _ in points] == [tuple(ix) for ix in np.ndindex(3, 2, 2)]
    assert points[5][1] == {"a": 1.5, "kind": "line", "flag": True}
    assert e.defaults() == {"a": 1.5, "kind": "parabola", "flag": False}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "Bad Name"}, "lower-case"),
        ({"params": {}}, "non-empty"),
        ({"params": {"a": [1, 2]}}, "LinGrid, LogGrid, Choice or Toggle"),
        ({"params": {"not valid": Toggle(False, "x")}}, "identifier"),
        ({"figsize": (0, 2)}, "figsize"),
    ],
)
def test_bad_explorable_raises(kwargs: dict, message: str) -> None:
    spec = {
        "name": "ok",
        "title": "t",
        "params": {"flag": Toggle(False, "x")},
        "compute": _compute,
        "draw": _draw,
    }
    spec.update(kwargs)
    with pytest.raises(ValueError, match=message):
        Explorable(**spec)


def _draw_varying_axes(result: dict, fig) -> None:
    for _ in range(1 + int(result["a"] > 1.5)):
        fig.add_subplot(1, 2, len(fig.axes) + 1).set_title("a title that takes room")


def test_fixed_positions_are_applied_and_fall_back_when_axes_differ() -> None:
    params = {"a": LinGrid(1, 2, 2, 1, "a"), "flag": Toggle(False, "f")}
    e = Explorable("test-axes", "axes", params, _compute_ignores_flag, _draw_varying_axes)
    positions = static.default_positions(e, 50)
    assert len(positions) == 1
    fig = e.render({"a": 1.0}, [(0.1, 0.2, 0.3, 0.4)])
    np.testing.assert_allclose(fig.axes[0].get_position().bounds, (0.1, 0.2, 0.3, 0.4))
    fig = e.render({"a": 2.0}, positions)  # two axes: positions do not apply
    assert len(fig.axes) == 2 and fig.get_layout_engine() is not None


def test_figure_rejects_unknown_parameter() -> None:
    with pytest.raises(ValueError, match="unknown parameter"):
        tiny().figure(b=1)


def test_rendering_mode_follows_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COURSE_EXPLORE_MODE", raising=False)
    assert rendering_mode() == "live"
    monkeypatch.setenv("COURSE_EXPLORE_MODE", "static")
    assert rendering_mode() == "static"
    monkeypatch.setenv("COURSE_EXPLORE_MODE", "pdf")
    with pytest.raises(ValueError, match="COURSE_EXPLORE_MODE"):
        rendering_mode()


def test_mimebundle_is_static_html_in_book_build_and_widget_live(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("COURSE_EXPLORE_CACHE", str(tmp_path))
    monkeypatch.setenv("COURSE_EXPLORE_WORKERS", "1")
    monkeypatch.setenv("COURSE_EXPLORE_MODE", "static")
    bundle = tiny()._repr_mimebundle_()
    assert bundle["text/html"].startswith('<div class="explorable"')
    monkeypatch.setenv("COURSE_EXPLORE_MODE", "live")
    bundle = tiny()._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle


# -- static rendering ----------------------------------------------------------------------------------------------
def _draw_two(result: dict, fig) -> None:
    ax1, ax2 = fig.subplots(1, 2)
    ax1.plot([0, 1], [0, result["a"]])
    ax1.set(title="left", ylabel="y")
    ax2.bar([0], [result["a"]])
    ax2.set(title="right", ylim=(0, 3), ylabel="height")


def two_panels() -> Explorable:
    return Explorable(
        "test-two",
        "Two panels",
        {"a": LinGrid(1, 2, 3, 1, "a"), "flag": Toggle(False, "has no effect")},
        _compute_ignores_flag,
        _draw_two,
        figsize=(6, 2),
    )


def _parts(html: str, cache_dir) -> tuple[dict, list[int], list[list[int]], str]:
    """The frame folder, default frame, index and base URL an explorable's HTML refers to."""
    index = json.loads(re.search(r"var index = (\[.*?\]);", html, re.S).group(1))
    base = json.loads(re.search(r"var base = (\".*?\");", html).group(1))
    assert base.startswith(f"{static.FRAMES_DIR}/") and base.endswith("/")
    folder = cache_dir / base.split("/")[1]
    manifest = json.loads((folder / static.MANIFEST).read_text())
    assert manifest["index"] == index
    return manifest, index, folder, base


def _decode(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def test_static_frames_are_files_at_twice_the_css_size_equal_to_a_direct_render(tmp_path) -> None:
    e = tiny()
    html = static.render_static_html(e, dpi=50, workers=1, cache_dir=tmp_path)
    manifest, index, folder, base = _parts(html, tmp_path)
    assert len(index) == e.n_frames and all(len(files) == 1 for files in index)  # one axes: one panel
    # nothing is inlined: the page refers to files, and only the default frame's <img src> is in the HTML
    assert "base64" not in html and "data:" not in html
    flat = int(np.ravel_multi_index(e.default_indices(), e.shape))
    srcs = re.findall(r'<img src="([^"]+)" width="(\d+)" height="(\d+)"', html)
    assert srcs == [(f"{base}f{index[flat][0]}.webp", "150", "100")]  # CSS size: 3 x 2 inches at 50 per inch
    # every frame is rendered at DENSITY times the CSS size and equals a direct render of its grid point
    rendered_dpi = 50 * static.DENSITY
    positions = static.default_positions(e, rendered_dpi)
    for (idx, params), files in zip(e.grid_points(), index):
        img = _decode(folder / f"f{files[0]}.webp")
        assert img.shape == (200, 300, 3)
        if idx in [(0, 0, 0), (2, 1, 1)]:
            np.testing.assert_array_equal(img, static.render_rgb(e, params, rendered_dpi, positions))
    assert len({files[0] for files in index}) == e.n_frames  # distinct parameters, distinct frames
    assert manifest["bytes"] == sum(p.stat().st_size for p in folder.glob("f*.webp"))


def test_panels_are_cut_in_the_gap_and_put_back_together_give_the_frame(tmp_path) -> None:
    e = two_panels()
    html = static.render_static_html(e, dpi=50, workers=1, cache_dir=tmp_path)
    manifest, index, folder, _ = _parts(html, tmp_path)
    assert len(manifest["tiles"]) == 2 and html.count("<img ") == 2
    assert sum(w for w, _ in manifest["tiles"]) == 300 and {h for _, h in manifest["tiles"]} == {100}
    rendered_dpi = 50 * static.DENSITY
    positions = static.default_positions(e, rendered_dpi)
    for (_, params), files in zip(e.grid_points(), index):
        whole = np.hstack([_decode(folder / f"f{k}.webp") for k in files])
        np.testing.assert_array_equal(whole, static.render_rgb(e, params, rendered_dpi, positions))
    # the cut runs between the axes: the left panel holds all of the left axes (with its labels), and so on
    fig = e.render({}, positions)
    fig.set_dpi(rendered_dpi)
    static.rasterize(fig)
    cut = manifest["tiles"][0][0] * static.DENSITY
    renderer = fig.canvas.get_renderer()
    left, right = (ax.get_tightbbox(renderer) for ax in fig.axes)
    assert left.x1 <= cut <= right.x0
    # the flag has no effect: its frames are the same files
    assert index[0] == index[1] and index[2] == index[3]
    assert "(panel 1 of 2)" in html and "(panel 2 of 2)" in html


@pytest.mark.parametrize(
    ("extents", "width", "min_width", "expected"),
    [
        ([(10, 90), (110, 190), (210, 290)], 300, 50, [100, 200]),  # three columns
        ([(10, 90), (80, 190), (210, 290)], 300, 50, [200]),  # the first two overlap: one panel
        ([(10, 90), (110, 190), (10, 290)], 300, 50, []),  # a title across the figure: no cut
        ([(10, 90), (110, 130), (150, 290)], 300, 60, [140]),  # a too-narrow middle panel merges
        ([(0, 20), (40, 300)], 300, 50, []),  # too narrow at the edge
    ],
)
def test_tile_cuts(extents, width: int, min_width: int, expected: list[int]) -> None:
    cuts = static.tile_cuts(extents, width, min_width, step=2)
    assert cuts == expected
    for c in cuts:  # no extent crosses a cut
        assert not any(x0 < c < x1 for x0, x1 in extents)


def test_static_html_controls_sliders_for_ordered_values_and_accessible_names(tmp_path) -> None:
    e = Explorable(
        "test-controls",
        "Controls",
        {
            "a": LinGrid(0.5, 2.5, num=3, default=1.5, label="slope a"),
            "eta": Choice([0.01, 0.1, 1.0], default=0.1, label="η"),
            "kind": Choice(["line", "parabola"], default="line", label="kind"),
            "flag": Toggle(False, "flip"),
        },
        _compute_four,
        _draw,
        figsize=(3, 2),
    )
    html = static.render_static_html(e, dpi=40, workers=1, cache_dir=tmp_path)
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", html), (
        "external resource in the static figure"
    )
    assert "http://" not in html and "https://" not in html
    # ordered numbers get sliders (showing their value), unordered choices a dropdown, the toggle a checkbox
    assert (
        html.count('type="range"') == 2 and html.count("<select") == 1 and html.count('type="checkbox"') == 1
    )
    assert html.count("<option") == 2 and html.count("<output") == 2
    # each slider announces the parameter and its value, not the grid index
    assert 'aria-valuetext="slope a = 1.5"' in html and 'aria-valuetext="η = 0.1"' in html
    # a polite live region, and alt text with the frame's parameter values
    assert 'aria-live="polite"' in html
    assert 'alt="Controls: slope a = 1.5, η = 0.1, kind = line, flip: off"' in html
    assert "<script>" in html and "IntersectionObserver" in html


def _compute_four(a: float, eta: float, kind: str, flag: bool) -> dict:
    return _compute(a * eta, kind, flag)


def test_second_display_gets_unique_ids(tmp_path) -> None:
    first = static.render_static_html(tiny(), dpi=50, workers=1, cache_dir=tmp_path)
    second = static.render_static_html(tiny(), dpi=50, workers=1, cache_dir=tmp_path)
    id1 = re.search(r'<div class="explorable" id="([^"]+)"', first).group(1)
    id2 = re.search(r'<div class="explorable" id="([^"]+)"', second).group(1)
    assert id1 != id2 and f'document.getElementById("{id2}")' in second


def test_parallel_render_equals_serial_render() -> None:
    e = tiny()
    serial = static.render_frames(e, dpi=40, workers=1)
    parallel = static.render_frames(e, dpi=40, workers=2)
    assert len(serial) == len(parallel) == e.n_frames
    for a, b in zip(serial, parallel):
        np.testing.assert_array_equal(a, b)


def test_encoding_falls_back_to_smaller_settings_and_raises_when_impossible() -> None:
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (60, 80, 3), dtype=np.uint8) for _ in range(3)]
    _, _, setting = static.encode_frames(frames, max_bytes=10**8)
    assert setting == "lossless"
    lossless = sum(len(s) for s in static.encode_frames(frames, 10**8)[0])
    images, _, setting = static.encode_frames(frames, max_bytes=lossless // 2)
    assert setting != "lossless" and sum(len(s) for s in images) <= lossless // 2
    with pytest.raises(ValueError, match="over the budget"):
        static.encode_frames(frames, max_bytes=100)
    # palettes keep a white background exactly white (no tint from the nearest palette colour)
    picture = np.full((40, 60, 3), 255, dtype=np.uint8)
    picture[10:30, 10:50] = rng.integers(0, 255, (20, 40, 3), dtype=np.uint8)
    for setting in ("p16", "p64"):
        decoded = np.asarray(Image.open(io.BytesIO(static.encode_webp(picture, setting))).convert("RGB"))
        assert np.all(decoded[np.all(picture == 255, axis=-1)] == 255)
        assert len(np.unique(decoded.reshape(-1, 3), axis=0)) <= int(setting[1:]) + 1
    with pytest.raises(ValueError, match="unknown WebP setting"):
        static.encode_webp(frames[0], "jpeg")


def test_encoding_estimate_does_not_alias_with_the_panels_of_a_frame() -> None:
    # 16 frames cut in 3 panels: a noisy first panel and two nearly white ones (each with its own mark, so that
    # none is deduplicated); a sample of every k-th image with k a multiple of 3 sees only first panels and
    # overestimates the total threefold, skipping the lossless setting that fits twice over
    rng = np.random.default_rng(1)
    pieces = []
    for k in range(16):
        pieces.append(rng.integers(0, 255, (60, 80, 3), dtype=np.uint8))
        for j in (1, 2):
            panel = np.full((60, 80, 3), 255, dtype=np.uint8)
            panel[k, j] = 0
            pieces.append(panel)
    lossless = sum(len(static.encode_webp(p, "lossless")) for p in pieces)
    _, _, setting = static.encode_frames(pieces, max_bytes=2 * lossless)
    assert setting == "lossless"


def test_cache_hit_skips_rendering_and_key_tracks_parameters(tmp_path, monkeypatch) -> None:
    e = tiny()
    first = static.render_static_html(e, dpi=50, workers=1, cache_dir=tmp_path)
    assert len([p for p in tmp_path.glob("test-tiny-*") if p.is_dir()]) == 1

    def fail(*args, **kwargs):
        raise AssertionError("rendered although cached")

    monkeypatch.setattr(static, "render_frames", fail)
    again = static.render_static_html(e, dpi=50, workers=1, cache_dir=tmp_path)
    assert _parts(again, tmp_path)[1] == _parts(first, tmp_path)[1]
    # anything that changes the frames changes the key
    other = Explorable(
        e.name, e.title, {**e.params, "a": LinGrid(0.5, 2.5, 4, 1.4, "slope a")}, _compute, _draw, (3, 2)
    )
    keys = {
        static.cache_key(e, 50, static.MAX_BYTES),
        static.cache_key(other, 50, static.MAX_BYTES),
        static.cache_key(e, 60, static.MAX_BYTES),
        static.cache_key(
            Explorable(e.name, e.title, e.params, _compute, _draw_bar, (3, 2)), 50, static.MAX_BYTES
        ),
    }
    assert len(keys) == 4
    with pytest.raises(AssertionError, match="rendered although cached"):
        static.render_static_html(other, dpi=50, workers=1, cache_dir=tmp_path)


def test_book_build_copies_the_frames_a_page_refers_to(tmp_path) -> None:
    from course_pkg.explore import book

    cache = tmp_path / "cache"
    html = static.render_static_html(tiny(), dpi=40, workers=1, cache_dir=cache)
    page_dir = tmp_path / "site" / "chapter"
    written = book.copy_frames(f"<p>text</p>{html}", page_dir, cache)
    (folder,) = written
    assert folder.parent == page_dir / static.FRAMES_DIR
    src = re.search(r'<img src="([^"]+)"', html).group(1)
    assert (page_dir / src).is_file()  # the page's relative URL resolves to the copied file
    source = cache / folder.name
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in source.iterdir())
    with pytest.raises(book.MissingFramesError, match="jupyter_cache"):
        book.copy_frames(html, page_dir, tmp_path / "empty-cache")


# -- every explorable of the course ---------------------------------------------------------------------------------
#: CSS pixels per inch of a static figure (``render_static_html``'s default dpi) and the narrowest content column
#: (CSS px) a panel must fit at 1280 px wide; the smallest text must render at >= 11 CSS px there.
CSS_DPI = 80
COLUMN_PX = 640
MIN_TEXT_PX = 11.0
#: The content column of a 390 px phone (CSS px, measured in Chromium) and the smallest text allowed there: a
#: wider panel is shrunk to the column, its text with it.
PHONE_COLUMN_PX = 330
MIN_PHONE_TEXT_PX = 9.0


def test_course_has_explorables_and_unique_names() -> None:
    assert "gradient_descent.lr_condition" in FACTORIES
    names = [f().name for f in FACTORIES.values()]
    assert len(names) == len(set(names)), "explorable names must be unique"


@pytest.mark.parametrize("key", sorted(FACTORIES))
def test_every_course_explorable_is_within_budget_with_legible_panels(key: str) -> None:
    e = FACTORIES[key]()
    assert e.n_frames == math.prod(len(g) for g in e.params.values())
    html = e.static_html()  # default options and cache: the book build's figures
    manifest, index, folder, _ = _parts(html, static.default_cache_dir())
    files = sum(p.stat().st_size for p in folder.glob("f*.webp"))
    size = len(html.encode("utf-8")) + files
    assert size <= static.MAX_BYTES, f"{e.name}: static figure is {size} bytes > 2 MB"
    assert "http://" not in html and "https://" not in html
    assert len(index) == e.n_frames and all(len(f) == len(manifest["tiles"]) for f in index)
    assert all((folder / f"f{k}.webp").is_file() for f in index for k in f)
    # every panel fits the column at its natural size, so that it is never shrunk
    assert max(w for w, _ in manifest["tiles"]) <= COLUMN_PX, f"{e.name}: a panel is wider than the column"
    # on a phone, the widest panel is shrunk to the column: its smallest text must stay legible
    phone = manifest["text_px"] * min(1.0, PHONE_COLUMN_PX / max(w for w, _ in manifest["tiles"]))
    assert phone >= MIN_PHONE_TEXT_PX, f"{e.name}: smallest text {phone:.1f} CSS px on a phone"
    # ordered numbers are never dropdowns: sliders show them
    for name, grid in e.params.items():
        numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in grid.values)
        assert is_slider(grid) or not numbers, f"{e.name}: {name} is a dropdown over numbers"


@pytest.mark.parametrize("key", sorted(FACTORIES))
def test_every_course_explorable_text_renders_at_11_css_px(key: str) -> None:
    """Every text of the default frame (tick labels, titles, legends, annotations), at its size in points, is at
    least 11 CSS px when the figure is shown at its natural CSS size (``CSS_DPI`` per inch), and lies inside the
    figure (nothing cut at its edges)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    e = FACTORIES[key]()
    fig = e.render({})
    fig.set_dpi(CSS_DPI)
    FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    tick_labels = {
        id(label)
        for ax in fig.axes
        for axis in (ax.xaxis, ax.yaxis)
        for tick in [*axis.majorTicks, *axis.minorTicks]
        for label in (tick.label1, tick.label2)
    }
    shown = []
    for text in fig.findobj(Text):
        if not text.get_visible() or not text.get_text().strip():
            continue
        shown.append(text)
        if id(text) in tick_labels:
            continue  # placed by matplotlib (the ones outside the view are not drawn)
        box = text.get_window_extent(renderer)
        assert box.x0 >= -1 and box.x1 <= width + 1 and box.y0 >= -1 and box.y1 <= height + 1, (
            f"{e.name}: {text.get_text()!r} is cut at the edge of the figure"
        )
    assert shown
    smallest = min(t.get_fontsize() for t in shown) * CSS_DPI / 72
    assert smallest >= MIN_TEXT_PX, f"{e.name}: smallest text {smallest:.1f} CSS px"


def test_cache_key_follows_dependencies_and_ignores_unrelated_imports() -> None:
    from course_pkg.explore.chapters import gradient_descent

    e = gradient_descent.lr_condition()
    modules = [m.__name__ for m in static._course_modules(e.compute)]
    # the chapter module, the framework class it uses, and the landscapes it computes with
    assert modules == [
        "course_pkg.explore.chapters.gradient_descent",
        "course_pkg.explore.core",
        "course_pkg.landscapes",
    ]
    before = static.cache_key(e, 80, static.MAX_BYTES)
    import course_pkg.explore.live  # noqa: F401 - imported elsewhere in a kernel, or not: same key
    import course_pkg.optim  # noqa: F401

    all_explorables()
    assert static.cache_key(e, 80, static.MAX_BYTES) == before


def _draw_titled(result: dict, fig) -> None:
    ax1, ax2 = fig.subplots(1, 2)
    ax1.plot([0, 1], [0, result["a"]])
    ax1.set_title(f"auto title a = {result['a']:g}")
    ax2.plot([0, 1], [1, 0])
    ax2.xaxis.tick_top()  # top tick labels: matplotlib lifts this title above them
    ax2.set_title("lifted title")


def test_measured_title_heights_reproduce_the_automatic_title_placement() -> None:
    """Frames drawn with the measured title heights (no automatic placement) have exactly the pixels of frames
    where matplotlib places the titles itself."""
    params = {"a": LinGrid(1, 2, 3, 1, "a"), "flag": Toggle(False, "f")}
    e = Explorable("test-titles", "titles", params, _compute_ignores_flag, _draw_titled, figsize=(5, 2.5))
    positions = static.default_positions(e, 50)
    assert positions[0][4] == 1.0 and positions[1][4] > 1.0  # the second title sits above the top labels
    boxes_only = [pos[:4] for pos in positions]
    for a in (1.0, 1.5, 2.0):
        fast = static.render_rgb(e, {"a": a}, 50, positions)
        auto = static.render_rgb(e, {"a": a}, 50, boxes_only)
        np.testing.assert_array_equal(fast, auto)
    fig = e.render({"a": 1.5}, positions)
    assert not fig.axes[0]._autotitlepos and fig.axes[1].title.get_position()[1] == positions[1][4]


def test_log_tick_labels_use_one_style_per_axis() -> None:
    """No axis mixes "1, 10" with "10²": powers of ten are all 10ⁿ, or all plain decimals."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from course_pkg.explore import plain_log_ticks
    from course_pkg.explore.chapters import ensembles

    fig = Figure()
    FigureCanvasAgg(fig)
    ax_sup, ax_dec = fig.subplots(1, 2)
    for ax, style in ((ax_sup, "superscript"), (ax_dec, "decimal")):
        ax.loglog([1e-3, 1e2], [1e-3, 1e2])
        plain_log_ticks(ax.xaxis, labels=style)
    fig.canvas.draw()

    def shown(ax, with_values=False):
        lo, hi = ax.get_xlim()
        ticks = [(v, t.get_text()) for t, v in zip(ax.get_xticklabels(), ax.get_xticks()) if lo <= v <= hi]
        return ticks if with_values else [text for _, text in ticks]

    powers = [1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0]
    superscripts = dict(zip(powers, ["10⁻³", "10⁻²", "10⁻¹", "10⁰", "10¹", "10²"]))
    decimals = dict(zip(powers, ["0.001", "0.01", "0.1", "1", "10", "100"]))
    for ax, expected in ((ax_sup, superscripts), (ax_dec, decimals)):
        ticks = shown(ax, with_values=True)
        assert len(ticks) >= 3
        assert all(text == expected[min(powers, key=lambda p: abs(p - v))] for v, text in ticks), ticks
    # the bagging classifier's tree counts read 1, 10, 100
    e = ensembles.bagging_boundary()
    fig = e.render({})
    FigureCanvasAgg(fig).draw()
    trees = fig.axes[1]
    assert trees.get_xscale() == "log"
    assert {"1", "10"} <= set(shown(trees)) and not any(c in "".join(shown(trees)) for c in "⁰¹²")


def test_contour_lines_are_what_ax_contour_draws() -> None:
    """The cached level lines are matplotlib's own (``ax.contour``'s segments), level by level, read-only; drawn
    with ``draw_lines`` they give the picture of ``ax.contour`` with the same colours and widths (up to the join
    where a closed line meets its start: a line collection has no CLOSEPOLY code)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from course_pkg.explore import contour_lines, draw_lines

    X, Y = np.meshgrid(np.linspace(-2, 2, 41), np.linspace(-1, 3, 37))
    Z = (1 - X) ** 2 + 10 * (Y - X**2) ** 2  # a banana: several pieces per level near the edges
    levels = [0.5, 2.0, 8.0, 30.0]
    lines, of_level = contour_lines(X, Y, Z, levels, with_levels=True)
    reference = Figure().subplots().contour(X, Y, Z, levels=levels)
    expected = [(level, seg) for level, segs in zip(levels, reference.allsegs) for seg in segs]
    assert len(lines) == len(expected) > len(levels)
    for line, level, (want_level, want) in zip(lines, of_level, expected):
        assert level == want_level
        np.testing.assert_array_equal(line, want)
        assert not line.flags.writeable
    alone = contour_lines(X, Y, Z, levels)  # the same pieces without their levels
    assert len(alone) == len(lines) and all(np.array_equal(a, b) for a, b in zip(alone, lines))

    pictures = []
    for how in ("contour", "lines"):
        fig = Figure(figsize=(3, 3), dpi=60)
        FigureCanvasAgg(fig)
        ax = fig.subplots()
        ax.set(xlim=(-2, 2), ylim=(-1, 3))
        if how == "contour":
            ax.contour(X, Y, Z, levels=levels, colors="0.75", linewidths=0.7)
        else:
            draw_lines(ax, lines, "0.75", 0.7)
        fig.canvas.draw()
        pictures.append(np.asarray(fig.canvas.buffer_rgba()).astype(int))
    differ = np.any(pictures[1] != pictures[0], axis=-1)
    assert differ.sum() <= 12 and np.abs(pictures[1] - pictures[0]).max() <= 8, (
        differ.sum(),
        differ.nonzero(),
    )


def test_log10_ticks_put_the_values_at_their_logarithms() -> None:
    from matplotlib.figure import Figure

    from course_pkg.explore import log10_ticks

    ax = Figure().subplots()
    log10_ticks(ax.yaxis, (1e-3, 1.0, 1e5))
    np.testing.assert_allclose(ax.get_yticks(), [-3.0, 0.0, 5.0], atol=1e-12)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["10⁻³", "10⁰", "10⁵"]
    log10_ticks(ax.xaxis, (0.1, 1.0, 1000.0, 1e4), labels="decimal")
    np.testing.assert_allclose(ax.get_xticks(), [-1.0, 0.0, 3.0, 4.0], atol=1e-12)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.1", "1", "1000", "10⁴"]
    with pytest.raises(ValueError, match="labels must be"):
        log10_ticks(ax.xaxis, (1.0,), labels="exponent")
