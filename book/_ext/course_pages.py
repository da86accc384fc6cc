"""Page-level parts of the course book: what every page carries besides its chapter (set up by ``course_book``).

- **Light pages.** MathJax loads as its startup component with only TeX input, CommonHTML output and the
  assistive MathML (the combined ``tex-chtml`` component also carries the 420 kB context menu); the theme's
  Font Awesome bundle (1.5 MB, every icon of the free set) is cut down to the icons the built pages use.
- **Phones.** ``course-book.js`` makes the ☰ and "On this page" buttons of the article header open their
  sidebars (pydata-sphinx-theme 0.17 binds only the first ``.primary-toggle`` of a page, which sphinx-book-theme
  1.3 hides; newer releases of both need Sphinx 8, which Jupyter Book 1 does not allow), and ``course-book.css``
  keeps every page inside the screen (long inline code wraps, wide equations scroll in their own box).
- **Dark mode** keeps figures on white; **reference lists** are labelled author–year like the citations;
  sphinx-exercise's repeated ``exercise-content``/``solution-content`` ids become unique per exercise.
- **Offline search**: Sphinx fetches each result's page for its excerpt, which browsers refuse over ``file://``;
  ``search-pages.js`` (loaded by the search page only) carries each page's text and answers those requests there.
- **Figures have alt text**: what each ``plt.show()`` figure shows (titles, axis labels, legends), from
  ``course_figures.py``, instead of the image file's path.
- **Launch buttons follow the repository**: ``BOOK_REPOSITORY_URL`` / ``BOOK_REPOSITORY_BRANCH`` (set by the
  GitHub workflows from the GitHub context) replace ``repository.url``/``branch`` of ``_config.yml``.
"""

from __future__ import annotations

import html
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "book" / "_vendor"
STATIC = ROOT / "book" / "_assets" / "static"
# MathJax's startup component plus what the pages need; extensions the TeX input lacks load on demand (autoload)
MATHJAX_STARTUP = "mathjax/startup.js"
MATHJAX_LOAD = ["input/tex", "output/chtml", "a11y/assistive-mml"]
FONTAWESOME = Path("_static") / "scripts" / "fontawesome.js"
SEARCH_PAGES = "search-pages.js"

logger = logging.getLogger(__name__)


def _configure(app: Sphinx, config: Config) -> None:
    config.html_static_path = [*config.html_static_path, str(STATIC)]
    if (VENDOR / MATHJAX_STARTUP).is_file():
        config.mathjax_path = MATHJAX_STARTUP
        mathjax = dict(config.mathjax3_config or {})
        mathjax["loader"] = {**mathjax.get("loader", {}), "load": MATHJAX_LOAD}
        config.mathjax3_config = mathjax
    url, branch = os.environ.get("BOOK_REPOSITORY_URL"), os.environ.get("BOOK_REPOSITORY_BRANCH")
    options = config.html_theme_options
    if url:
        options["repository_url"] = url.rstrip("/")
    if branch:
        options["repository_branch"] = branch


# ---------------------------------------------------------------------------------------------- unique HTML ids


