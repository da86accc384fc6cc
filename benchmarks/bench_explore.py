"""Explorable budgets: live compute + redraw time (≤ 100 ms median) and static figure size (≤ 2 MB).

For every explorable of the course (each ``course_pkg.explore`` chapter module's ``EXPLORABLES``):

- **live**: the median time of one control change in the ipywidgets rendering (compute + draw + PNG), over a
  seeded sample of grid points, after one warm-up redraw;
- **static**: the size of the static figure in the book, its HTML and frame files (from the build cache when the
  book was built, otherwise rendered now).

Ratios are against the budgets (ratio ≤ 1: within budget); the reference line measures the fixed cost of the same
pipeline on an empty figure in the same run, so that a slow machine is visible as a slow reference.
"""

from __future__ import annotations

import io
import statistics
import time

import numpy as np

from course_pkg.explore import Explorable, Toggle, all_explorables
from course_pkg.explore.frames import FrameRenderer, encode_png
from course_pkg.explore.live import ExplorableWidget
from course_pkg.explore.static import MAX_BYTES

LIVE_BUDGET_MS = 100.0
SAMPLES = 7


def live_ms(explorable: Explorable, samples: int = SAMPLES, seed: int = 0) -> tuple[float, float]:
    """Median wall-clock and CPU milliseconds of one live redraw at ``samples`` random grid points.

    CPU time (this process) excludes the time spent waiting for a core on a busy machine; on an idle machine the
    two agree for these single-threaded redraws. Every sample is a grid point the widget has not drawn yet (its
    frame cache would answer a revisit in microseconds).
    """
    widget = ExplorableWidget(explorable)  # first draw: measures the layout, warms caches
    # the default frame is in the widget's frame cache: leave it out, every sample is a cold redraw
    points = [p for p in explorable.grid_points() if p[0] != explorable.default_indices()]
    rng = np.random.default_rng(seed)
    wall, cpu = [], []
    for i in rng.choice(len(points), size=min(samples, len(points)), replace=False):
        params = points[int(i)][1]
        start, start_cpu = time.perf_counter(), time.process_time()
        for key, value in params.items():  # what moving the controls does, without one redraw per control
            widget.controls[key].unobserve_all("value")
            widget.controls[key].value = value
        widget.refresh()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def breakdown_ms(explorable: Explorable, samples: int = 3, seed: int = 1) -> dict[str, float]:
    """Median CPU milliseconds of each stage of a live redraw: compute, draw, Agg rasterisation, PNG encoding.

    The stages are run as :class:`~course_pkg.explore.live.ExplorableWidget` runs them (a
    :class:`~course_pkg.explore.frames.FrameRenderer` reusing its figure), timed separately.
    """
    renderer = FrameRenderer(explorable)
    renderer.rgb({})
    points = [p for p in explorable.grid_points() if p[0] != explorable.default_indices()]
    rng = np.random.default_rng(seed)
    stages: dict[str, list[float]] = {"compute": [], "draw": [], "raster": [], "png": []}
    for i in rng.choice(len(points), size=min(samples, len(points)), replace=False):
        values = {**explorable.defaults(), **points[int(i)][1]}
        t0 = time.process_time()
        explorable.compute(**values)
        t1 = time.process_time()
        fig = renderer.figure(values)  # compute again (now cached where the explorable caches) + draw
        t2 = time.process_time()
        fig.canvas.draw()
        t3 = time.process_time()
        encode_png(np.asarray(fig.canvas.buffer_rgba()))
        t4 = time.process_time()
        stages["compute"].append((t1 - t0) * 1000)
        stages["draw"].append(max(0.0, (t2 - t1) - (t1 - t0)) * 1000)
        stages["raster"].append((t3 - t2) * 1000)
        stages["png"].append((t4 - t3) * 1000)
    return {k: statistics.median(v) for k, v in stages.items()}


