"""Static rendering: every grid point precomputed at build time, shown by plain HTML with a little inline JS.

The figure needs no kernel and no network. Frames are rendered at twice the CSS resolution (crisp on high-density
screens), cut into panels (tiles) along the gaps between the figure's columns of axes, and stored as WebP files
next to the page (``explore-frames/<name>-<key>/f<k>.webp``, copied there by :mod:`course_pkg.explore.book`);
the HTML holds only the default frame's ``<img src>`` (visible without JavaScript), the controls
(``<input type="range">`` for ordered values, ``<select>`` for unordered choices, ``<input type="checkbox">`` for
toggles) and a script that swaps the images when a control moves and fetches the frames one step away once the
explorable scrolls near or is touched. Panels sit side by side where the column is wide enough and stack on a
phone, each at its natural size. Frames are rendered in parallel (a process pool, ``spawn`` context so that a
parent which used OpenMP or CUDA is never forked; each task draws a run of consecutive grid points into one reused
figure, see :class:`~course_pkg.explore.frames.FrameRenderer`) and cached on disk, keyed by the explorable's name and
a hash of its parameters, figure options and the source code it depends on.
"""

from __future__ import annotations

import hashlib
import html
import inspect
import io
import json
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from course_pkg.explore import _mpl_private
from course_pkg.explore.core import Explorable, Toggle, is_slider, value_text
from course_pkg.explore.frames import FrameRenderer, default_positions, rasterize

#: Size budget of one static explorable (its frame files and HTML), in bytes.
MAX_BYTES = 2_000_000
#: Frames are rasterised at this many device pixels per CSS pixel (2: crisp on high-density screens).
DENSITY = 2
#: Folder, next to the page, holding the frame files (one subfolder per explorable).
FRAMES_DIR = "explore-frames"
#: Name of the file that describes the frames of one explorable in its cache folder.
MANIFEST = "manifest.json"
#: Narrowest panel cut out of a figure, in inches.
MIN_TILE_INCHES = 1.6
#: Environment variable: directory of the on-disk cache (default: ``<book root>/_build/.explore-cache``).
CACHE_ENV = "COURSE_EXPLORE_CACHE"
#: Environment variable: number of worker processes (default: the CPUs available to this process, at most 8).
WORKERS_ENV = "COURSE_EXPLORE_WORKERS"
#: WebP settings tried in order until the frames fit the budget (see :func:`encode_webp`): lossless first, then
#: smaller and smaller palettes (crisp lines, fewer colours), then lossy qualities.
QUALITIES: tuple[str, ...] = ("lossless", "p128", "p64", "p32", "p16", "q50", "q35")
#: Bumped whenever rendering or encoding of frames changes, so that cached frames are rebuilt (the HTML and JS
#: around them are assembled at every display and need no bump).
FORMAT_VERSION = "6"

_EXECUTOR: Executor | None = None
_EXECUTOR_WORKERS = 0
_DISPLAY_COUNT: dict[str, int] = {}


# -- frames -----------------------------------------------------------------------------------------------------
def render_rgb(
    explorable: Explorable,
    params: dict[str, Any],
    dpi: float,
    positions: list[tuple[float, ...]] | None = None,
) -> np.ndarray:
    """Compute and draw one frame on a new figure and rasterize it with matplotlib's own Agg canvas.

    The reference the frames of :class:`~course_pkg.explore.frames.FrameRenderer` (reused figure, text cache) are
    tested against, pixel for pixel.

    Parameters
    ----------
    explorable : Explorable
        The explorable.
    params : dict
        One grid point.
    dpi : float
        Resolution of the raster.
    positions : list of tuple, optional
        Fixed axes positions (see :meth:`Explorable.render`); default: constrained layout.

    Returns
    -------
    numpy.ndarray
        ``(height, width, 3)`` uint8 RGB image.
    """
    fig = explorable.render(params, positions)
    fig.set_dpi(dpi)
    return rasterize(fig)


