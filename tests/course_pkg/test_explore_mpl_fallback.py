"""The one gate in front of matplotlib's internals (``_mpl_private``) and the public-API path behind it.

With the gate closed (``COURSE_EXPLORE_PUBLIC_MPL=1``, or a matplotlib the private path was not checked on) the
renderer must still draw valid frames: the reference is the same frame drawn by the private path (reused figure,
text cache, measured title heights), which the frame tests compare with stock matplotlib pixel for pixel.
"""

from __future__ import annotations

import json

import matplotlib
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from course_pkg.explore import Choice, Explorable, FrameRenderer, LinGrid, _mpl_private, static
from course_pkg.explore.frames import RecyclingFigure, rasterize


def _compute(a: float, kind: str) -> dict:
    x = np.linspace(0.0, 1.0, 40)
    return {"a": a, "z": np.outer(x, x) * a if kind == "outer" else np.add.outer(x, a * x)}


def _draw(r: dict, fig) -> None:
    ax1, ax2 = fig.subplots(1, 2)
    ax1.plot([0, 1], [0, r["a"]])
    ax1.set_title(f"line a = {r['a']:g}")
    ax2.xaxis.tick_top()  # top tick labels: the title sits above them
    image = ax2.imshow(r["z"])
    ax2.set_title("map")
    fig.colorbar(image, ax=ax2)


def _explorable() -> Explorable:
    params = {"a": LinGrid(1.0, 3.0, 3, 1.0, "a"), "kind": Choice(["outer", "sum"], "outer", "kind")}
    return Explorable("test-fallback", "fallback", params, _compute, _draw, figsize=(6, 2.6))


SEQUENCE = [{"a": 1.0, "kind": "outer"}, {"a": 3.0, "kind": "sum"}, {"a": 2.0, "kind": "outer"}]


def test_the_gate_is_open_on_the_tested_matplotlib() -> None:
    """Otherwise the pixel-exact frame tests would only ever compare the public path with itself."""
    assert _mpl_private.missing() == ()
    assert _mpl_private.supported()
    assert isinstance(FrameRenderer(_explorable(), 40).figure({}), RecyclingFigure)


def test_an_untested_matplotlib_closes_the_gate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(matplotlib, "__version__", "3.99.0")
    _mpl_private.missing.cache_clear()
    try:
        assert any("3.99.0" in problem for problem in _mpl_private.missing())
        assert not _mpl_private.supported()
    finally:
        monkeypatch.undo()
        _mpl_private.missing.cache_clear()
    assert _mpl_private.supported()


def test_the_public_path_draws_the_frames_of_the_private_one(monkeypatch: pytest.MonkeyPatch) -> None:
    e = _explorable()
    private = FrameRenderer(e, 50)
    expected = [(private.rgb(p), static.column_extents(private.figure(p))) for p in SEQUENCE]
    for params, (rgb, _) in zip(SEQUENCE, expected):  # the private path draws what stock matplotlib draws
        assert np.array_equal(rgb, static.render_rgb(e, params, 50, private.positions)), params

    monkeypatch.setenv(_mpl_private.PUBLIC_ENV, "1")
    assert not _mpl_private.supported()
    public = FrameRenderer(e, 50)
    assert public.positions == private.positions
    for params, (rgb, extents) in zip(SEQUENCE, expected):
        fig = public.figure(params)
        assert type(fig) is Figure and public.figure(params) is not fig  # a plain figure, new for every frame
        assert np.array_equal(rasterize(fig), rgb), params
        assert type(fig.canvas) is FigureCanvasAgg  # the stock canvas, no text cache
        assert np.allclose(static.column_extents(fig), extents)


def test_the_public_path_renders_a_static_explorable(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv(_mpl_private.PUBLIC_ENV, "1")
    e = _explorable()
    html = static.render_static_html(e, dpi=40, workers=1, cache_dir=tmp_path)
    [folder] = [p for p in tmp_path.iterdir() if p.is_dir()]
    manifest = json.loads((folder / static.MANIFEST).read_text())
    assert len(manifest["index"]) == e.n_frames
    assert len(manifest["tiles"]) == 2  # cut between the line plot and the map with its colour bar
    assert f"{static.FRAMES_DIR}/{folder.name}/" in html
    files = {int(k) for frame in manifest["index"] for k in frame}
    assert files and all((folder / f"f{k}.webp").stat().st_size > 0 for k in files)
