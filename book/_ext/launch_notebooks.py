"""The ``.ipynb`` twin of every chapter, which the launch buttons open (Colab, Binder, JupyterHub).

Chapters are written as MyST-Markdown notebooks (``book/<part>/<name>.md``). Google Colab opens only ``.ipynb``
files, and a fresh Colab or Binder kernel has no ``course_pkg``. So next to every chapter lies a generated
``<name>.ipynb``: the chapter's cells (converted by jupytext, without outputs) after one setup cell that installs the
companion package from the repository named in ``_config.yml`` when ``course_pkg`` is not importable (and does
nothing in a checkout or the book build). sphinx-book-theme points every launch button at an ``.ipynb`` that lies
next to the page's source; the book build itself ignores them (``exclude_patterns`` in ``_config.yml``).

Colab and JupyterLab render plain (CommonMark) markdown, not MyST, so the markdown cells are translated
(:func:`to_jupyter_markdown`): admonitions become block quotes; exercises are numbered like the book's and their
solutions fold into ``<details>``; ``{cite}`` becomes author–year text and ``{bibliography}`` a reference list;
numbered equations carry ``\tag{n}`` and ``{eq}`` references their number; ``{doc}`` links the twin notebook;
``{glue:text}`` values (computed when the notebook runs) are named in code style. The setup cell installs the
course with the versions ``requirements.txt`` pins for the packages the course depends on.

Usage (from the repository root)::

    python book/_ext/launch_notebooks.py          # (re)write the notebooks: ``make notebooks``
    python book/_ext/launch_notebooks.py --check  # exit 1 and name the stale ones (the tests do this)
"""

from __future__ import annotations

import argparse
import functools
import re
import sys
from dataclasses import dataclass, field
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
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", {requirements}])
    importlib.invalidate_caches()"""

INTRO = """\
*{title}* — a chapter of the course **Optimization for Deep Learning**, as a notebook.
Run the first cell once: it installs the course where it is missing (Colab, Binder). Numbers that the text quotes
from the computations appear as the `names` of the values that the notebook's code computes."""


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


def pinned_requirements() -> list[str]:
    """What the setup cell installs: the course package, and for each package it depends on (``pyproject.toml``)
    the line of ``requirements.txt`` that pins it (the versions the book is built and tested with)."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    name = re.compile(r"^\s*([A-Za-z0-9_.-]+)")
    depends = {name.match(d).group(1).lower().replace("_", "-") for d in project["dependencies"]}
    pins = []
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        match = name.match(line)
        if match and match.group(1).lower().replace("_", "-").split("[")[0] in depends:
            pins.append(line)
    return pins


# ------------------------------------------------------------------------------------ MyST → Jupyter markdown

ADMONITIONS = {
    "note": "Note",
    "tip": "Tip",
    "hint": "Hint",
    "important": "Important",
    "warning": "Warning",
    "caution": "Caution",
    "attention": "Attention",
    "danger": "Danger",
    "error": "Error",
    "seealso": "See also",
}
_DIRECTIVE = re.compile(r"^(?P<indent>\s*)(?P<fence>:{3,}|`{3,})\{(?P<name>[\w:-]+)\}\s*(?P<arg>.*?)\s*$")
_FENCE = re.compile(r"^\s*(?P<fence>`{3,}|~{3,})")
_ROLE = re.compile(r"\{(?P<role>[\w:-]+)\}`(?P<content>[^`]*)`")
_EQ_END = re.compile(r"^\s*\$\$\s*\((?P<label>[^)]+)\)\s*$")


@dataclass
class Book:
    """What a chapter's text refers to across the book: equation and exercise numbers, chapter titles, papers."""

    equations: dict[str, tuple[str, int]] = field(default_factory=dict)  # label → (chapter stem, number)
    exercises: dict[str, tuple[str, int]] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)  # chapter stem → title
    bibliography: object = None  # pybtex BibliographyData


def _people(entry: object) -> list:
    return entry.persons.get("author") or entry.persons.get("editor") or []


def _last(person: object) -> str:
    return " ".join(person.prelast_names + person.last_names).replace("{", "").replace("}", "")


