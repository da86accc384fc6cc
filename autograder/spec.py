"""Grading specifications: what the sandbox runs on the student's objects, and how the trusted side compares.

A spec is a Python file ``autograder/specs/<assignment>.py`` that defines ``SPEC = Spec(...)``. Each
:class:`Check` pairs

* ``run(namespace, device, dtype) -> dict`` — executed **inside the sandbox** on the namespace left by the notebook's
  code cells; returns tensors/arrays/numbers (plain data only travels back). It is shipped to the sandbox as a
  *probe*: serialised by value (``cloudpickle``) with only the globals it references, one check at a time, so the
  sandbox never holds the spec module, a reference, a tolerance or another check;
* ``reference(device, dtype) -> dict`` — executed **in the trusted grader** (torch.optim, course_pkg, scikit-learn);
* ``compare(student, reference, tol) -> list[str]`` — trusted; returns failure messages (empty: passed).
"""

from __future__ import annotations

import importlib.util
import math
import re
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autograder import cells as nbcells
from autograder.sandbox import TORCH_WARMUP, Limits

SPECS_DIR = Path(__file__).resolve().parent / "specs"
CHECKOUT_COURSE = Path(__file__).resolve().parents[1] / "assignments"  # only exists in a checkout
_PROBES: dict[tuple[str, str, str], bytes] = {}
_PROBE_LOCK = threading.Lock()
_LOAD_LOCK = threading.RLock()
_LOADING_COURSE: Path | None = None  # the course of the spec being imported by load_spec (under _LOAD_LOCK)


def instructor_notebook(assignment: str, course: str | Path | None = None) -> Path:
    """The instructor notebook ``source/<assignment>/<assignment>.ipynb`` a spec derives its checks from.

    Looked up in ``course`` (default: the course directory :func:`load_spec` was given, i.e. ``--course``), then
    in the checkout's ``assignments/`` (absent when the grader is installed from a wheel).
    """
    course = course if course is not None else _LOADING_COURSE
    tried = []
    for root in ([Path(course)] if course is not None else []) + [CHECKOUT_COURSE]:
        path = root / "source" / assignment / f"{assignment}.ipynb"
        if path.is_file():
            return path.resolve()
        tried.append(str(path))
    raise FileNotFoundError(
        f"no instructor notebook of {assignment!r} (the grading spec derives its checks from it): tried "
        + ", ".join(tried)
        + "; pass the course directory with --course"
    )


@dataclass(frozen=True)
class Tolerance:
    """Per-dtype tolerances of :func:`compare_outputs` (``|s - r| <= atol + rtol * |r|``)."""

    rtol: float = 1e-7
    atol: float = 1e-9
    rtol32: float = 1e-4
    atol32: float = 1e-5

    def for_dtype(self, dtype: str) -> tuple[float, float]:
        """``(rtol, atol)`` for a torch dtype name such as ``"float32"``."""
        return (self.rtol, self.atol) if dtype == "float64" else (self.rtol32, self.atol32)


@dataclass
class Check:
    """One graded property of a submission, scored inside the grade cell ``grade_id``.

    ``needs`` names the solution cells the check exercises (documentation; the mutation tests use it).
    ``replay`` (the instructor notebook's path) makes the check a replay of the notebook's own test cell
    ``grade_id`` (:mod:`autograder.replay`) instead of a ``run``/``reference`` pair.
    ``dtypes`` are the dtypes run on CUDA (CPU always runs float64). ``plot`` is the key of an array drawn against
    the reference in feedback. ``timeout_s`` overrides the spec's ``limits.check_s`` (CPU seconds). A ``hidden``
    check (from a notebook's hidden tests) appears in feedback and exports by name and verdict only.
    """

    name: str
    grade_id: str
    run: Callable[..., dict[str, Any]] | None = None
    reference: Callable[..., dict[str, Any]] | None = None
    description: str = ""
    compare: Callable[[dict[str, Any], dict[str, Any], tuple[float, float]], list[str]] | None = None
    tolerance: Tolerance = field(default_factory=Tolerance)
    weight: float = 1.0
    plot: str | None = None
    dtypes: tuple[str, ...] = ("float64",)
    needs: tuple[str, ...] = ()
    replay: str | None = None
    timeout_s: float | None = None
    hidden: bool = False


