"""The import graph of ``course_pkg`` has no cycles, and every module imports on its own.

The graph is read from the source with :mod:`ast`, so that imports inside functions (the lazy ones, which hide a
cycle from the interpreter but not from a reader) count too. An edge ``a -> b`` means module ``a`` names module
``b`` in an ``import`` statement: ``import course_pkg.x.y`` and ``from course_pkg.x import y`` (``y`` a module)
give ``course_pkg.x.y``; ``from course_pkg.x import name`` gives ``course_pkg.x``. Python's implicit import of a
module's parent packages is not an edge (it goes from the package down, which is the direction packages are for).
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import course_pkg

ROOT = Path(course_pkg.__file__).parent


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = ["course_pkg", *path.relative_to(ROOT).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    base = package.split(".")
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """``module -> the course_pkg modules it imports`` (see the module docstring)."""
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                edges.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                source = _resolve(name, path, node)
                for alias in node.names:
                    sub = f"{source}.{alias.name}"
                    edges.add(sub if sub in modules else source)
        graph[name] = {e for e in edges if e in modules and e != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a list of nodes (the first repeated at the end), or ``None``."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_cycle_finder_finds_a_cycle_through_a_lazy_import(tmp_path: Path) -> None:
    """The checker itself: a lazy import inside a function closes a cycle it must report."""
    pkg = tmp_path / "course_pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "a.py").write_text("from course_pkg.sub import b\n")
    (pkg / "sub" / "b.py").write_text("def f():\n    from . import c\n")
    (pkg / "sub" / "c.py").write_text("import course_pkg.sub.a as A\n")
    (pkg / "sub" / "d.py").write_text("from course_pkg.sub.a import thing\n")
    modules = {f"course_pkg.sub.{n}": pkg / "sub" / f"{n}.py" for n in "abcd"} | {
        "course_pkg": pkg / "__init__.py",
        "course_pkg.sub": pkg / "sub" / "__init__.py",
    }
    graph = import_graph(modules)
    assert graph["course_pkg.sub.b"] == {"course_pkg.sub.c"}
    assert graph["course_pkg.sub.d"] == {"course_pkg.sub.a"}
    cycle = find_cycle(graph)
    assert cycle is not None and cycle[0] == cycle[-1]
    assert set(cycle) == {"course_pkg.sub.a", "course_pkg.sub.b", "course_pkg.sub.c"}
    (pkg / "sub" / "c.py").write_text("import numpy\n")
    assert find_cycle(import_graph(modules)) is None


def test_course_pkg_has_no_import_cycles() -> None:
    graph = import_graph(MODULES)
    assert graph["course_pkg.explore.core"] >= {"course_pkg.explore.frames"}  # the graph sees the package
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_explorable_framework_imports_go_one_way() -> None:
    """Declaration (core) -> frame renderer (frames) -> matplotlib gate; the views import the declaration, never
    the other way round."""
    graph = import_graph(MODULES)
    explore = "course_pkg.explore"
    assert not graph[f"{explore}._mpl_private"]
    assert graph[f"{explore}.frames"] <= {f"{explore}._mpl_private", f"{explore}._textcache"}
    assert graph[f"{explore}.core"] == {f"{explore}.frames"}
    for view in ("live", "static"):
        assert f"{explore}.core" in graph[f"{explore}.{view}"]
        assert all(f"{explore}.{view}" not in graph[m] for m in (f"{explore}.core", f"{explore}.frames"))


def test_every_module_imports() -> None:
    for name in sorted(MODULES):
        assert importlib.import_module(name).__name__ == name