def _unique_exercise_ids(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """``exercise-content``/``solution-content`` → ``<label>-content`` (or a per-page counter)."""
    counter = 0
    for section in doctree.findall(nodes.section):
        ids = section["ids"]
        for generic in ("exercise-content", "solution-content"):
            if generic not in ids:
                continue
            owner = section.parent
            label = next(iter(getattr(owner, "get", lambda *_: [])("ids", []) or []), None)
            counter += 1
            unique = f"{label}-content" if label else f"{generic}-{counter}"
            section["ids"] = [unique if i == generic else i for i in ids]
            section["classes"] = [*section["classes"], generic]


# ------------------------------------------------------------------------------------------ author-year lists


def _register_author_year_style() -> None:
    """A pybtex style ``author_year``: the ``plain`` style (sorted by author, year, title) with labels such as
    "Kingma and Ba, 2015" or "Dauphin et al., 2014" instead of numbers, matching the author–year citations."""
    from pybtex.plugin import register_plugin
    from pybtex.style.formatting.plain import Style as Plain
    from pybtex.style.labels import BaseLabelStyle

    def last_names(person: Any) -> str:
        return " ".join(person.prelast_names + person.last_names).replace("{", "").replace("}", "")

    class AuthorYearLabels(BaseLabelStyle):
        def format_labels(self, sorted_entries):  # noqa: ANN001, ANN201 - pybtex's interface
            labels = []
            for entry in sorted_entries:
                people = entry.persons.get("author") or entry.persons.get("editor") or []
                if not people:
                    who = entry.fields.get("organization") or entry.fields.get("title", entry.key)
                elif len(people) == 1:
                    who = last_names(people[0])
                elif len(people) == 2:
                    who = f"{last_names(people[0])} and {last_names(people[1])}"
                else:
                    who = f"{last_names(people[0])} et al."
                labels.append(f"{who}, {entry.fields.get('year', 'n.d.')}")
            # the same authors in the same year: 2015a, 2015b
            for label in set(labels):
                positions = [i for i, other in enumerate(labels) if other == label]
                if len(positions) > 1:
                    for letter, i in zip("abcdefghijklmnopqrstuvwxyz", positions, strict=False):
                        labels[i] = f"{label}{letter}"
            yield from labels

    class AuthorYear(Plain):
        default_label_style = "author_year"

    register_plugin("pybtex.style.labels", "author_year", AuthorYearLabels, force=True)
    register_plugin("pybtex.style.formatting", "author_year", AuthorYear, force=True)


# ------------------------------------------------------------------------------------------------ slim icons

_PACK = re.compile(r"var p=\{(.*?)\};!function\(c\)\{try\{", re.S)
_ICON = re.compile(
    r'(?:"(?P<q>[^"]+)"|(?P<n>[A-Za-z0-9_$]+)):\[\d+,\d+,\[(?P<aliases>[^\]]*)\],"[^"]*",'
    r'(?:"(?:[^"\\]|\\.)*"|\[(?:"(?:[^"\\]|\\.)*",?)*\])\]'
)


def slim_fontawesome(source: str, used: set[str]) -> str:
    """``fontawesome.js`` with only the icons named in ``used`` (names or aliases) left in its three packs.

    Raises ``ValueError`` when the bundle does not have the expected shape (then the full file stays)."""
    packs = list(_PACK.finditer(source))
    if len(packs) != 3:
        raise ValueError(f"expected 3 icon packs in fontawesome.js, found {len(packs)}")
    out, last = [], 0
    for pack in packs:
        body = pack.group(1)
        icons = list(_ICON.finditer(body))
        if ",".join(m.group(0) for m in icons) != body:
            raise ValueError("an icon pack of fontawesome.js could not be parsed")
        keep = []
        for m in icons:
            names = {m.group("q") or m.group("n")} | set(re.findall(r'"([^"]+)"', m.group("aliases")))
            if names & used:
                keep.append(m.group(0))
        out.append(source[last : pack.start(1)])
        out.append(",".join(keep))
        last = pack.end(1)
    out.append(source[last:])
    return "".join(out)


_FA_CLASS_RULE = re.compile(r'\.fa-[^{}]*\{content:"[^"]*"\}')


def icon_codepoints(outdir: Path, used: set[str]) -> set[int]:
    """The Font Awesome code points a built site can draw with the webfonts: the glyphs that the stylesheets put
    in pseudo-elements (admonition icons, dropdown arrows; the ``.fa-<name>`` class rules aside), and those of
    the icons the pages name (``used``), shown as text until fontawesome.js swaps them for SVG."""
    codes: set[int] = set()
    for css in (outdir / "_static").rglob("*.css"):
        text = _FA_CLASS_RULE.sub("", css.read_text(encoding="utf-8", errors="ignore"))
        codes.update(ord(ch) for ch in text if 0xE000 <= ord(ch) <= 0xF8FF)
        codes.update(int(h, 16) for h in re.findall(r"\\(f[0-9a-f]{3}|e[0-9a-f]{3})\b", text))
    fontawesome = outdir / FONTAWESOME
    if fontawesome.is_file():
        for m in _ICON.finditer(fontawesome.read_text(encoding="utf-8")):
            names = {m.group("q") or m.group("n")} | set(re.findall(r'"([^"]+)"', m.group("aliases")))
            if names & used:
                code = re.search(r'\],"([0-9a-f]+)",', m.group(0))
                if code:
                    codes.add(int(code.group(1), 16))
    return codes


def slim_webfonts(folder: Path, codes: set[int]) -> None:
    """Cut the Font Awesome webfonts in ``folder`` down to ``codes`` (WOFF2 and TTF alike)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    for path in sorted(folder.glob("fa-*")):
        flavor = {".woff2": "woff2", ".ttf": None}.get(path.suffix)
        if path.suffix not in (".woff2", ".ttf"):
            continue
        font = TTFont(str(path))
        options = subset.Options()
        options.flavor = flavor
        options.ignore_missing_unicodes = True
        options.notdef_outline = True
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=sorted(codes))
        subsetter.subset(font)
        font.flavor = flavor
        font.save(str(path))


def _used_icons(outdir: Path) -> set[str]:
    """Every ``fa-<name>`` token in the built pages and in the scripts they load (a superset of the icons)."""
    used: set[str] = set()
    vendored = {p.name for p in VENDOR.iterdir()} if VENDOR.is_dir() else set()  # MathJax, widgets: own icons
    files = list(outdir.rglob("*.html")) + [
        p
        for p in (outdir / "_static").rglob("*.js")
        if p.name != "fontawesome.js" and p.relative_to(outdir / "_static").parts[0] not in vendored
    ]
    for path in files:
        used.update(
            re.findall(r"\bfa-([a-z0-9][a-z0-9-]*)", path.read_text(encoding="utf-8", errors="ignore"))
        )
    return used


# --------------------------------------------------------------------------------------------- offline search


class _MainText(HTMLParser):
    """The reader's text of ``[role=main]``, keeping the ids of sections (the search's anchors)."""

    SKIP = {"script", "style", "svg", "button", "select", "noscript", "form", "template"}
    VOID = {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []  # open tags inside [role=main]: (tag, skipped)
        self.inside = False
        self.parts: list[str] = []

    def _skipping(self) -> bool:
        return any(skipped for _, skipped in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        if not self.inside:
            if attributes.get("role") == "main":
                self.inside = True
                self.stack = [(tag, False)]
            return
        if tag in self.VOID:
            return
        skipped = tag in self.SKIP or "headerlink" in attributes.get("class", "")
        self.stack.append((tag, skipped))
        if tag == "section" and not self._skipping():
            ident = attributes.get("id")
            self.parts.append(f'<section id="{html.escape(ident)}">' if ident else "<section>")

    def handle_endtag(self, tag: str) -> None:
        if not self.inside or tag in self.VOID:
            return
        # close up to the matching tag (tolerates unclosed <p>, <li> ...)
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                closed = self.stack[i:]
                del self.stack[i:]
                if tag == "section" and not self._skipping() and not any(s for _, s in closed):
                    self.parts.append("</section>")
                break
        if not self.stack:
            self.inside = False

    def handle_data(self, data: str) -> None:
        if self.inside and not self._skipping() and data.strip():
            self.parts.append(html.escape(" ".join(data.split())) + " ")


def page_search_html(page: str) -> str:
    """A small HTML document with the main text of ``page`` (sections keep their ids), for search excerpts."""
    parser = _MainText()
    parser.feed(page)
    return '<div role="main">' + "".join(parser.parts) + "</div>"


def _write_search_pages(outdir: Path, pagenames: list[str]) -> None:
    pages = {}
    for name in pagenames:
        path = outdir / f"{name}.html"
        if path.is_file():
            pages[f"{name}.html"] = page_search_html(path.read_text(encoding="utf-8"))
    script = (STATIC / "search-offline.js").read_text(encoding="utf-8")
    (outdir / "_static" / SEARCH_PAGES).write_text(
        f"window.COURSE_SEARCH_PAGES = {json.dumps(pages)};\n{script}", encoding="utf-8"
    )


def _page_context(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    # docutils gives each reference-list entry the ARIA role doc-biblioentry inside a role="list": axe-core flags
    # both (a list must hold list items, and doc-biblioentry is deprecated); the entries are items of that list
    if context.get("body"):
        context["body"] = context["body"].replace('role="doc-biblioentry"', 'role="listitem"')
    if pagename == "search":
        # only this page (Sphinx resets a page's scripts after it): the texts of every page, for the excerpts
        app.add_js_file(SEARCH_PAGES, loading_method="defer")


_SEARCH_SCRIPTS = re.compile(
    r'[ \t]*<script src="[^"]*(?:_static/searchtools\.js|_static/language_data\.js|searchindex\.js)"></script>\n?'
)


def drop_search_scripts(page: str) -> str:
    """``page`` without the search index and tools that pydata-sphinx-theme 0.17 loads, blocking, in every page's
    head for its search-as-you-type (off here: the search dialog opens the search page, which loads them)."""
    return _SEARCH_SCRIPTS.sub("", page)


def _readable_downloads(app: Sphinx, outdir: Path) -> None:
    """The executed ``.ipynb`` each chapter offers for download: with the outputs of its execution — myst-nb
    writes it without outputs when a chapter comes from the execution cache — and with its markdown as plain Jupyter
    markdown (like the launch twins: ``launch_notebooks.to_jupyter_markdown``)."""
    import nbformat
    from launch_notebooks import to_jupyter_markdown

    cache = None
    if app.config.nb_execution_mode == "cache":
        from jupyter_cache import get_cache

        folder = app.config.nb_execution_cache_path or str(Path(app.outdir).parent / ".jupyter_cache")
        cache = get_cache(folder)
    for path in (outdir / "_sources").rglob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        if cache is not None and not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"):
            try:
                _, nb = cache.merge_match_into_notebook(nb)
            except KeyError:
                logger.warning("%s: no cached execution to take the outputs from", path.relative_to(outdir))
        cited: list[str] = []
        try:
            for cell in nb.cells:
                if cell.cell_type == "markdown":
                    cell.source = to_jupyter_markdown(cell.source, path.stem, cited)
        except (KeyError, ValueError) as error:
            logger.warning("%s: download left in MyST markdown (%s)", path.relative_to(outdir), error)
        nbformat.write(nb, path)


def _finish(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    if not app.config.html_theme_options.get("search_as_you_type"):
        for path in outdir.rglob("*.html"):
            if path.name != "search.html":
                text = path.read_text(encoding="utf-8")
                slim = drop_search_scripts(text)
                if slim != text:
                    path.write_text(slim, encoding="utf-8")
    _readable_downloads(app, outdir)
    fontawesome = outdir / FONTAWESOME
    used = _used_icons(outdir)
    if fontawesome.is_file():
        try:
            slim = slim_fontawesome(fontawesome.read_text(encoding="utf-8"), used)
        except ValueError as error:
            logger.warning("fontawesome.js left whole: %s", error)
        else:
            fontawesome.write_text(slim, encoding="utf-8")
    webfonts = outdir / "_static" / "vendor" / "fontawesome" / "webfonts"
    if webfonts.is_dir():
        try:
            slim_webfonts(webfonts, icon_codepoints(outdir, used))
        except ImportError as error:  # fontTools (with matplotlib) or brotli (WOFF2) missing
            logger.warning("Font Awesome webfonts left whole: %s", error)
    if app.builder.name == "html":
        _write_search_pages(outdir, [d for d in app.env.found_docs if not d.startswith("_")])


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the page-level hooks (called by ``course_book``)."""
    import course_figures  # book/_ext is on sys.path (a local extension's folder)

    # figures drawn by the chapters get alt text from their titles and labels (before any kernel starts)
    course_figures.prepare_kernels(ROOT / "_build")
    app.connect("doctree-resolved", course_figures.set_figure_alt)
    _register_author_year_style()
    app.connect("config-inited", _configure, priority=910)
    app.connect("doctree-resolved", _unique_exercise_ids)
    app.connect("html-page-context", _page_context)
    app.connect("build-finished", _finish)
    app.add_css_file("course-book.css")
    app.add_js_file("course-book.js", loading_method="defer")
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