def author_year(entry: object) -> tuple[str, str]:
    """("Kingma and Ba", "2015"), ("Dauphin et al.", "2014"): how the book cites ``entry``."""
    people = _people(entry)
    if not people:
        who = entry.fields.get("organization") or entry.fields.get("title", "")
    elif len(people) == 1:
        who = _last(people[0])
    elif len(people) == 2:
        who = f"{_last(people[0])} and {_last(people[1])}"
    else:
        who = f"{_last(people[0])} et al."
    return who.replace("{", "").replace("}", ""), entry.fields.get("year", "n.d.")


@functools.cache
def book() -> Book:
    """Numbers and titles of every chapter (in ``_toc.yml`` order, numbered per chapter as the book does)."""
    from pybtex.database import parse_file

    found = Book(bibliography=parse_file(str(ROOT / "book" / "references.bib")))
    for chapter in chapters():
        text = chapter.read_text(encoding="utf-8")
        stem = chapter.stem
        heading = re.search(r"^# (.+)$", text, re.M)
        found.titles[stem] = heading.group(1).strip() if heading else stem
        for number, label in enumerate(re.findall(_EQ_END.pattern, text, re.M), start=1):
            found.equations[label] = (stem, number)
        number = 0
        lines = text.splitlines()
        for i, line in enumerate(lines):
            if re.match(r"^\s*:{3,}\{exercise\}", line):  # colon fences are markdown, never code
                number += 1
                for option in lines[i + 1 : i + 6]:
                    if option.strip().startswith(":label:"):
                        found.exercises[option.split(":label:", 1)[1].strip()] = (stem, number)
    return found


def _cite(keys: str, textual: bool) -> str:
    cited = []
    for key in (k.strip() for k in keys.split(",")):
        entry = book().bibliography.entries.get(key)
        if entry is None:
            raise ValueError(f"{{cite}}`{key}`: no such key in book/references.bib")
        cited.append(author_year(entry))
    if textual:
        return "; ".join(f"{who} ({year})" for who, year in cited)
    return "(" + "; ".join(f"{who}, {year}" for who, year in cited) + ")"


def _role(match: re.Match, chapter: str) -> str:
    role, content = match.group("role"), match.group("content")
    explicit = re.match(r"^(?P<text>.*?)\s*<(?P<target>[^>]+)>$", content, re.S)
    text, target = (explicit.group("text"), explicit.group("target")) if explicit else (None, content)
    if role in ("cite", "cite:p", "cite:ps", "cite:alp"):
        return _cite(content, textual=False)
    if role in ("cite:t", "cite:ts", "cite:author"):
        return _cite(content, textual=True)
    if role == "eq":
        if target not in book().equations:
            raise ValueError(f"{{eq}}`{target}` in {chapter}: no numbered equation with that label")
        return f"({book().equations[target][1]})"
    if role in ("glue:text", "glue", "glue:any", "glue:md"):
        return f"`{content.split(':', 1)[0]}`"
    if role == "doc":
        stem = Path(target).name
        title = text or book().titles.get(stem, stem)
        return f"[{title}]({stem}.ipynb)" if stem in book().titles else title
    if role in ("ref", "numref"):
        if target in book().exercises:
            number = book().exercises[target][1]
            return text or f"Exercise {number}"
        return text or target
    if role.startswith("py:") or role in ("code", "literal"):
        return f"`{text or target}`"
    return text or target  # any other role: its text


def _inline(line: str, chapter: str) -> str:
    return _ROLE.sub(lambda m: _role(m, chapter), line)


def _quote(lines: list[str]) -> list[str]:
    return [f"> {line}" if line.strip() else ">" for line in lines]


def _bibliography(keys: list[str]) -> list[str]:
    from pybtex.backends.plaintext import Backend
    from pybtex.style.formatting.plain import Style

    entries = [book().bibliography.entries[k] for k in dict.fromkeys(keys)]
    formatted = {e.key: e for e in Style().format_entries(entries)}
    order = sorted(entries, key=lambda e: (author_year(e), e.key))
    lines = []
    for e in order:
        text = " ".join(formatted[e.key].text.render(Backend()).split())
        text = re.sub(r"\\url\s*\{?([^\s}]+)\}?", r"<\1>", text)
        lines.append(f"- **{', '.join(author_year(e))}.** {text}")
    return lines


