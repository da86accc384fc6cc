"""The ``.ipynb`` twin of every chapter, which the launch buttons open (Colab, Binder, JupyterHub).

Chapters are written as MyST-Markdown notebooks (``book/<part>/<name>.md``). Google Colab opens only ``.ipynb``
files, and a fresh Colab or Binder kernel has no ``course_pkg``. So next to every chapter lies a generated
``<name>.ipynb``: the chapter's cells (converted by jupytext, without outputs) after one setup cell that installs the
companion package from the repository named in ``_config.yml`` when ``course_pkg`` is not importable (and does
nothing in a checkout or the book build). sphinx-book-theme points every launch button at an ``.ipynb`` that lies
next to the page's source; the book build itself ignores them (``exclude_patterns`` in ``_config.yml``).

Usage (from the repository root)::

    python book/_ext/launch_notebooks.py          # (re)write the notebooks: ``make notebooks``
    python book/_ext/launch_notebooks.py --check  # exit 1 and name the stale ones (the tests do this)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SETUP_SOURCE = """\
# Setup for Google Colab, Binder or any Jupyter without the course installed: installs the companion package
# `course_pkg` from the course repository. Where it is already importable (a checkout), this does nothing.
import importlib
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("course_pkg") is None:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", "{requirement}"])
    importlib.invalidate_caches()"""


def repository() -> tuple[str, str]:
    """The repository URL and branch of ``_config.yml`` (the one setting the launch buttons use)."""
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    repo = config.get("repository") or {}
    if not repo.get("url"):
        raise ValueError("_config.yml has no repository.url")
    return str(repo["url"]).rstrip("/"), str(repo.get("branch") or "main")


def chapters() -> list[Path]:
    """Every chapter of ``_toc.yml`` that is a notebook (has a kernelspec), as ``.md`` paths."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]] + [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]
    found = []
    for name in files:
        path = ROOT / f"{name}.md"
        if path.is_file() and "kernelspec:" in path.read_text(encoding="utf-8").split("\n---", 1)[0]:
            found.append(path)
    return found


def notebook_text(chapter: Path) -> str:
    """The ``.ipynb`` twin of ``chapter`` (an ``.md`` MyST notebook), as the text written to disk."""
    import jupytext
    import nbformat

    url, branch = repository()
    nb = jupytext.read(chapter)
    setup = nbformat.v4.new_code_cell(SETUP_SOURCE.format(requirement=f"optdl-course @ git+{url}@{branch}"))
    nb.cells.insert(0, setup)
    # deterministic: stable cell ids, no outputs, only the metadata a notebook front end needs
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:03d}"
        if cell.cell_type == "code":
            cell["outputs"], cell["execution_count"] = [], None
    nb.metadata = nbformat.NotebookNode(
        kernelspec=nb.metadata.get(
            "kernelspec", {"name": "python3", "display_name": "Python 3", "language": "python"}
        ),
        language_info={"name": "python"},
    )
    nb.nbformat, nb.nbformat_minor = 4, 5
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check`` verify) the ``.ipynb`` twin of every chapter; the exit status says if all agree."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check that the notebooks are up to date")
    args = parser.parse_args(argv)
    stale = []
    every = chapters()
    for chapter in every:
        target = chapter.with_suffix(".ipynb")
        text = notebook_text(chapter)
        current = target.read_text(encoding="utf-8") if target.is_file() else None
        if current == text:
            continue
        stale.append(target.relative_to(ROOT))
        if not args.check:
            target.write_text(text, encoding="utf-8")
    if args.check and stale:
        print("out of date (run `make notebooks`):", *map(str, stale), sep="\n  ", file=sys.stderr)
        return 1
    if not args.check:
        print(f"{len(stale)} notebook(s) written, {len(every) - len(stale)} already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
