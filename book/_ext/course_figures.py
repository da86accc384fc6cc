"""Alt text for the figures that the chapters' code cells draw (``plt.show()``), from the figures themselves.

myst-nb writes each image output to a file and gives it no alt text, so the browser's alt is the file's path. The
figure knows better: its titles, axis labels and legend entries say what it shows. Two halves:

- **in the kernels** (:func:`install`, run by an IPython startup file that :func:`prepare_kernels` writes into a
  build-private ``IPYTHONDIR``): every PNG a figure is saved as carries ``describe(fig)`` in its ``Description``
  text chunk (what the inline backend sends to the notebook, so the downloaded notebook's images carry it too);
- **in the build** (:func:`set_figure_alt`, a ``doctree-resolved`` hook): an image without alt text whose PNG
  file has a ``Description`` gets it as alt text.

A cell can still set its own: myst-nb's cell metadata ``mystnb: {image: {alt: "..."}}`` wins.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

#: The PNG text chunk (a registered keyword of the PNG specification) that carries the description.
KEY = "Description"
_STARTUP = """# written by book/_ext/course_figures.py for the book build: PNGs of figures carry their description
import sys
sys.path.insert(0, {ext!r})
import course_figures
course_figures.install()
"""


def _clean(text: str) -> str:
    """A matplotlib text as plain words: mathtext's symbols as Unicode (``\\beta`` → β), ``$``, font commands,
    backslashes and braces dropped, spaces collapsed."""
    from matplotlib._mathtext_data import tex2uni

    text = re.sub(r"\\(mathrm|mathbf|mathit|mathcal|operatorname|text)\b", "", text)
    text = re.sub(r"\\([A-Za-z]+)", lambda m: chr(tex2uni[m[1]]) if m[1] in tex2uni else m[1], text)
    text = text.replace("$", "").replace("\\", "").replace("{", "").replace("}", "")
    return " ".join(text.split())


def describe(fig: Any) -> str:
    """What a figure shows, in words: its title, and each panel's title, axis labels and legend entries.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A drawn or undrawn figure.

    Returns
    -------
    str
        For example ``"Figure: Loss curves. Panel 1 of 2: training loss; x axis: step t; y axis: loss L(θ_t);
        legend: SGD, Adam."``; ``"Figure with 1 panel (no titles or labels)."`` when nothing is labelled.
    """
    suptitle = getattr(fig, "_suptitle", None)
    parts = []
    if suptitle is not None and _clean(suptitle.get_text()):
        parts.append(f"Figure: {_clean(suptitle.get_text())}.")
    axes = [ax for ax in fig.axes if ax.get_visible() and not hasattr(ax, "_colorbar")]
    bars = [ax for ax in fig.axes if hasattr(ax, "_colorbar")]
    for k, ax in enumerate(axes, 1):
        items = []
        titles = [_clean(t.get_text()) for t in (ax._left_title, ax.title, ax._right_title)]
        items += [t for t in titles if t]
        if _clean(ax.get_xlabel()):
            items.append(f"x axis: {_clean(ax.get_xlabel())}")
        if _clean(ax.get_ylabel()):
            items.append(f"y axis: {_clean(ax.get_ylabel())}")
        legend = ax.get_legend()
        if legend is not None:
            entries = [_clean(t.get_text()) for t in legend.get_texts() if _clean(t.get_text())]
            if entries:
                items.append("legend: " + ", ".join(entries))
        if items:
            where = f"Panel {k} of {len(axes)}: " if len(axes) > 1 else ""
            parts.append(where + "; ".join(items) + ".")
    for ax in bars:
        label = _clean(ax.get_ylabel() or ax.get_xlabel())
        if label:
            parts.append(f"Colour scale: {label}.")
    for legend in fig.legends:
        entries = [_clean(t.get_text()) for t in legend.get_texts() if _clean(t.get_text())]
        if entries:
            parts.append("Legend: " + ", ".join(entries) + ".")
    if not parts:
        n = len(axes)
        return f"Figure with {n} panel{'s' if n != 1 else ''} (no titles or labels)."
    return " ".join(parts)


def install() -> None:
    """Make every PNG that a figure is saved as carry :func:`describe` of the figure (unless the caller passes
    its own ``metadata``); called in the kernels of the book build."""
    from matplotlib.backend_bases import FigureCanvasBase

    if getattr(FigureCanvasBase.print_figure, "_course_figures", False):
        return
    original = FigureCanvasBase.print_figure

    def print_figure(self: Any, filename: Any, *args: Any, **kwargs: Any) -> Any:
        fmt = kwargs.get("format") or (
            Path(os.fspath(filename)).suffix.lstrip(".") if isinstance(filename, str | os.PathLike) else None
        )
        if (fmt or "").lower() == "png" and "metadata" not in kwargs:
            kwargs["metadata"] = {KEY: describe(self.figure)}
        return original(self, filename, *args, **kwargs)

    print_figure._course_figures = True  # type: ignore[attr-defined]
    FigureCanvasBase.print_figure = print_figure


def prepare_kernels(build_dir: Path) -> Path:
    """Write a private IPython directory whose startup file runs :func:`install`, and point ``IPYTHONDIR`` at it
    (the notebook kernels that the build starts inherit the environment). Returns the directory."""
    ipython = Path(build_dir) / ".ipython-book"
    startup = ipython / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    script = startup / "00-course-figures.py"
    text = _STARTUP.format(ext=str(Path(__file__).resolve().parent))
    if not script.is_file() or script.read_text(encoding="utf-8") != text:
        script.write_text(text, encoding="utf-8")
    os.environ["IPYTHONDIR"] = str(ipython)
    return ipython


def png_description(path: str | os.PathLike[str]) -> str | None:
    """The ``Description`` text chunk of a PNG file (``None`` if the file is not a PNG or has none)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            text = getattr(image, "text", {}) or {}
            return text.get(KEY) or None
    except (OSError, UnidentifiedImageError, ValueError):
        return None


def _image_file(app: Any, node: Any, docname: str) -> Path | None:
    uri = node.get("candidates", {}).get("*") or node.get("uri", "")
    if not uri or "://" in uri or uri.startswith("data:"):
        return None
    for base in (Path(app.srcdir), Path(app.srcdir) / Path(docname).parent):
        path = Path(uri) if Path(uri).is_absolute() else base / uri
        if path.is_file():
            return path
    return None


def set_figure_alt(app: Any, doctree: Any, docname: str) -> None:
    """``doctree-resolved`` hook: an image with no alt text whose PNG carries a description gets it as alt."""
    from docutils import nodes

    for node in doctree.findall(nodes.image):
        if node.get("alt"):
            continue
        path = _image_file(app, node, docname)
        text = png_description(path) if path is not None else None
        if text:
            node["alt"] = text