@dataclass
class Spec:
    """The hidden grading specification of one assignment (one notebook).

    Parameters
    ----------
    assignment, notebook : str
        nbgrader names (the notebook without ``.ipynb``).
    cells : list of str
        ``grade_id`` s of the solution cells (a missing one is reported). The sandbox runs *every* code cell of the
        notebook in order, as nbgrader does: locked cells from the instructor's version, test cells left out (the
        checks stand in for them).
    checks : list of Check
        What is graded; several checks of one grade cell share its points by weight.
    limits : Limits
        Sandbox limits per run.
    preload : list of str
        Modules the template imports before forking.
    warmup : str
        Trusted code the template runs once before forking (first-use imports).
    blocked : list of str
        Dotted names of library implementations the assignment asks students to write, made unusable in the
        sandbox (torch.optim's optimizers, schedulers and clipping are always blocked when torch is loaded).
    partial_credit : bool
        If False, a grade cell earns its points only when all its checks pass (nbgrader's rule), and the remaining
        checks of a cell are skipped after one of them fails by timing out or ending the process.
    """

    assignment: str
    notebook: str
    cells: list[str]
    checks: list[Check]
    limits: Limits = field(default_factory=Limits)
    preload: list[str] = field(default_factory=lambda: ["torch", "numpy"])
    warmup: str = TORCH_WARMUP
    blocked: list[str] = field(default_factory=list)
    partial_credit: bool = True
    path: str = ""
    course: str = ""

    def __post_init__(self) -> None:
        names = [c.name for c in self.checks]
        if len(set(names)) != len(names):
            raise ValueError(f"spec {self.assignment}: duplicate check names")
        for c in self.checks:
            if c.replay is None and (c.run is None or c.reference is None):
                raise ValueError(f"spec {self.assignment}: check {c.name} needs run and reference, or replay")

    def probe(self, name: str) -> bytes:
        """The sandbox side of check ``name``, serialised by value with only the globals it references.

        Spec modules are pickled by value (they are not importable in the sandbox); the public drivers of
        :mod:`autograder.optim_checks` and libraries by reference. Cached per check.
        """
        import cloudpickle

        with _PROBE_LOCK:
            key = (self.path, self.course, name)
            if key not in _PROBES:
                run = self.check(name).run
                module = sys.modules.get(getattr(run, "__module__", "") or "")
                if module is not None and module.__name__.startswith("autograder_spec_"):
                    cloudpickle.register_pickle_by_value(module)
                _PROBES[key] = cloudpickle.dumps(run)
            return _PROBES[key]

    def check(self, name: str) -> Check:
        """The check called ``name``."""
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(f"no check named {name!r} in spec {self.assignment}")

    def grade_ids(self) -> list[str]:
        """Grade cells scored by this spec, in order of first appearance."""
        return list(dict.fromkeys(c.grade_id for c in self.checks))


def notebook_cells(path: str | Path, grade_ids: list[str]) -> dict[str, str]:
    """Source of the named cells of an instructor notebook (trusted), without IPython magics (``%``/``!`` lines)."""
    import json

    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    out: dict[str, str] = {}
    for cell in nb["cells"]:
        gid = nbcells.grade_id(cell)
        if gid in grade_ids:
            src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            out[gid] = "\n".join(
                line for line in src.splitlines() if not line.lstrip().startswith(("%", "!"))
            )
    missing = [g for g in grade_ids if g not in out]
    if missing:
        raise ValueError(f"{path}: no cells {missing}")
    return out


def spec_path(assignment: str, specs_dir: Path | None = None, course: str | Path | None = None) -> Path:
    """Where the spec of ``assignment`` comes from: its spec file ``<specs_dir>/<assignment>.py`` when there is one,
    else (given the course directory) the instructor notebook ``<course>/source/<assignment>/<assignment>.ipynb``,
    from whose own test cells :func:`notebook_spec` derives the checks. Raises ``ValueError`` if neither exists."""
    path = (specs_dir or SPECS_DIR) / f"{assignment}.py"
    if path.is_file():
        return path
    notebook = Path(course) / "source" / assignment / f"{assignment}.ipynb" if course is not None else None
    if notebook is not None and notebook.is_file():
        return notebook.resolve()
    where = f"{path}" + (f" or an instructor notebook {notebook}" if notebook is not None else "")
    raise ValueError(f"no grading spec for assignment {assignment!r}: expected {where}")