def savefig_ms(explorable: Explorable, samples: int = SAMPLES, seed: int = 0) -> float:
    """Median CPU milliseconds of the straightforward redraw, at the points :func:`live_ms` samples.

    The reference pipeline (what the widget did before it was tuned): compute + draw on a fresh figure with the
    measured axes boxes but automatic title placement, then ``fig.savefig(format="png")`` (matplotlib's print
    machinery around the draw, zlib level 6). Compute caches are warm from :func:`live_ms` here, which favours
    it.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    widget = ExplorableWidget(explorable)
    boxes = [pos[:4] for pos in widget.renderer.positions]
    points = [p for p in explorable.grid_points() if p[0] != explorable.default_indices()]
    rng = np.random.default_rng(seed)
    cpu = []
    for i in rng.choice(len(points), size=min(samples, len(points)), replace=False):
        start = time.process_time()
        fig = explorable.render(points[int(i)][1], boxes)
        FigureCanvasAgg(fig)
        fig.savefig(io.BytesIO(), format="png", dpi=widget.dpi)
        cpu.append((time.process_time() - start) * 1000)
    return statistics.median(cpu)


def static_bytes(explorable: Explorable) -> int:
    """Bytes of the static figure: its HTML and every frame file it refers to (from the build cache)."""
    import json
    import re

    from course_pkg.explore.static import default_cache_dir

    html = explorable.static_html()
    folder = json.loads(re.search(r"var base = (\".*?\");", html).group(1)).split("/")[1]
    files = sum(p.stat().st_size for p in (default_cache_dir() / folder).glob("f*.webp"))
    return len(html.encode("utf-8")) + files


def _empty_compute(flag: bool) -> dict:
    return {"flag": flag}


def _empty_draw(result: dict, fig) -> None:
    fig.subplots().plot([0, 1], [0, 1])


def main() -> None:
    """Print the budget table for every explorable."""
    reference = Explorable(
        "bench-reference", "reference", {"flag": Toggle(False, "f")}, _empty_compute, _empty_draw
    )
    ref_wall, ref_cpu = live_ms(reference, samples=3)
    rows = []
    for key, factory in all_explorables().items():
        e = factory()
        wall, cpu = live_ms(e)
        parts = breakdown_ms(e)
        parts["savefig"] = savefig_ms(e)
        start = time.perf_counter()
        size = static_bytes(e)
        static_s = time.perf_counter() - start
        rows.append(
            (
                key,
                e.n_frames,
                wall,
                cpu,
                cpu / LIVE_BUDGET_MS,
                cpu / ref_cpu,
                size,
                size / MAX_BYTES,
                static_s,
                parts,
            )
        )
    print(f"reference (an empty figure): live redraw {ref_wall:.1f} ms wall, {ref_cpu:.1f} ms CPU")
    print("budget: live redraw median <= 100 ms (judged on CPU time), static figure <= 2 MB")
    print(
        "CPU ms per stage (separate run): compute | draw (artists) | raster (Agg) | png (encode_png, zlib level 1)"
    )
    header = (
        f"{'explorable':40s} {'frames':>6s} {'wall ms':>8s} {'CPU ms':>7s} {'/100ms':>7s} {'/ref':>5s} "
        f"{'savefig':>7s} {'compute':>7s} {'draw':>5s} {'raster':>6s} {'png':>4s} {'static MB':>9s} {'/2MB':>5s} {'static s':>8s}"
    )
    print(header)
    print("-" * len(header))
    for key, frames, wall, cpu, ratio, rel, size, sratio, static_s, parts in rows:
        flag = "" if ratio <= 1 and sratio <= 1 else "  OVER BUDGET"
        print(
            f"{key:40s} {frames:6d} {wall:8.1f} {cpu:7.1f} {ratio:7.2f} {rel:5.1f} {parts['savefig']:7.1f} {parts['compute']:7.1f} "
            f"{parts['draw']:5.1f} {parts['raster']:6.1f} {parts['png']:4.1f} {size / 1e6:9.2f} {sratio:5.2f} "
            f"{static_s:8.1f}{flag}"
        )
    over = sum(1 for r in rows if r[4] > 1 or r[7] > 1)
    print(f"{len(rows)} explorables, {over} over budget")


if __name__ == "__main__":
    main()