def _render_chunk(
    args: tuple[Explorable, list[dict[str, Any]], float, list[tuple[float, ...]] | None, bool],
) -> list[Any]:
    """Render consecutive grid points with one :class:`~course_pkg.explore.frames.FrameRenderer` (one reused figure);
    with ``extents``, each frame comes with the horizontal extents of its columns (see :func:`column_extents`)."""
    explorable, points, dpi, positions, extents = args
    renderer = FrameRenderer(explorable, dpi, positions)
    out: list[Any] = []
    for params in points:
        fig = renderer.figure(params)
        rgb = rasterize(fig)
        out.append((rgb, column_extents(fig)) if extents else rgb)
    return out


def column_extents(fig: Any) -> list[tuple[float, float]]:
    """Horizontal pixel extents ``(x0, x1)`` of what a drawn figure shows, one per axes (with its ticks, labels,
    title and legend) and one per figure-level text or legend; a colour bar's extent reaches back to the axes on
    its left, so that no cut separates them.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A figure that has just been drawn (rasterised).

    Returns
    -------
    list of tuple
        Pixel intervals, left to right in creation order.
    """
    renderer = fig.canvas.get_renderer()
    plain: list[tuple[float, float]] = []
    bars: list[tuple[float, float]] = []
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        bb = ax.get_tightbbox(renderer)
        if bb is None:
            continue
        (bars if _mpl_private.is_colorbar_axes(ax) else plain).append((float(bb.x0), float(bb.x1)))
    for artist in [*fig.texts, *fig.legends]:  # (a suptitle is one of fig.texts)
        if artist.get_visible() and (not hasattr(artist, "get_text") or artist.get_text()):
            bb = artist.get_window_extent(renderer)
            plain.append((float(bb.x0), float(bb.x1)))
    for x0, x1 in bars:
        left = [p1 for _, p1 in plain if p1 <= x0 + 1.0]
        plain.append(((max(left) - 1.0) if left else x0, x1))
    return plain


def tile_cuts(extents: Sequence[tuple[float, float]], width: int, min_width: int, step: int = 1) -> list[int]:
    """Where to cut a figure into panels: the middle of every gap that no extent crosses.

    Parameters
    ----------
    extents : sequence of (x0, x1)
        Pixel extents of everything drawn, over all frames (see :func:`column_extents`).
    width : int
        Width of the frames in pixels.
    min_width : int
        Narrowest panel in pixels; narrower ones are merged with their neighbour.
    step : int
        Cuts are multiples of ``step`` (the density, so that every panel has a whole CSS width).

    Returns
    -------
    list of int
        Cut positions, increasing, strictly inside ``(0, width)``; empty when the figure is one panel.
    """
    spans = sorted((max(0.0, x0), min(float(width), x1)) for x0, x1 in extents if x1 > x0)
    merged: list[list[float]] = []
    for x0, x1 in spans:
        if merged and x0 <= merged[-1][1] + 1.0:
            merged[-1][1] = max(merged[-1][1], x1)
        else:
            merged.append([x0, x1])
    cuts = [int(round((a[1] + b[0]) / 2 / step)) * step for a, b in zip(merged, merged[1:])]
    # every panel at least min_width wide: drop the cut closest to a too-narrow panel until all are wide enough
    while cuts:
        edges = [0, *cuts, width]
        widths = [b - a for a, b in zip(edges, edges[1:])]
        narrow = min(range(len(widths)), key=widths.__getitem__)
        if widths[narrow] >= min_width:
            break
        if narrow == 0:
            cuts.pop(0)
        elif narrow == len(widths) - 1:
            cuts.pop()
        else:  # merge with the narrower neighbour
            cuts.pop(narrow - 1 if widths[narrow - 1] <= widths[narrow + 1] else narrow)
    return cuts