DERIVED_LIMITS = Limits(wall_s=300.0, check_s=5.0, cpu_s=180, memory_mb=3072, nproc=64)
DERIVED_TOLERANCE = Tolerance(rtol=1e-9, atol=1e-12, rtol32=1e-4, atol32=1e-5)


def _imports(source: str) -> list[str]:
    import ast

    from autograder.notebook import without_magics

    try:
        tree = ast.parse(without_magics(source))
    except SyntaxError:
        return []
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
    return names


def notebook_spec(
    source_nb: str | Path,
    *,
    tolerance: Tolerance = DERIVED_TOLERANCE,
    limits: Limits = DERIVED_LIMITS,
    timeouts: dict[str, float] | None = None,
    preload: list[str] | None = None,
) -> Spec:
    """The spec of an assignment derived from its instructor notebook's own test cells (hidden tests included).

    * A test cell made of the optimizer helpers' calls (``check_against_torch``, ``check_same_error``,
      ``check_defaults``, ``check_state_dict_roundtrip``, also in ``for`` loops) becomes lockstep checks: the
      student's class in the sandbox, ``torch.optim`` in the grader (:func:`autograder.optim_checks.checks_from_notebook`).
    * Every other test cell is *replayed*: its code runs in the trusted grader, after the notebook's locked cells,
      with the functions of the solution cells called in the sandbox (:mod:`autograder.replay`); its own asserts and
      tolerances decide. Named ``grade_id``; ``timeouts`` gives a cell more CPU seconds than ``limits.check_s``.

    The assignment and notebook names are the notebook's file name; the solution cells are all the notebook's
    solution cells; the template preloads torch, numpy and what the locked cells import. A grade cell earns its
    points only when all its checks pass (nbgrader's rule).
    """
    import importlib.util
    import json

    from autograder import cells as nbcells
    from autograder.optim_checks import checks_from_notebook
    from autograder.replay import needed_cells, test_cells

    source_nb = Path(source_nb).resolve()
    nb_cells = json.loads(source_nb.read_text(encoding="utf-8"))["cells"]
    lockstep = checks_from_notebook(source_nb, tolerance)
    covered = {c.grade_id for c in lockstep}
    replayed = [
        Check(
            gid,
            gid,
            description="the notebook's own test cell, with your functions called in the sandbox",
            replay=str(source_nb),
            needs=needed_cells(source_nb, source),
            dtypes=(),
            timeout_s=(timeouts or {}).get(gid),
        )
        for gid, source in test_cells(source_nb).items()
        if gid not in covered
    ]
    if preload is None:
        preload = ["torch", "numpy"]
        for source in nbcells.by_grade_id(nb_cells, "locked").values():
            preload += [
                m for m in _imports(source) if m not in preload and importlib.util.find_spec(m.split(".")[0])
            ]
    return Spec(
        assignment=source_nb.stem,
        notebook=source_nb.stem,
        cells=list(nbcells.by_grade_id(nb_cells, "solution")),
        checks=lockstep + replayed,
        limits=limits,
        preload=preload,
        partial_credit=False,
        path=str(source_nb),
    )


