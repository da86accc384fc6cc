"""Static rendering: every grid point precomputed, embedded as self-contained HTML with inline JS.

The figure needs no kernel and no network: frames are WebP images in ``data:`` URIs, controls are plain HTML
(``<input type="range">`` for grids, ``<select>`` for choices, ``<input type="checkbox">`` for toggles) and a few
lines of inline JavaScript swap the image when a control moves. Frames are rendered in parallel (a process pool,
``spawn`` context so that a parent which used OpenMP or CUDA is never forked; each task draws a run of consecutive
grid points into one reused figure, see :class:`~course_pkg.explore.core.FrameRenderer`) and the finished HTML is
cached on disk, keyed by the explorable's name and a hash of its parameters, figure options and the source code it
depends on.
"""

from __future__ import annotations

import base64
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

from course_pkg.explore.core import (
    Choice,
    Explorable,
    FrameRenderer,
    Toggle,
    default_positions,
    rasterize,
)

#: Size budget of one static explorable in the page, in bytes.
MAX_BYTES = 2_000_000
#: Environment variable: directory of the on-disk cache (default: ``<book root>/_build/.explore-cache``).
CACHE_ENV = "COURSE_EXPLORE_CACHE"
#: Environment variable: number of worker processes (default: the CPUs available to this process, at most 8).
WORKERS_ENV = "COURSE_EXPLORE_WORKERS"
#: WebP settings tried in order until the frames fit the budget (see :func:`encode_webp`): lossless first, then
#: smaller and smaller palettes (crisp lines, fewer colours), then lossy qualities.
QUALITIES: tuple[str, ...] = ("lossless", "p128", "p64", "p32", "p16", "q50", "q35")
#: Bumped whenever rendering or encoding of frames changes, so that cached frames are rebuilt (the HTML and JS
#: around them are assembled at every display and need no bump).
FORMAT_VERSION = "2"

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

    The reference the frames of :class:`~course_pkg.explore.core.FrameRenderer` (reused figure, text cache) are
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
    args: tuple[Explorable, list[dict[str, Any]], float, list[tuple[float, ...]] | None],
) -> list[np.ndarray]:
    """Render consecutive grid points with one :class:`~course_pkg.explore.core.FrameRenderer` (one reused figure)."""
    explorable, points, dpi, positions = args
    renderer = FrameRenderer(explorable, dpi, positions)
    return [renderer.rgb(params) for params in points]


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
        quantized.convert("RGB").save(buf, format="WEBP", lossless=True, quality=80, method=4)
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