def to_jupyter_markdown(source: str, chapter: str, cited: list[str] | None = None) -> str:
    """A MyST markdown cell of ``chapter`` (a stem) as plain Jupyter markdown (see the module docstring).

    ``cited`` collects the keys cited so far in the chapter (for its ``{bibliography}``)."""
    cited = [] if cited is None else cited
    lines = source.split("\n")
    return "\n".join(_convert(lines, chapter, cited))


def _convert(lines: list[str], chapter: str, cited: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        directive = _DIRECTIVE.match(line)
        fence = _FENCE.match(line)
        if directive:
            marker = directive.group("fence")
            end = i + 1
            while end < len(lines):
                stripped = lines[end].strip()
                if stripped and set(stripped) == {marker[0]} and len(stripped) >= len(marker):
                    break
                end += 1
            body = lines[i + 1 : end]
            options = {}
            while body and re.match(r"^\s*:[\w-]+:", body[0]):
                key, _, value = body.pop(0).strip()[1:].partition(":")
                options[key] = value.strip()
            while body and not body[0].strip():
                body.pop(0)
            out.extend(
                _directive(directive.group("name"), directive.group("arg"), options, body, chapter, cited)
            )
            i = end + 1
            continue
        if fence:  # a code block: verbatim up to its closing fence
            marker = fence.group("fence")
            out.append(line)
            i += 1
            while i < len(lines):
                out.append(lines[i])
                closing = lines[i].strip()
                i += 1
                if closing and set(closing) == {marker[0]} and len(closing) >= len(marker):
                    break
            continue
        if re.match(r"^\s*\([\w:.-]+\)=\s*$", line):  # a MyST target: the twin has no cross-page anchors
            i += 1
            continue
        equation = _EQ_END.match(line)
        if equation:
            number = book().equations[equation.group("label")][1]
            indent = line[: len(line) - len(line.lstrip())]
            out.extend([f"{indent}\\tag{{{number}}}", f"{indent}$$"])
            i += 1
            continue
        # a role whose content runs onto the next line (MyST allows it): convert the two lines together
        while re.search(r"\{[\w:-]+\}`[^`]*$", line) and i + 1 < len(lines) and lines[i + 1].strip():
            i += 1
            line = f"{line}\n{lines[i]}"
        cited.extend(
            k.strip()
            for m in _ROLE.finditer(line)
            if m.group("role").startswith("cite")
            for k in m.group("content").split(",")
        )
        out.append(_inline(line, chapter))
        i += 1
    return out


def _directive(
    name: str, arg: str, options: dict, body: list[str], chapter: str, cited: list[str]
) -> list[str]:
    inner = _convert(body, chapter, cited)
    if name == "admonition" or name in ADMONITIONS:
        title = _inline(arg, chapter) if arg else ADMONITIONS.get(name, name.title())
        return _quote([f"**{title}**", "", *inner]) + [""]
    if name == "exercise":
        number = book().exercises.get(options.get("label", ""), (chapter, ""))[1]
        title = f" ({_inline(arg, chapter)})" if arg else ""
        return [f"**Exercise {number}**{title}", "", *_quote(inner), ""]
    if name == "solution":
        number = book().exercises.get(arg.strip(), (chapter, ""))[1]
        return [
            f"<details><summary><b>Solution to Exercise {number}</b></summary>",
            "",
            *inner,
            "",
            "</details>",
            "",
        ]
    if name == "bibliography":
        return _bibliography(cited)
    return [*inner, ""]  # any other directive: its content


def notebook_text(chapter: Path) -> str:
    """The ``.ipynb`` twin of ``chapter`` (an ``.md`` MyST notebook), as the text written to disk."""
    import jupytext
    import nbformat

    url, branch = repository()
    nb = jupytext.read(chapter)
    cited: list[str] = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = to_jupyter_markdown(cell.source, chapter.stem, cited)
    requirements = ", ".join(repr(r) for r in [f"optdl-course @ git+{url}@{branch}", *pinned_requirements()])
    intro = nbformat.v4.new_markdown_cell(INTRO.format(title=book().titles.get(chapter.stem, chapter.stem)))
    setup = nbformat.v4.new_code_cell(SETUP_SOURCE.format(requirements=requirements))
    nb.cells[:0] = [intro, setup]
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