def _worker_init() -> None:
    # the parent (a notebook kernel) is interrupted or shut down with SIGINT: let it, not the workers, handle it
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def encode_webp(rgb: np.ndarray, setting: str) -> bytes:
    """Encode an RGB image as WebP.

    Parameters
    ----------
    rgb : numpy.ndarray
        ``(height, width, 3)`` uint8 image.
    setting : str
        ``"lossless"``; ``"p<N>"``: quantized to an ``N``-colour palette (no dithering), then lossless, which
        suits line art like matplotlib plots; ``"q<N>"``: lossy with quality ``N`` (0-100).

    Returns
    -------
    bytes
        The WebP file.

    Raises
    ------
    ValueError
        If ``setting`` is not one of these forms.
    """
    from PIL import Image

    buf = io.BytesIO()
    image = Image.fromarray(rgb, mode="RGB")
    if setting == "lossless":
        image.save(buf, format="WEBP", lossless=True, quality=80, method=4)
    elif setting[:1] == "p" and setting[1:].isdigit():
        quantized = image.quantize(
            int(setting[1:]), method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE
        )
        # the palette's nearest colour to white is often a tint: keep the white background exactly white
        pixels = np.asarray(quantized.convert("RGB")).copy()
        pixels[np.all(rgb == 255, axis=-1)] = 255
        Image.fromarray(pixels, mode="RGB").save(buf, format="WEBP", lossless=True, quality=80, method=4)
    elif setting[:1] == "q" and setting[1:].isdigit():
        image.save(buf, format="WEBP", quality=int(setting[1:]), method=4)
    else:
        raise ValueError(f"unknown WebP setting {setting!r}: use 'lossless', 'p<colours>' or 'q<quality>'")
    return buf.getvalue()


def default_workers() -> int:
    """Worker processes used to render frames (``COURSE_EXPLORE_WORKERS`` or the available CPUs, at most 8)."""
    env = os.environ.get(WORKERS_ENV)
    if env:
        if not env.isdigit() or int(env) < 1:
            raise ValueError(f"{WORKERS_ENV} must be a positive integer, got {env!r}")
        return int(env)
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        n = os.cpu_count() or 1
    return max(1, min(n, 8))


def _spawn_safe() -> bool:
    """Whether ``spawn`` workers can start: they re-import ``__main__``, which needs a module name or a file."""
    import sys

    main = sys.modules.get("__main__")
    if main is None or getattr(main.__spec__, "name", None) is not None:
        return True
    path = getattr(main, "__file__", None)
    return path is None or Path(path).is_file()


def _executor(workers: int) -> Executor:
    """A process pool kept for the life of the process (kernels display several explorables)."""
    global _EXECUTOR, _EXECUTOR_WORKERS
    if _EXECUTOR is None or _EXECUTOR_WORKERS != workers:
        if _EXECUTOR is not None:
            _EXECUTOR.shutdown(cancel_futures=True)
        _EXECUTOR = ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_init
        )
        _EXECUTOR_WORKERS = workers
    return _EXECUTOR