def load_spec(path: str | Path, course: str | Path | None = None) -> Spec:
    """Import a spec file (its name may contain dashes) and return its ``SPEC``; for an instructor notebook
    (``.ipynb``: an assignment without a spec file), the spec :func:`notebook_spec` derives from it.

    ``course`` is the nbgrader course directory whose instructor notebook the spec reads
    (:func:`instructor_notebook`); without it the checkout's ``assignments/``.
    """
    global _LOADING_COURSE
    path = Path(path).resolve()
    if path.suffix == ".ipynb":
        spec = notebook_spec(path)
        spec.course = str(Path(course).resolve()) if course is not None else ""
        return spec
    modname = "autograder_spec_" + re.sub(r"\W", "_", path.stem)
    module_spec = importlib.util.spec_from_file_location(modname, path)
    if module_spec is None or module_spec.loader is None:
        raise ValueError(f"cannot import grading spec {path}")
    module = importlib.util.module_from_spec(module_spec)
    with _LOAD_LOCK:
        _LOADING_COURSE = Path(course).resolve() if course is not None else None
        try:
            sys.modules[modname] = module
            module_spec.loader.exec_module(module)
        finally:
            _LOADING_COURSE = None
    spec = getattr(module, "SPEC", None)
    if not isinstance(spec, Spec):
        raise ValueError(f"{path} does not define SPEC = Spec(...)")
    spec.path = str(path)
    spec.course = str(Path(course).resolve()) if course is not None else ""
    return spec


def _close_number(got: float, ref: float, rtol: float, atol: float) -> bool:
    try:
        g, r = float(got), float(ref)
    except OverflowError:
        return False
    if math.isnan(r) or math.isnan(g):
        return math.isnan(r) and math.isnan(g)
    if math.isinf(r) or math.isinf(g):
        return g == r
    return abs(g - r) <= atol + rtol * abs(r)


def _fmt(x: float) -> str:
    return repr(float(x))  # full precision: two different floats never print alike


def compare_outputs(
    student: dict[str, Any], reference: dict[str, Any], tol: tuple[float, float]
) -> list[str]:
    """Compare plain data from the sandbox with the reference, in float64.

    Every key of ``reference`` must be present in ``student``. Arrays must have the same shape; a reference
    ``"<key>.dtype"``/``"<key>.device"`` string must match exactly; values must satisfy
    ``|s - r| <= atol + rtol |r|`` elementwise, non-finite values must sit where the reference has them.

    Returns
    -------
    list of str
        One message per failed key (empty when everything matches).
    """
    rtol, atol = tol
    problems: list[str] = []
    for key, ref in reference.items():
        if key not in student:
            problems.append(f"{key}: not produced")
            continue
        got = student[key]
        if isinstance(ref, np.ndarray):
            if not isinstance(got, np.ndarray):
                problems.append(f"{key}: expected an array, got {type(got).__name__}")
                continue
            if got.shape != ref.shape:
                problems.append(f"{key}: expected shape {tuple(ref.shape)}, got {tuple(got.shape)}")
                continue
            g = got.astype(np.float64)
            r = ref.astype(np.float64)
            fin_r, fin_g = np.isfinite(r), np.isfinite(g)
            if (fin_r != fin_g).any():
                idx = tuple(int(i) for i in np.argwhere(fin_r != fin_g)[0])
                problems.append(
                    f"{key}: non-finite value mismatch at index {idx} (expected {r[idx]}, got {g[idx]})"
                )
                continue
            if (~fin_r).any() and not np.array_equal(r[~fin_r], g[~fin_g], equal_nan=True):
                problems.append(f"{key}: infinities of the wrong sign")
                continue
            with np.errstate(invalid="ignore"):
                err = np.where(fin_r, np.abs(g - r), 0.0)
            bad = err > atol + rtol * np.abs(np.where(fin_r, r, 0.0))
            if bad.any():
                idx = tuple(int(i) for i in np.argwhere(bad)[0])
                problems.append(
                    f"{key}: {int(bad.sum())} of {bad.size} values differ; first at index {idx}: "
                    f"expected {_fmt(r[idx])}, got {_fmt(g[idx])} (max abs error {_fmt(err.max())}, "
                    f"rtol={rtol:g}, atol={atol:g})"
                )
        elif isinstance(ref, bool) or ref is None or isinstance(ref, str):
            if type(got) is not type(ref) or got != ref:
                problems.append(f"{key}: expected {ref!r}, got {got!r}")
        elif isinstance(ref, int | float):
            if type(got) not in (int, float) or not _close_number(got, ref, rtol, atol):
                problems.append(f"{key}: expected {_fmt(float(ref))}, got {got!r}")
        else:
            raise TypeError(f"reference value {key} has unsupported type {type(ref).__name__}")
    return problems