def render_frames(explorable: Explorable, dpi: float = 80, workers: int | None = None) -> list[np.ndarray]:
    """Render every grid point, in C order (last parameter fastest), in parallel.

    Parameters
    ----------
    explorable : Explorable
        The explorable.
    dpi : float
        Resolution of the frames.
    workers : int, optional
        Worker processes; ``1`` renders in this process. Default: :func:`default_workers`.

    Returns
    -------
    list of numpy.ndarray
        One RGB image per grid point.
    """
    workers = default_workers() if workers is None else int(workers)
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    positions = default_positions(explorable, dpi)
    points = [params for _, params in explorable.grid_points()]
    if workers == 1 or len(points) < 4 or not _spawn_safe():
        return _render_chunk((explorable, points, dpi, positions))
    # consecutive grid points per task: each task draws its frames into one reused figure
    size = max(1, -(-len(points) // (4 * workers)))
    tasks = [(explorable, points[i : i + size], dpi, positions) for i in range(0, len(points), size)]
    return [frame for chunk in _executor(workers).map(_render_chunk, tasks) for frame in chunk]


def encode_frames(
    frames: Sequence[np.ndarray], max_bytes: int = MAX_BYTES, qualities: Sequence[str] = QUALITIES
) -> tuple[list[str], list[int], str]:
    """Encode frames as base64 WebP, deduplicated, at the best setting that fits ``max_bytes``.

    A setting is first tried on a sample of frames; the whole set is encoded only with a setting whose
    extrapolated size fits (and checked again on the real total).

    Parameters
    ----------
    frames : sequence of numpy.ndarray
        RGB images.
    max_bytes : int
        Budget for the encoded frames (base64 text), leaving room for the HTML around them.
    qualities : sequence of str
        Settings tried in order (see :func:`encode_webp`).

    Returns
    -------
    images : list of str
        Distinct base64-encoded WebP images.
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
    # identical frames (a parameter without effect in some state) are stored once
    digests: dict[bytes, int] = {}
    index: list[int] = []
    unique: list[np.ndarray] = []
    for f in frames:
        d = hashlib.sha1(f.tobytes()).digest() + repr(f.shape).encode()
        if d not in digests:
            digests[d] = len(unique)
            unique.append(f)
        index.append(digests[d])
    step = max(1, len(unique) // 8)
    sample = unique[::step]
    total = 0
    for setting in qualities:
        estimate = sum(len(encode_webp(f, setting)) for f in sample) * len(unique) / len(sample) * 4 / 3
        if estimate > 1.05 * max_bytes and setting != qualities[-1]:
            continue
        images = [base64.b64encode(encode_webp(f, setting)).decode("ascii") for f in unique]
        total = sum(len(s) for s in images)
        if total <= max_bytes:
            return images, index, setting
    raise ValueError(
        f"static frames take {total} bytes even with WebP setting {qualities[-1]!r}, over the budget of "
        f"{max_bytes} bytes: use fewer grid points, a smaller figsize or a lower dpi"
    )


# -- cache ------------------------------------------------------------------------------------------------------
#: Rendering modules: what they do to frames is versioned by FORMAT_VERSION, not by their source.
_NOT_FOLLOWED = {"course_pkg.explore.static", "course_pkg.explore.live"}


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
    """Delete all but the ``keep`` most recent cached entries of one explorable (older code versions)."""
    entries = sorted(
        (p for p in directory.glob(f"{name}-*.json") if p.stem[len(name) + 1 :].isalnum()),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for stale in entries[keep:]:
        stale.unlink(missing_ok=True)


# -- HTML -------------------------------------------------------------------------------------------------------
_CSS = """
#{uid} {{ border: 1px solid #d0d7de; border-radius: 6px; padding: 0.6em 0.8em; margin: 1em 0; background: #fff; }}
#{uid} .explorable-title {{ font-weight: 600; margin-bottom: 0.4em; color: #24292f; }}
#{uid} .explorable-controls {{ display: flex; flex-wrap: wrap; gap: 0.4em 1.6em; align-items: center;
  margin-bottom: 0.5em; font-size: 0.92em; color: #24292f; }}
#{uid} .explorable-controls label {{ display: inline-flex; align-items: center; gap: 0.45em; margin: 0; }}
#{uid} .explorable-controls input[type=range] {{ width: 11em; }}
#{uid} .explorable-controls output {{ font-family: monospace; min-width: 4.5em; display: inline-block; }}
#{uid} img {{ max-width: 100%; height: auto; display: block; margin: 0 auto; }}
"""

_JS = """
(function () {{
  var root = document.getElementById({uid_json});
  if (!root) {{ return; }}
  var images = {images};
  var index = {index};
  var shape = {shape};
  var labels = {labels};
  var img = root.querySelector("img");
  var controls = root.querySelectorAll("input[data-param-pos], select[data-param-pos]");
  function position(el) {{
    if (el.type === "checkbox") {{ return el.checked ? 1 : 0; }}
    return parseInt(el.value, 10);
  }}
  function update() {{
    var flat = 0;
    for (var k = 0; k < controls.length; k++) {{
      var el = controls[k];
      var p = parseInt(el.getAttribute("data-param-pos"), 10);
      var i = position(el);
      flat = flat * shape[p] + i;
      var out = root.querySelector("output[data-param-pos='" + p + "']");
      if (out) {{ out.textContent = labels[p][i]; }}
    }}
    img.src = "data:image/webp;base64," + images[index[flat]];
    root.setAttribute("data-frame", String(flat));
  }}
  for (var k = 0; k < controls.length; k++) {{
    controls[k].addEventListener("input", update);
    controls[k].addEventListener("change", update);
  }}
  update();
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
    if isinstance(grid, Choice):
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
        f'{html.escape(labels[grid.default_index])}"> <output data-param-pos="{pos}">'
        f"{html.escape(labels[grid.default_index])}</output></label>"
    )


def build_html(explorable: Explorable, images: list[str], index: list[int], uid: str) -> str:
    """Assemble the self-contained HTML figure.

    Parameters
    ----------
    explorable : Explorable
        The explorable.
    images : list of str
        Distinct base64 WebP frames.
    index : list of int
        Image position of every grid point (C order).
    uid : str
        Unique element id on the page.

    Returns
    -------
    str
        HTML with inline CSS and JS; no external resource.
    """
    controls = "\n".join(
        _control_html(pos, key, grid, uid) for pos, (key, grid) in enumerate(explorable.params.items())
    )
    default_flat = int(np.ravel_multi_index(explorable.default_indices(), explorable.shape))
    alt = html.escape(f"{explorable.title} (interactive figure: move the controls to change it)")
    js = _JS.format(
        uid_json=json.dumps(uid),
        images=json.dumps(images),
        index=json.dumps(index, separators=(",", ":")),
        shape=json.dumps(list(explorable.shape)),
        labels=json.dumps([g.labels() for g in explorable.params.values()]),
    )
    return (
        f'<div class="explorable" id="{uid}" data-explorable="{html.escape(explorable.name)}" '
        f'data-frames="{explorable.n_frames}">\n'
        f"<style>{_CSS.format(uid=uid)}</style>\n"
        f'<div class="explorable-title">{html.escape(explorable.title)}</div>\n'
        f'<div class="explorable-controls">\n{controls}\n</div>\n'
        f'<img alt="{alt}" src="data:image/webp;base64,{images[index[default_flat]]}">\n'
        f"<script>{js}</script>\n</div>"
    )


def render_static_html(
    explorable: Explorable,
    dpi: float = 80,
    max_bytes: int = MAX_BYTES,
    workers: int | None = None,
    cache: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
) -> str:
    """The static rendering of an explorable, from the on-disk cache when nothing changed.

    Parameters
    ----------
    explorable : Explorable
        The explorable.
    dpi : float
        Resolution of the frames.
    max_bytes : int
        Budget of the whole HTML in bytes (frames get what is left after the controls and script).
    workers : int, optional
        Worker processes for rendering (default: :func:`default_workers`).
    cache : bool
        Read and write the on-disk cache.
    cache_dir : path, optional
        Cache directory (default: :func:`default_cache_dir`).

    Returns
    -------
    str
        The HTML (unique element id per display within a process).
    """
    key = cache_key(explorable, dpi, max_bytes)
    directory = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = directory / f"{explorable.name}-{key[:24]}.json"
    frames_data: dict[str, Any] | None = None
    if cache and path.is_file():
        try:
            frames_data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # a truncated file from an interrupted build: render again
            frames_data = None
    if frames_data is None:
        frames = render_frames(explorable, dpi=dpi, workers=workers)
        overhead = 20_000 + 12 * explorable.n_frames
        images, index, setting = encode_frames(frames, max_bytes=max_bytes - overhead)
        frames_data = {"images": images, "index": index, "setting": setting}
        if cache:
            directory.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".tmp{os.getpid()}")
            tmp.write_text(json.dumps(frames_data), encoding="utf-8")
            os.replace(tmp, path)
            _prune(directory, explorable.name, keep=3)
    # ids unique on the page: a second display of the same explorable in one process gets its own
    uid = f"explorable-{explorable.name}-{key[:8]}"
    count = _DISPLAY_COUNT.get(uid, 0)
    _DISPLAY_COUNT[uid] = count + 1
    if count:
        uid = f"{uid}-{count}"
    return build_html(explorable, frames_data["images"], frames_data["index"], uid)