def render_frames(
    explorable: Explorable, dpi: float = 80, workers: int | None = None, extents: bool = False
) -> Any:
    """Render every grid point, in C order (last parameter fastest), in parallel.

    Parameters
    ----------
    explorable : Explorable
        The explorable.
    dpi : float
        Resolution of the frames.
    workers : int, optional
        Worker processes; ``1`` renders in this process. Default: :func:`default_workers`.
    extents : bool
        Also return the column extents of every frame (see :func:`column_extents`).

    Returns
    -------
    list of numpy.ndarray
        One RGB image per grid point; with ``extents``, a list of ``(image, extents)`` pairs.
    """
    workers = default_workers() if workers is None else int(workers)
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    positions = default_positions(explorable, dpi)
    points = [params for _, params in explorable.grid_points()]
    if workers == 1 or len(points) < 4 or not _spawn_safe():
        return _render_chunk((explorable, points, dpi, positions, extents))
    # consecutive grid points per task: each task draws its frames into one reused figure
    size = max(1, -(-len(points) // (4 * workers)))
    tasks = [(explorable, points[i : i + size], dpi, positions, extents) for i in range(0, len(points), size)]
    return [frame for chunk in _executor(workers).map(_render_chunk, tasks) for frame in chunk]


def encode_frames(
    frames: Sequence[np.ndarray], max_bytes: int = MAX_BYTES, qualities: Sequence[str] = QUALITIES
) -> tuple[list[bytes], list[int], str]:
    """Encode frames as WebP files, deduplicated, at the best setting that fits ``max_bytes``.

    A setting is first tried on a sample of frames; the whole set is encoded only with a setting whose
    extrapolated size fits (and checked again on the real total).

    Parameters
    ----------
    frames : sequence of numpy.ndarray
        RGB images.
    max_bytes : int
        Budget for the encoded frames, leaving room for the HTML around them.
    qualities : sequence of str
        Settings tried in order (see :func:`encode_webp`).

    Returns
    -------
    images : list of bytes
        Distinct WebP images.
    index : list of int
        For every frame, the position of its image in ``images``.
    setting : str
        The setting used.

    Raises
    ------
    ValueError
        If even the last setting does not fit: use fewer grid points, a smaller figure or a lower dpi.
    """
    if not qualities:
        raise ValueError("encode_frames needs at least one WebP setting")
    # identical frames (a parameter without effect in some state, a panel that does not change) are stored once
    digests: dict[bytes, int] = {}
    index: list[int] = []
    unique: list[np.ndarray] = []
    for f in frames:
        d = hashlib.sha1(f.tobytes()).digest() + repr(f.shape).encode()
        if d not in digests:
            digests[d] = len(unique)
            unique.append(f)
        index.append(digests[d])
    # one image drawn at random from each of 12 equal runs of the list: a regular stride would alias with the
    # panels of a frame (every 24th of 192 images cut from 64 frames of 3 panels is always the first panel,
    # and the estimate, that panel's size times 192, skipped palettes that fit); bytes per pixel, since panels
    # differ in width
    rng = np.random.default_rng(0)
    bounds = np.linspace(0, len(unique), min(len(unique), 12) + 1).astype(int)
    sample = [unique[int(rng.integers(a, b))] for a, b in zip(bounds, bounds[1:])]
    pixels = sum(f.shape[0] * f.shape[1] for f in unique) / sum(f.shape[0] * f.shape[1] for f in sample)
    total = 0
    for setting in qualities:
        estimate = sum(len(encode_webp(f, setting)) for f in sample) * pixels
        if estimate > 1.05 * max_bytes and setting != qualities[-1]:
            continue
        images = [encode_webp(f, setting) for f in unique]
        total = sum(len(s) for s in images)
        if total <= max_bytes:
            return images, index, setting
    raise ValueError(
        f"static frames take {total} bytes even with WebP setting {qualities[-1]!r}, over the budget of "
        f"{max_bytes} bytes: use fewer grid points, a smaller figsize or a lower dpi"
    )


# -- cache ------------------------------------------------------------------------------------------------------
#: Rendering modules: what they do to frames is versioned by FORMAT_VERSION, not by their source.
_NOT_FOLLOWED = {
    "course_pkg.explore.static",
    "course_pkg.explore.live",
    "course_pkg.explore.book",
    "course_pkg.explore.frames",
    "course_pkg.explore._textcache",
    "course_pkg.explore._mpl_private",
}


def _course_modules(fn: Any) -> list[Any]:
    """The module defining ``fn`` and every ``course_pkg`` module it reaches through its globals (transitively).

    A change in any of them (a helper, a landscape, an optimizer) changes the cache key; edits elsewhere in the
    package do not. The result must not depend on what else happens to be imported: a package's submodules
    appear as attributes of the package once imported anywhere, so module objects are followed only from plain
    modules (``import course_pkg.landscapes as L``), never from packages; functions and classes are followed to
    the module that defines them.
    """
    import sys
    import types

    start = sys.modules.get(getattr(fn, "__module__", "") or "")
    seen: dict[str, Any] = {}
    todo = [start] if start is not None else []
    while todo:
        module = todo.pop()
        if module.__name__ in seen:
            continue
        seen[module.__name__] = module
        is_package = hasattr(module, "__path__")
        for value in vars(module).values():
            if isinstance(value, types.ModuleType):
                if is_package:
                    continue
                name = value.__name__
            elif isinstance(value, type) or callable(value):
                name = getattr(value, "__module__", None) or ""
            else:
                continue
            if (
                (name == "course_pkg" or name.startswith("course_pkg."))
                and name not in seen
                and name not in _NOT_FOLLOWED
            ):
                dep = sys.modules.get(name)
                if dep is not None:
                    todo.append(dep)
    return [seen[k] for k in sorted(seen)]


def _modules_digest(*fns: Any) -> str:
    h = hashlib.sha256()
    modules = {m.__name__: m for fn in fns for m in _course_modules(fn)}
    for name in sorted(modules):
        h.update(name.encode())
        path = getattr(modules[name], "__file__", None)
        if path and Path(path).is_file():
            h.update(Path(path).read_bytes())
    return h.hexdigest()


def _source_of(fn: Any) -> str:
    try:
        return inspect.getsource(fn)
    except (OSError, TypeError):
        code = getattr(fn, "__code__", None)
        return repr(code.co_code) + repr(code.co_consts) if code is not None else repr(fn)


def cache_key(explorable: Explorable, dpi: float, max_bytes: int) -> str:
    """Key of the cached static HTML: name, grids, figure options, and the source code it depends on.

    Parameters
    ----------
    explorable : Explorable
        The explorable.
    dpi : float
        Resolution of the frames.
    max_bytes : int
        Budget of the frames.

    Returns
    -------
    str
        A hex digest.
    """
    import matplotlib
    import PIL

    h = hashlib.sha256()
    parts = [
        FORMAT_VERSION,
        explorable.name,
        explorable.title,
        repr(explorable.params),
        repr([g.values for g in explorable.params.values()]),
        repr(explorable.figsize),
        repr(dpi),
        repr(max_bytes),
        repr(QUALITIES),
        repr((DENSITY, MIN_TILE_INCHES)),
        _source_of(explorable.compute),
        _source_of(explorable.draw),
        _modules_digest(explorable.compute, explorable.draw),
        matplotlib.__version__,
        np.__version__,
        PIL.__version__,
    ]
    for p in parts:
        h.update(p.encode())
        h.update(b"\0")
    return h.hexdigest()


def default_cache_dir() -> Path:
    """Cache directory: ``COURSE_EXPLORE_CACHE``, else ``<book root>/_build/.explore-cache`` (the first parent
    of the working directory holding ``_config.yml``), else ``~/.cache/course_pkg/explore``."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env)
    cwd = Path.cwd().resolve()
    for d in (cwd, *cwd.parents):
        if (d / "_config.yml").is_file() and (d / "_toc.yml").is_file():
            return d / "_build" / ".explore-cache"
    return Path.home() / ".cache" / "course_pkg" / "explore"


def _prune(directory: Path, name: str, keep: int) -> None:
    """Delete all but the ``keep`` most recent cached folders of one explorable (older code versions)."""
    import shutil

    entries = sorted(
        (p for p in directory.glob(f"{name}-*") if p.is_dir() and p.name[len(name) + 1 :].isalnum()),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for stale in entries[keep:]:
        shutil.rmtree(stale, ignore_errors=True)


# -- HTML -------------------------------------------------------------------------------------------------------
_CSS = """
#{uid} {{ border: 1px solid #d0d7de; border-radius: 6px; padding: 0.6em 0.8em; margin: 1em 0; background: #fff;
  color: #24292f; max-width: 100%; box-sizing: border-box; }}
#{uid} .explorable-title {{ font-weight: 600; margin: 0 0 0.4em 0; font-size: 1em; }}
#{uid} .explorable-controls {{ display: flex; flex-wrap: wrap; gap: 0.5em 1.6em; align-items: center;
  margin-bottom: 0.5em; font-size: 0.95em; }}
