"""Grading specifications: what the sandbox runs on the student's objects, and how the trusted side compares.

A spec is a Python file ``autograder/specs/<assignment>.py`` that defines ``SPEC = Spec(...)``. Each
:class:`Check` pairs

* ``run(namespace, device, dtype) -> dict`` — executed **inside the sandbox** on the namespace left by the student's
  cells; returns tensors/arrays/numbers (plain data only travels back);
* ``reference(device, dtype) -> dict`` — executed **in the trusted grader** (torch.optim, course_pkg, scikit-learn);
* ``compare(student, reference, tol) -> list[str]`` — trusted; returns failure messages (empty: passed).
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autograder.sandbox import TORCH_WARMUP, Limits

SPECS_DIR = Path(__file__).resolve().parent / "specs"


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

    ``needs`` names the solution cells the check depends on (empty: all of them): a forbidden pattern in one of
    them fails the check. ``dtypes`` are the dtypes run on CUDA (CPU always runs float64). ``plot`` is the key of
    an array drawn against the reference in feedback. ``timeout_s`` overrides the spec's ``limits.check_s``.
    """

    name: str
    grade_id: str
    run: Callable[..., dict[str, Any]]
    reference: Callable[..., dict[str, Any]]
    description: str = ""
    compare: Callable[[dict[str, Any], dict[str, Any], tuple[float, float]], list[str]] | None = None
    tolerance: Tolerance = field(default_factory=Tolerance)
    weight: float = 1.0
    plot: str | None = None
    dtypes: tuple[str, ...] = ("float64",)
    needs: tuple[str, ...] = ()
    timeout_s: float | None = None


@dataclass
class Spec:
    """The hidden grading specification of one assignment (one notebook).

    Parameters
    ----------
    assignment, notebook : str
        nbgrader names (the notebook without ``.ipynb``).
    cells : list of str
        ``grade_id`` s of the solution cells executed in the sandbox, in notebook order.
    checks : list of Check
        What is graded; several checks of one grade cell share its points by weight.
    prelude : str
        Trusted code run before the student's cells (the notebook's locked imports).
    forbidden : dict of str to str
        Regular expression on the student's code → message; a match fails every check that depends on it.
    limits : Limits
        Sandbox limits per run.
    preload : list of str
        Modules the template imports before forking.
    warmup : str
        Trusted code the template runs once before forking (first-use imports).
    partial_credit : bool
        If False, a grade cell earns its points only when all its checks pass (nbgrader's rule), and the remaining
        checks of a cell are skipped after one of them fails by timing out or ending the process.
    """

    assignment: str
    notebook: str
    cells: list[str]
    checks: list[Check]
    prelude: str = ""
    forbidden: dict[str, str] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    preload: list[str] = field(default_factory=lambda: ["torch", "numpy"])
    warmup: str = TORCH_WARMUP
    partial_credit: bool = True
    path: str = ""

    def __post_init__(self) -> None:
        names = [c.name for c in self.checks]
        if len(set(names)) != len(names):
            raise ValueError(f"spec {self.assignment}: duplicate check names")

    def sandbox_function(self, name: str) -> Callable[..., dict[str, Any]]:
        """The sandbox-side function of check ``name``."""
        for c in self.checks:
            if c.name == name:
                return c.run
        raise KeyError(f"no check named {name!r} in spec {self.assignment}")

    def check(self, name: str) -> Check:
        """The check called ``name``."""
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(f"no check named {name!r} in spec {self.assignment}")

    def grade_ids(self) -> list[str]:
        """Grade cells scored by this spec, in order of first appearance."""
        return list(dict.fromkeys(c.grade_id for c in self.checks))

    def forbidden_uses(self, cells: dict[str, str], check: Check) -> list[str]:
        """Messages for every forbidden pattern found in the cells that ``check`` depends on."""
        sources = [src for gid, src in cells.items() if not check.needs or gid in check.needs]
        return [
            f"cell {gid}: {msg}"
            for gid, src in cells.items()
            if src in sources
            for pattern, msg in self.forbidden.items()
            if re.search(pattern, src)
        ]


def notebook_cells(path: str | Path, grade_ids: list[str]) -> dict[str, str]:
    """Source of the named cells of an instructor notebook (trusted), without IPython magics (``%``/``!`` lines)."""
    import json

    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    out: dict[str, str] = {}
    for cell in nb["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in grade_ids:
            src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            out[gid] = "\n".join(
                line for line in src.splitlines() if not line.lstrip().startswith(("%", "!"))
            )
    missing = [g for g in grade_ids if g not in out]
    if missing:
        raise ValueError(f"{path}: no cells {missing}")
    return out


def spec_path(assignment: str, specs_dir: Path | None = None) -> Path:
    """Path of the spec file of ``assignment``; raises ``ValueError`` if there is none."""
    path = (specs_dir or SPECS_DIR) / f"{assignment}.py"
    if not path.is_file():
        raise ValueError(f"no grading spec for assignment {assignment!r}: expected {path}")
    return path


def load_spec(path: str | Path) -> Spec:
    """Import a spec file (its name may contain dashes) and return its ``SPEC``."""
    path = Path(path).resolve()
    modname = "autograder_spec_" + re.sub(r"\W", "_", path.stem)
    module_spec = importlib.util.spec_from_file_location(modname, path)
    if module_spec is None or module_spec.loader is None:
        raise ValueError(f"cannot import grading spec {path}")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[modname] = module
    module_spec.loader.exec_module(module)
    spec = getattr(module, "SPEC", None)
    if not isinstance(spec, Spec):
        raise ValueError(f"{path} does not define SPEC = Spec(...)")
    spec.path = str(path)
    return spec


def _fmt(x: float) -> str:
    return f"{x:.6g}"


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
            if type(got) not in (int, float) or not np.isclose(float(got), float(ref), rtol=rtol, atol=atol):
                problems.append(f"{key}: expected {_fmt(float(ref))}, got {got!r}")
        else:
            raise TypeError(f"reference value {key} has unsupported type {type(ref).__name__}")
    return problems
