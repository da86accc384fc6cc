"""The book build's side of the static explorables: copy each page's frame files next to it.

A static explorable's HTML (:func:`course_pkg.explore.static.render_static_html`) refers to its frames as
``explore-frames/<name>-<key>/f<k>.webp``, relative to the page, and the notebook kernel that rendered it left
them in the explorable cache (``COURSE_EXPLORE_CACHE``). When Sphinx writes a page, :func:`copy_page_frames`
copies the folders the page refers to from the cache into ``explore-frames/`` beside the page's HTML file, so the
site (and ``file://``) serves them as ordinary, cacheable files. Load it as a Sphinx extension
(``app.setup_extension("course_pkg.explore.book")``).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from course_pkg.explore.static import FRAMES_DIR, MANIFEST, frames_folder

_REFERENCE = re.compile(re.escape(FRAMES_DIR) + r"/([a-z0-9-]+)/f\d+\.webp")


class MissingFramesError(RuntimeError):
    """A page shows an explorable whose frame files are not in the explorable cache."""


def referenced_folders(body: str) -> set[str]:
    """Names of the frame folders a page's HTML refers to."""
    return set(_REFERENCE.findall(body))


def copy_frames(body: str, page_dir: Path, cache_dir: str | Path | None = None) -> list[Path]:
    """Copy the frame folders ``body`` refers to from the cache into ``page_dir / explore-frames``.

    Parameters
    ----------
    body : str
        The page's HTML.
    page_dir : path
        Folder of the page's HTML file.
    cache_dir : path, optional
        The explorable cache (default: :func:`course_pkg.explore.static.default_cache_dir`).

    Returns
    -------
    list of Path
        The folders written.

    Raises
    ------
    MissingFramesError
        If a folder is not in the cache (the notebook's outputs were cached by jupyter-cache while the
        explorable cache was deleted: delete ``_build/.jupyter_cache`` too, or rebuild the chapter).
    """
    written = []
    for name in sorted(referenced_folders(body)):
        source = frames_folder(name, cache_dir)
        if not (source / MANIFEST).is_file():
            raise MissingFramesError(
                f"the frames of explorable {name!r} are not in {source.parent}: the page's outputs come from an "
                "older cache; delete _build/.jupyter_cache (or the whole _build) and build again"
            )
        target = Path(page_dir) / FRAMES_DIR / name
        if not (target / MANIFEST).is_file():
            shutil.copytree(source, target, dirs_exist_ok=True)
        written.append(target)
    return written


def copy_page_frames(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    """Sphinx ``html-page-context`` handler: copy the frames the page shows next to its HTML file."""
    body = context.get("body") or ""
    if FRAMES_DIR not in body:
        return
    copy_frames(body, Path(app.builder.get_outfilename(pagename)).parent)


def setup(app: Any) -> dict[str, Any]:
    """Register :func:`copy_page_frames`."""
    app.connect("html-page-context", copy_page_frames)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
