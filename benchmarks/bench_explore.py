"""Explorable budgets: live compute + redraw time (≤ 100 ms median) and static figure size (≤ 2 MB).

For every explorable of the course (each ``course_pkg.explore`` chapter module's ``EXPLORABLES``):

- **live**: the median time of one control change in the ipywidgets rendering (compute + draw + PNG), over a
  seeded sample of grid points, after one warm-up redraw;
- **static**: the size of the self-contained HTML figure embedded in the book (from the build cache when the book
  was built, otherwise rendered now).

Ratios are against the budgets (ratio ≤ 1: within budget); the reference line measures the fixed cost of the same
pipeline on an empty figure in the same run, so that a slow machine is visible as a slow reference.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from course_pkg.explore import Explorable, Toggle, all_explorables
from course_pkg.explore.live import ExplorableWidget
from course_pkg.explore.static import MAX_BYTES

LIVE_BUDGET_MS = 100.0
SAMPLES = 7


def live_ms(explorable: Explorable, samples: int = SAMPLES, seed: int = 0) -> tuple[float, float]:
    """Median wall-clock and CPU milliseconds of one live redraw at ``samples`` random grid points.

    CPU time (this process) excludes the time spent waiting for a core on a busy machine; on an idle machine the
    two agree for these single-threaded redraws.
    """
    widget = ExplorableWidget(explorable)  # first draw: measures the layout, warms caches
    points = list(explorable.grid_points())
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
        start = time.perf_counter()
        size = len(e.static_html().encode("utf-8"))
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
            )
        )
    print(f"reference (an empty figure): live redraw {ref_wall:.1f} ms wall, {ref_cpu:.1f} ms CPU")
    print("budget: live redraw median <= 100 ms (judged on CPU time), static figure <= 2 MB")
    header = (
        f"{'explorable':42s} {'frames':>6s} {'wall ms':>8s} {'CPU ms':>7s} {'/100ms':>7s} {'/ref':>5s} "
        f"{'static MB':>9s} {'/2MB':>5s} {'static s':>8s}"
    )
    print(header)
    print("-" * len(header))
    for key, frames, wall, cpu, ratio, rel, size, sratio, static_s in rows:
        flag = "" if ratio <= 1 and sratio <= 1 else "  OVER BUDGET"
        print(
            f"{key:42s} {frames:6d} {wall:8.1f} {cpu:7.1f} {ratio:7.2f} {rel:5.1f} {size / 1e6:9.2f} {sratio:5.2f} "
            f"{static_s:8.1f}{flag}"
        )
    over = sum(1 for r in rows if r[4] > 1 or r[7] > 1)
    print(f"{len(rows)} explorables, {over} over budget")


if __name__ == "__main__":
    main()
