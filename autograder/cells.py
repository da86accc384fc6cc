"""The course's nbgrader cell conventions: the one place that reads and writes a cell's ``nbgrader`` metadata.

A cell of an assignment notebook is of one of these kinds (``None``: plain, ungraded, editable markdown or code):

========== ========= ===================================================================================
kind       cell type nbgrader metadata
========== ========= ===================================================================================
solution   code      ``solution`` (``### BEGIN SOLUTION`` ... ``### END SOLUTION`` is cleared on release)
tests      code      ``grade`` and ``locked`` with ``points``: full points when the cell runs without error
locked     code      ``locked``: setup, helpers, data (restored as the instructor wrote them when grading)
manual     markdown  ``grade`` and ``solution`` with ``points``: a written answer graded by hand
locked     markdown  ``locked``: instructions that must survive unchanged
========== ========= ===================================================================================

Everything here accepts the JSON of a notebook cell (``dict``) or an ``nbformat`` node, and reads defensively: a
submitted notebook is untrusted, so missing or malformed metadata reads as "no metadata", never raises.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

SCHEMA_VERSION = 3
KINDS = ("solution", "tests", "locked", "manual")
_FLAGS = {  # kind -> (grade, solution, locked)
    "solution": (False, True, False),
    "tests": (True, False, True),
    "locked": (False, False, True),
    "manual": (True, True, False),
}
_CELL_TYPES = {
    "solution": ("code",),
    "tests": ("code",),
    "locked": ("code", "markdown"),
    "manual": ("markdown",),
}


def nbgrader(cell: Any) -> dict[str, Any]:
    """The cell's ``nbgrader`` metadata (an empty dict when it has none or it is malformed)."""
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
    return nbg if isinstance(nbg, dict) else {}


def grade_id(cell: Any) -> str | None:
    """The cell's nbgrader ``grade_id`` (``None`` when it has none, or it is not a string)."""
    gid = nbgrader(cell).get("grade_id")
    return gid if isinstance(gid, str) else None


def kind(cell: Any) -> str | None:
    """``"solution"``, ``"tests"``, ``"locked"``, ``"manual"`` (see the module docstring), or ``None``."""
    nbg = nbgrader(cell)
    cell_type = cell.get("cell_type") if isinstance(cell, dict) else None
    if nbg.get("grade") and not nbg.get("solution"):
        return "tests" if cell_type == "code" else None
    if nbg.get("solution"):
        return "manual" if nbg.get("grade") and cell_type == "markdown" else "solution"
    if nbg.get("locked"):
        return "locked"
    return None


def source(cell: Any) -> str:
    """The cell's source as one string (nbformat stores it as a string or a list of lines)."""
    src = cell.get("source", "") if isinstance(cell, dict) else ""
    if isinstance(src, list):
        src = "".join(s for s in src if isinstance(s, str))
    return src if isinstance(src, str) else ""


def points(cell: Any) -> float:
    """The points of a grade cell (0 for any other cell)."""
    nbg = nbgrader(cell)
    value = nbg.get("points", 0) if nbg.get("grade") else 0
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def of_kind(cells: Iterable[Any], *kinds: str) -> Iterator[Any]:
    """The cells of the given kinds (and, for ``"solution"``/``"tests"``, of cell type code), in order."""
    for cell in cells:
        k = kind(cell)
        if k in kinds and (k not in ("solution", "tests") or cell.get("cell_type") == "code"):
            yield cell


def by_grade_id(cells: Iterable[Any], *kinds: str) -> dict[str, str]:
    """``grade_id -> source`` of the cells of the given kinds, in notebook order."""
    return {gid: source(c) for c in of_kind(cells, *kinds) if (gid := grade_id(c)) is not None}


def metadata(cell_kind: str, gid: str, cell_type: str = "code", pts: float | None = None) -> dict[str, Any]:
    """The cell metadata ``{"nbgrader": {...}}`` of a cell of kind ``cell_kind`` with grade id ``gid``.

    Raises
    ------
    ValueError
        For an unknown kind, a kind that does not fit ``cell_type``, or points missing from (or given to) a cell
        that is (or is not) graded.
    """
    if cell_kind not in _FLAGS:
        raise ValueError(f"cell {gid!r}: unknown nbgrader kind {cell_kind!r} (one of {', '.join(KINDS)})")
    if cell_type not in _CELL_TYPES[cell_kind]:
        raise ValueError(
            f"cell {gid!r}: a {cell_kind} cell must be a {' or '.join(_CELL_TYPES[cell_kind])} cell"
        )
    grade, solution, locked = _FLAGS[cell_kind]
    meta: dict[str, Any] = {
        "grade": grade,
        "grade_id": gid,
        "locked": locked,
        "schema_version": SCHEMA_VERSION,
        "solution": solution,
    }
    if grade:
        if pts is None or not pts > 0:
            raise ValueError(f"{cell_kind} cell {gid!r} needs positive points, got {pts}")
        meta["points"] = pts
    elif pts is not None:
        raise ValueError(f"{cell_kind} cell {gid!r} is not graded: it cannot have points")
    return {"nbgrader": meta}