#{uid} .explorable-controls label {{ display: inline-flex; flex-wrap: wrap; align-items: center; gap: 0.2em 0.5em;
  margin: 0; min-height: 32px; }}
#{uid} .explorable-controls input[type=range] {{ width: 11em; max-width: 60vw; height: 28px; margin: 0; }}
#{uid} .explorable-controls input[type=checkbox] {{ width: 24px; height: 24px; margin: 0; }}
#{uid} .explorable-controls select {{ min-height: 32px; font-size: 1em; padding: 0.15em 0.3em; }}
#{uid} .explorable-controls output {{ font-family: monospace; min-width: 4.5em; display: inline-block; }}
#{uid} .explorable-figure {{ display: flex; flex-wrap: wrap; justify-content: center; align-items: flex-start; }}
#{uid} .explorable-figure img {{ max-width: 100%; height: auto; display: block; }}
#{uid} .explorable-status {{ position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; border: 0;
  overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }}
"""

# Swaps the panels when a control moves. Frames are files next to the page (<img src> works over file://, where
# fetch/XHR would not); the ones one control step away are fetched once the explorable scrolls near or is touched.
_JS = """
(function () {{
  var root = document.getElementById({uid_json});
  if (!root) {{ return; }}
  var base = {base};
  var index = {index};
  var shape = {shape};
  var labels = {labels};
  var names = {names};
  var toggles = {toggles};
  var title = {title};
  var imgs = root.querySelectorAll(".explorable-figure img");
  var status = root.querySelector(".explorable-status");
  var controls = root.querySelectorAll("input[data-param-pos], select[data-param-pos]");
  var fetched = {{}};
  function url(k) {{ return base + "f" + k + ".webp"; }}
  function position(el) {{
    if (el.type === "checkbox") {{ return el.checked ? 1 : 0; }}
    return parseInt(el.value, 10);
  }}
  function current() {{
    var ix = [];
    for (var k = 0; k < controls.length; k++) {{ ix.push(position(controls[k])); }}
    return ix;
  }}
  function flatOf(ix) {{
    var flat = 0;
    for (var p = 0; p < ix.length; p++) {{ flat = flat * shape[p] + ix[p]; }}
    return flat;
  }}
  function say(p, i) {{ return toggles[p] ? names[p] + ": " + labels[p][i] : names[p] + " = " + labels[p][i]; }}
  function describe(ix) {{
    var parts = [];
    for (var p = 0; p < ix.length; p++) {{ parts.push(say(p, ix[p])); }}
    return parts.join(", ");
  }}
  function fetchFrame(flat) {{
    var files = index[flat];
    for (var t = 0; t < files.length; t++) {{
      if (!fetched[files[t]]) {{ fetched[files[t]] = new Image(); fetched[files[t]].src = url(files[t]); }}
    }}
  }}
  function prefetch(ix) {{
    for (var p = 0; p < ix.length; p++) {{
      for (var d = -1; d <= 1; d += 2) {{
        var j = ix[p] + d;
        if (j < 0 || j >= shape[p]) {{ continue; }}
        var next = ix.slice(); next[p] = j; fetchFrame(flatOf(next));
      }}
    }}
  }}
  function update() {{
    var ix = current();
    var flat = flatOf(ix);
    for (var k = 0; k < controls.length; k++) {{
      var el = controls[k];
      var p = parseInt(el.getAttribute("data-param-pos"), 10);
      if (el.type === "range") {{ el.setAttribute("aria-valuetext", say(p, ix[p])); }}
      var out = root.querySelector("output[data-param-pos='" + p + "']");
      if (out) {{ out.textContent = labels[p][ix[p]]; }}
    }}
    var text = describe(ix);
    for (var t = 0; t < imgs.length; t++) {{
      imgs[t].src = url(index[flat][t]);
      imgs[t].alt = title + (imgs.length > 1 ? " (panel " + (t + 1) + " of " + imgs.length + ")" : "") + ": " + text;
    }}
    root.setAttribute("data-frame", String(flat));
    if (status) {{ status.textContent = text; }}
    prefetch(ix);
  }}
  var touched = false;
  function touch() {{ if (!touched) {{ touched = true; prefetch(current()); }} }}
  for (var k = 0; k < controls.length; k++) {{
    controls[k].addEventListener("input", update);
    controls[k].addEventListener("change", update);
  }}
  root.addEventListener("focusin", touch);
  root.addEventListener("pointerdown", touch);
  if ("IntersectionObserver" in window) {{
    var seen = new IntersectionObserver(function (entries) {{
      for (var e = 0; e < entries.length; e++) {{
        if (entries[e].isIntersecting) {{ seen.disconnect(); touch(); }}
      }}
    }}, {{ rootMargin: "200px 0px" }});
    seen.observe(root);
  }}
}})();
"""


def _control_html(pos: int, key: str, grid: Any, uid: str) -> str:
    cid = f"{uid}-{key}"
    label = html.escape(grid.label)
    labels = grid.labels()
    if isinstance(grid, Toggle):
        checked = " checked" if grid.default else ""
        return (
            f'<label for="{cid}"><input type="checkbox" id="{cid}" data-param="{key}" '
            f'data-param-pos="{pos}"{checked}> {label}</label>'
        )
    if not is_slider(grid):
        options = "".join(
            f'<option value="{i}"{" selected" if i == grid.default_index else ""}>{html.escape(lab)}</option>'
            for i, lab in enumerate(labels)
        )
        return (
            f'<label for="{cid}">{label} <select id="{cid}" data-param="{key}" '
            f'data-param-pos="{pos}">{options}</select></label>'
        )
    return (
        f'<label for="{cid}">{label} <input type="range" id="{cid}" data-param="{key}" data-param-pos="{pos}" '
        f'min="0" max="{len(grid) - 1}" step="1" value="{grid.default_index}" aria-valuetext="'
        f'{html.escape(value_text(grid, grid.default_index))}"> <output for="{cid}" data-param-pos="{pos}">'
        f"{html.escape(labels[grid.default_index])}</output></label>"
    )


def describe_frame(explorable: Explorable, indices: Sequence[int]) -> str:
    """What the frame at grid ``indices`` shows, for its alt text: every parameter's value."""
    return ", ".join(value_text(g, i) for g, i in zip(explorable.params.values(), indices))


