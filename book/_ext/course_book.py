"""Sphinx extension of the course book (loaded through ``sphinx.local_extensions`` in ``_config.yml``).

- Explorables render **static** during the build: ``COURSE_EXPLORE_MODE=static`` is set before any notebook
  kernel starts (kernels inherit the environment), and their frames are cached under ``_build/.explore-cache``.
- The site works **offline**: MathJax, require.js and the ipywidgets embed manager are served from
  ``book/_vendor`` (filled by ``make assets`` from npm), never from a CDN.

Paths are resolved from this file, so single-page builds (``jupyter-book build book/<part>/<chapter>.md``) get
the same setup as the whole book.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "book" / "_vendor"
ASSETS = ROOT / "book" / "_assets"
MATHJAX = "mathjax/tex-chtml.js"
REQUIRE = "require.js"
EMBED = "widgets/embed-amd.js"

logger = logging.getLogger(__name__)


def _configure(app: Sphinx, config: Config) -> None:
    # bibliography paths in _config.yml are relative to the repository root; single-page builds use the
    # page's folder as source directory, so anchor them at the root
    config.bibtex_bibfiles = [
        p if (Path(app.srcdir) / p).is_file() else str(ROOT / p)
        for p in getattr(config, "bibtex_bibfiles", [])
    ]
    missing = [p for p in (MATHJAX, REQUIRE, EMBED) if not (VENDOR / p).is_file()]
    if missing:
        logger.warning(
            "offline assets missing under %s (%s): run `make assets`; pages would load them from CDNs",
            VENDOR,
            ", ".join(missing),
        )
        return
    config.html_static_path = [*config.html_static_path, str(VENDOR)]
    config.mathjax_path = MATHJAX
    # the widget manager, for pages that embed saved ipywidgets state; no `crossorigin` (breaks file://)
    config.nb_ipywidgets_js = {REQUIRE: {}, EMBED: {}}
    config.html_favicon = str(ASSETS / "favicon.svg")
    # /favicon.ico at the site root too: browsers ask for it on pages without an icon link (the redirecting index)
    config.html_extra_path = [*config.html_extra_path, str(ASSETS / "extra")]
    # an explicit colour mode: with none stored, the theme logs "Got invalid theme mode" as a console error
    config.html_context = {**config.html_context, "default_mode": "light"}


def _asset_key(asset: Any) -> tuple:
    # an inline script is registered once with filename None and once with "" (same body): one key for both
    filename = getattr(asset, "filename", asset)
    return (filename or "", tuple(sorted(getattr(asset, "attributes", {}).items())))


def _unique(assets: list[Any]) -> list[Any]:
    seen: set[tuple] = set()
    unique = []
    for asset in assets:
        if _asset_key(asset) not in seen:
            seen.add(_asset_key(asset))
            unique.append(asset)
    return unique


def _dedupe_assets(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    """Drop repeated <script>/<link> entries: sphinx-thebe and sphinx-togglebutton register their inline
    scripts again when ``env-before-read-docs`` fires twice, and a repeated ``const THEBE_JS_URL`` declaration
    is a JavaScript error on every page."""
    for key in ("script_files", "css_files"):
        if context.get(key):
            context[key] = _unique(list(context[key]))


def _singlehtml_inherits_html(app: Sphinx) -> None:
    """Give the single-page builder (``make pdf``) every HTML node visitor it lacks.

    Sphinx falls back from a builder's own node handlers to its format's only when the builder has none at all;
    sphinx-exercise registers ``singlehtml`` handlers, so e.g. myst-nb's hidden-input cells (registered for
    ``html`` only) would break the single-page build."""
    handlers = app.registry.translation_handlers
    single = handlers.setdefault("singlehtml", {})
    for node, visitors in handlers.get("html", {}).items():
        single.setdefault(node, visitors)


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the book's configuration hooks."""
    os.environ["COURSE_EXPLORE_MODE"] = "static"
    # the kernels inherit this process's environment: with MPLBACKEND=Agg (set by a Makefile or a shell) every
    # plt.show() draws nothing and the figure is missing from the page; without it ipykernel uses its inline backend
    os.environ.pop("MPLBACKEND", None)
    os.environ.setdefault("COURSE_EXPLORE_CACHE", str(ROOT / "_build" / ".explore-cache"))
    app.connect("config-inited", _configure, priority=900)
    app.connect("html-page-context", _dedupe_assets, priority=900)
    app.connect("builder-inited", _singlehtml_inherits_html)
    # page-level parts: light assets, phone navigation, dark mode, author-year lists, offline search
    app.setup_extension("course_pages")
    app.setup_extension("course_pkg.explore.book")  # copies each page's explorable frames next to it
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