def build_html(explorable: Explorable, manifest: dict[str, Any], base: str, uid: str) -> str:
    """Assemble the HTML figure: controls, the default frame's panels and the script that swaps them.

    Parameters
    ----------
    explorable : Explorable
        The explorable.
    manifest : dict
        The frames (see :func:`render_static_html`): ``index`` (for every grid point in C order, the file number
        of each panel), ``tiles`` (the CSS width and height of each panel).
    base : str
        URL of the folder holding the frame files ``f<k>.webp``, relative to the page, ending with ``/``.
    uid : str
        Unique element id on the page.

    Returns
    -------
    str
        HTML with inline CSS and JS; its images are the frame files under ``base`` (no other resource).
    """
    controls = "\n".join(
        _control_html(pos, key, grid, uid) for pos, (key, grid) in enumerate(explorable.params.items())
    )
    default_flat = int(np.ravel_multi_index(explorable.default_indices(), explorable.shape))
    text = describe_frame(explorable, explorable.default_indices())
    tiles = manifest["tiles"]
    images = []
    for t, (w, h) in enumerate(tiles):
        panel = f" (panel {t + 1} of {len(tiles)})" if len(tiles) > 1 else ""
        alt = html.escape(f"{explorable.title}{panel}: {text}")
        src = html.escape(f"{base}f{manifest['index'][default_flat][t]}.webp")
        images.append(
            f'<img src="{src}" width="{w}" height="{h}" alt="{alt}" loading="lazy" decoding="async">'
        )
    grids = list(explorable.params.values())
    js = _JS.format(
        uid_json=json.dumps(uid),
        base=json.dumps(base),
        index=json.dumps(manifest["index"], separators=(",", ":")),
        shape=json.dumps(list(explorable.shape)),
        labels=json.dumps([g.labels() for g in grids], ensure_ascii=False),
        names=json.dumps([g.label for g in grids], ensure_ascii=False),
        toggles=json.dumps([isinstance(g, Toggle) for g in grids]),
        title=json.dumps(explorable.title, ensure_ascii=False),
    )
    return (
        f'<div class="explorable" id="{uid}" data-explorable="{html.escape(explorable.name)}" '
        f'data-frames="{explorable.n_frames}" data-frame="{default_flat}" data-density="{DENSITY}" '
        f'data-text-px="{manifest.get("text_px", "")}">\n'
        f"<style>{_CSS.format(uid=uid)}</style>\n"
        f'<p class="explorable-title" id="{uid}-title">{html.escape(explorable.title)}</p>\n'
        f'<div class="explorable-controls" role="group" aria-labelledby="{uid}-title">\n{controls}\n</div>\n'
        f'<div class="explorable-figure">{"".join(images)}</div>\n'
        f'<p class="explorable-status" aria-live="polite"></p>\n'
        f"<script>{js}</script>\n</div>"
    )


def _render_folder(
    explorable: Explorable, dpi: float, max_bytes: int, workers: int | None, folder: Path
) -> dict:
    """Render every frame, cut it into panels, encode them and write them, with their manifest, to ``folder``."""
    import shutil

    rendered = render_frames(explorable, dpi=dpi * DENSITY, workers=workers, extents=True)
    height, width = rendered[0][0].shape[:2]
    extents = [x for _, frame_extents in rendered for x in frame_extents]
    cuts = tile_cuts(extents, width, int(MIN_TILE_INCHES * dpi * DENSITY), step=DENSITY)
    edges = [0, *cuts, width]
    pieces = [rgb[:, a:b] for rgb, _ in rendered for a, b in zip(edges, edges[1:])]
    overhead = 30_000 + 12 * explorable.n_frames * len(edges)
    images, index, setting = encode_frames(pieces, max_bytes=max_bytes - overhead)
    n_tiles = len(edges) - 1
    manifest = {
        "text_px": smallest_text_px(explorable, dpi),
        "index": [index[i : i + n_tiles] for i in range(0, len(index), n_tiles)],
        "tiles": [[(b - a) // DENSITY, height // DENSITY] for a, b in zip(edges, edges[1:])],
        "setting": setting,
        "bytes": sum(len(b) for b in images),
    }
    tmp = folder.with_name(f"{folder.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for k, data in enumerate(images):
        (tmp / f"f{k}.webp").write_bytes(data)
    (tmp / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(tmp, folder)
    return manifest


def smallest_text_px(explorable: Explorable, dpi: float) -> float:
    """Size in CSS pixels of the smallest text of the default frame shown at its natural size (``dpi`` CSS pixels
    per inch): the browser tests multiply it by the scale a panel is displayed at."""
    from matplotlib.text import Text

    fig = explorable.render({})
    rasterize(fig)
    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    return round(min(sizes) * dpi / 72, 2)


def frames_folder(folder_name: str, cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The cache folder of one explorable's frames, by the folder name its HTML refers to
    (``explore-frames/<folder_name>/``)."""
    return (Path(cache_dir) if cache_dir is not None else default_cache_dir()) / folder_name


def render_static_html(
    explorable: Explorable,
    dpi: float = 80,
    max_bytes: int = MAX_BYTES,
    workers: int | None = None,
    cache: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
) -> str:
    """The static rendering of an explorable; its frames from the on-disk cache when nothing changed.

    The frame files are written to ``<cache_dir>/<name>-<key>/`` (with ``manifest.json``); the HTML refers to
    them as ``explore-frames/<name>-<key>/f<k>.webp``, relative to the page, and the book build copies the
    folder there (:mod:`course_pkg.explore.book`).

    Parameters
    ----------
    explorable : Explorable
        The explorable.
    dpi : float
        CSS pixels per inch of the figure: a figure ``w`` inches wide is shown ``w * dpi`` CSS pixels wide, and
        rasterised at :data:`DENSITY` times that.
    max_bytes : int
        Budget of the frame files and the HTML in bytes.
    workers : int, optional
        Worker processes for rendering (default: :func:`default_workers`).
    cache : bool
        Reuse frames already in the cache folder (they are always written there: the page needs the files).
    cache_dir : path, optional
        Cache directory (default: :func:`default_cache_dir`).

    Returns
    -------
    str
        The HTML (unique element id per display within a process).
    """
    key = cache_key(explorable, dpi, max_bytes)
    directory = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    folder = directory / f"{explorable.name}-{key[:24]}"
    manifest: dict[str, Any] | None = None
    if cache and (folder / MANIFEST).is_file():
        try:
            manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):  # a truncated file from an interrupted build: render again
            manifest = None
    if manifest is None:
        manifest = _render_folder(explorable, dpi, max_bytes, workers, folder)
        _prune(directory, explorable.name, keep=3)
    # ids unique on the page: a second display of the same explorable in one process gets its own
    uid = f"explorable-{explorable.name}-{key[:8]}"
    count = _DISPLAY_COUNT.get(uid, 0)
    _DISPLAY_COUNT[uid] = count + 1
    if count:
        uid = f"{uid}-{count}"
    return build_html(explorable, manifest, f"{FRAMES_DIR}/{folder.name}/", uid)
