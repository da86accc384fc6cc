"""Cell builders and shared locked code for the course's nbgrader notebooks.

Each assignment module (``a1.py`` ... ``a5.py``) describes its notebook as a list of cells built with the
functions below; ``build_notebooks.py`` writes them to ``assignments/source/<assignment>/<assignment>.ipynb``.
"""

from __future__ import annotations

import textwrap

import nbformat
from nbformat.notebooknode import NotebookNode

SITE = "https://optdl-course.github.io/optdl-course"


def chapter_url(page: str) -> str:
    """Return the URL of a book page, e.g. ``chapter_url("optimization/momentum")``.

    Parameters
    ----------
    page : str
        Page path under ``book/`` without extension.

    Returns
    -------
    str
        Absolute URL of the page on the course site (same repository as ``_config.yml``).
    """
    return f"{SITE}/book/{page}.html"


def _src(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


def _meta(grade_id: str, *, grade: bool, solution: bool, locked: bool, points: float | None = None) -> dict:
    meta: dict = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
    }
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def md(text: str) -> NotebookNode:
    """Student-facing markdown (no nbgrader metadata: students may edit it, it is never graded)."""
    return nbformat.v4.new_markdown_cell(_src(text))


def locked_md(grade_id: str, text: str) -> NotebookNode:
    """Read-only markdown (instructions that must survive unchanged)."""
    return nbformat.v4.new_markdown_cell(
        _src(text), metadata=_meta(grade_id, grade=False, solution=False, locked=True)
    )


def locked_code(grade_id: str, code: str) -> NotebookNode:
    """Read-only code cell (setup, helpers, data): restored from the gradebook when autograding."""
    return nbformat.v4.new_code_cell(
        _src(code), metadata=_meta(grade_id, grade=False, solution=False, locked=True)
    )


def solution(grade_id: str, code: str) -> NotebookNode:
    """Student code cell: the part between ``### BEGIN SOLUTION``/``### END SOLUTION`` is cleared on release."""
    text = _src(code)
    if "### BEGIN SOLUTION" not in text:
        raise ValueError(f"solution cell {grade_id!r} has no '### BEGIN SOLUTION' marker")
    return nbformat.v4.new_code_cell(text, metadata=_meta(grade_id, grade=False, solution=True, locked=False))


def tests(grade_id: str, points: float, code: str) -> NotebookNode:
    """Locked autograded test cell: full points when it runs without error (and writes nothing to stderr)."""
    if points <= 0:
        raise ValueError(f"test cell {grade_id!r} needs positive points, got {points}")
    return nbformat.v4.new_code_cell(
        _src(code), metadata=_meta(grade_id, grade=True, solution=False, locked=True, points=points)
    )


def manual(grade_id: str, points: float, answer: str) -> NotebookNode:
    """Manually graded markdown answer; ``answer`` is the instructor's model answer (cleared on release)."""
    return nbformat.v4.new_markdown_cell(
        _src(answer), metadata=_meta(grade_id, grade=True, solution=True, locked=False, points=points)
    )


def notebook(cells: list[NotebookNode]) -> NotebookNode:
    """Assemble a notebook with a Python 3 kernelspec and unique nbgrader grade ids.

    Parameters
    ----------
    cells : list of NotebookNode
        The cells in order.

    Returns
    -------
    NotebookNode
        A validated nbformat v4 notebook.
    """
    seen: set[str] = set()
    for cell in cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid is None:
            continue
        if gid in seen:
            raise ValueError(f"duplicate grade_id {gid!r}")
        seen.add(gid)
    nb = nbformat.v4.new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python", "version": "3.11"},
        },
    )
    for i, cell in enumerate(nb.cells):
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        cell["id"] = gid.replace("_", "-") if gid else f"cell-{i}"
    nbformat.validate(nb)
    return nb


# --------------------------------------------------------------------------------------------------
# Locked setup shared by every notebook. `%xmode Minimal` keeps tracebacks short, so that a failing
# hidden test shows its assertion message rather than the hidden source around it.
SETUP = """
%xmode Minimal
import math

import numpy as np
import torch

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)  # the tensors here are tiny: one thread is fastest and keeps timings stable
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
DTYPE = torch.float64  # every comparison with torch.optim runs in float64
print(f"torch {torch.__version__}, device: {DEVICE}")
"""

# Digits data, a small network and its accuracy (a3 training, a5 experiment).
DIGITS_DATA = """
from sklearn.datasets import load_digits

digits = load_digits()
X_all = torch.tensor(digits.data / 16.0, dtype=torch.float32)
y_all = torch.tensor(digits.target)
perm = torch.randperm(len(X_all), generator=torch.Generator().manual_seed(0))
X_train, y_train = X_all[perm[:1500]].to(DEVICE), y_all[perm[:1500]].to(DEVICE)
X_test, y_test = X_all[perm[1500:]].to(DEVICE), y_all[perm[1500:]].to(DEVICE)


def make_model(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10)).to(DEVICE)


def accuracy(model, x, y):
    with torch.no_grad():
        return (model(x).argmax(dim=1) == y).float().mean().item()


print(f"train: {tuple(X_train.shape)}, test: {tuple(X_test.shape)}")
"""

# Locked helpers for the optimizer notebooks (a3, a4, a5). Students read them: they are what the tests run.
OPTIM_HELPERS = '''
# Helpers used by the tests below: run your optimizer and torch.optim side by side (in lockstep,
# float64, same parameters and gradients) and stop at the first step where parameters or state differ.
import copy

IGNORED_DEFAULTS = {"foreach", "differentiable", "fused", "capturable"}


def _to64(x):
    return torch.as_tensor(x).detach().to("cpu", torch.float64)


def _max_diff(a, b):
    a, b = _to64(a), _to64(b)
    if a.shape != b.shape:
        return math.inf
    return (a - b).abs().max().item() if a.numel() else 0.0


def _close(a, b, atol, rtol):
    a, b = _to64(a), _to64(b)
    return a.shape == b.shape and torch.allclose(a, b, atol=atol, rtol=rtol)


def make_params(shapes=((4, 3), (5,)), *, seed=0, device=DEVICE, noncontiguous=False):
    """Two identical lists of float64 leaf tensors: one for your optimizer, one for torch.optim."""
    gen = torch.Generator().manual_seed(seed)
    mine, ref = [], []
    for shape in shapes:
        base = torch.randn(*shape, 2, generator=gen, dtype=DTYPE).to(device)
        for out in (mine, ref):
            view = base.clone()[..., 0]  # a strided view: non-contiguous
            out.append((view if noncontiguous else view.contiguous()).requires_grad_())
    return mine, ref


def _set_grads(mine, ref, gen, *, none_grad, noncontiguous):
    for i, (pm, pr) in enumerate(zip(mine, ref)):
        if none_grad and i == len(mine) - 1:
            pm.grad = pr.grad = None  # this parameter gets no gradient: it must not move or get state
            continue
        base = torch.randn(*pm.shape, 2, generator=gen, dtype=DTYPE).to(pm.device)
        pm.grad, pr.grad = (base.clone()[..., 0] for _ in range(2))
        if not noncontiguous:
            pm.grad, pr.grad = pm.grad.contiguous(), pr.grad.contiguous()


def _compare(t, mine, ref, opt_mine, opt_ref, name, atol, rtol):
    for i, (pm, pr) in enumerate(zip(mine, ref)):
        if not _close(pm, pr, atol, rtol):
            raise AssertionError(
                f"step t={t}: parameter {i} (shape {tuple(pm.shape)}) differs from {name}: "
                f"max |Δθ| = {_max_diff(pm, pr):.3e}"
            )
        s_mine, s_ref = opt_mine.state.get(pm, {}), opt_ref.state.get(pr, {})
        if set(s_mine) != set(s_ref):
            raise AssertionError(
                f"step t={t}: state of parameter {i} has keys {sorted(s_mine)}, {name} has {sorted(s_ref)}"
            )
        for key in sorted(s_ref):
            if not _close(s_mine[key], s_ref[key], atol, rtol):
                raise AssertionError(
                    f"step t={t}: state[{key!r}] of parameter {i} differs from {name}: "
                    f"max |Δ| = {_max_diff(s_mine[key], s_ref[key]):.3e}"
                )


def _groups(params, groups):
    if groups is None:
        return params
    return [dict(params=params[i :: len(groups)], **g) for i, g in enumerate(groups)]


def _closure(params, opt, coefs):
    def closure():
        opt.zero_grad()
        # a smooth loss; the last parameter is left out when it should get no gradient
        loss = sum((c * p + 0.5 * c.abs() * p**2).sum() for c, p in zip(coefs, params))
        loss.backward()
        return loss

    return closure


def check_against_torch(my_cls, torch_cls, *, steps=7, shapes=((4, 3), (5,)), groups=None, closure=False,
                        none_grad=False, noncontiguous=False, device=DEVICE, seed=0, atol=1e-12, rtol=1e-9,
                        **hyper):
    """Run ``my_cls`` and ``torch_cls`` for ``steps`` steps with the hyper-parameters ``hyper``.

    groups: list of per-group option dicts (parameters are dealt to them in turn); closure: pass a closure to
    step() and compare the returned loss; none_grad: the last parameter never gets a gradient;
    noncontiguous: parameters and gradients are strided views. Raises AssertionError at the first mismatch.
    """
    mine, ref = make_params(shapes, seed=seed, device=device, noncontiguous=noncontiguous)
    opt_mine = my_cls(_groups(mine, groups), **hyper)
    opt_ref = torch_cls(_groups(ref, groups), **hyper)
    name = f"torch.optim.{torch_cls.__name__}({', '.join(f'{k}={v}' for k, v in hyper.items())})"
    gen = torch.Generator().manual_seed(seed + 1)
    n_loss = len(mine) - 1 if none_grad else len(mine)
    coefs = [torch.randn(*p.shape, generator=gen, dtype=DTYPE).to(device) for p in mine[:n_loss]]
    for t in range(1, steps + 1):
        if closure:
            loss_mine = opt_mine.step(_closure(mine[:n_loss], opt_mine, coefs))
            loss_ref = opt_ref.step(_closure(ref[:n_loss], opt_ref, coefs))
            if loss_mine is None or not _close(loss_mine, loss_ref, atol, rtol):
                raise AssertionError(f"step t={t}: step(closure) returned {loss_mine}, {name} returned {loss_ref}")
        else:
            _set_grads(mine, ref, gen, none_grad=none_grad, noncontiguous=noncontiguous)
            opt_mine.step()
            opt_ref.step()
        _compare(t, mine, ref, opt_mine, opt_ref, name, atol, rtol)


def check_state_dict_roundtrip(my_cls, torch_cls, *, before=3, after=4, device=DEVICE, atol=1e-12, rtol=1e-9,
                               **hyper):
    """Run ``before`` steps, save ``state_dict()``, load it into a NEW optimizer and run ``after`` more steps:
    the result must match torch.optim run without interruption."""
    mine, ref = make_params(seed=3, device=device)
    opt_mine, opt_ref = my_cls(mine, **hyper), torch_cls(ref, **hyper)
    name = f"torch.optim.{torch_cls.__name__}({', '.join(f'{k}={v}' for k, v in hyper.items())})"
    gen = torch.Generator().manual_seed(4)
    for t in range(1, before + after + 1):
        if t == before + 1:
            saved = copy.deepcopy(opt_mine.state_dict())
            opt_mine = my_cls(mine, **hyper)
            opt_mine.load_state_dict(saved)
        _set_grads(mine, ref, gen, none_grad=False, noncontiguous=False)
        opt_mine.step()
        opt_ref.step()
        _compare(t, mine, ref, opt_mine, opt_ref, f"{name} [state_dict reloaded after step {before}]", atol, rtol)


def check_same_error(my_cls, torch_cls, **hyper):
    """Both constructors must raise ValueError with torch's exact message for these hyper-parameters."""
    params = [torch.zeros(2, dtype=DTYPE, requires_grad=True)]
    try:
        torch_cls(params, **hyper)
    except ValueError as err:
        expected = str(err)
    else:
        raise AssertionError(f"torch.optim.{torch_cls.__name__} accepts {hyper}: nothing to check")
    try:
        my_cls(params, **hyper)
    except ValueError as err:
        assert str(err) == expected, f"{my_cls.__name__}(**{hyper}) raised ValueError({str(err)!r}), expected {expected!r}"
    else:
        raise AssertionError(f"{my_cls.__name__}(**{hyper}) should raise ValueError({expected!r})")


def check_defaults(my_cls, torch_cls):
    """Your constructor's defaults must equal torch.optim's (ignoring foreach/fused/... implementation flags)."""
    mine = my_cls([torch.zeros(2, dtype=DTYPE, requires_grad=True)]).defaults
    ref = torch_cls([torch.zeros(2, dtype=DTYPE, requires_grad=True)]).defaults
    for key, value in ref.items():
        if key in IGNORED_DEFAULTS:
            continue
        assert key in mine, f"{my_cls.__name__}.defaults has no {key!r} (torch.optim.{torch_cls.__name__} has {key}={value})"
        assert mine[key] == value, f"{my_cls.__name__}.defaults[{key!r}] = {mine[key]}, torch.optim.{torch_cls.__name__} uses {value}"
'''


def feature_tests(
    grade_id: str, points: int, title: str, visible: str, hidden: str, ok: str
) -> tuple[str, int, str]:
    """Source of a test cell: a title line with the points, visible checks, hidden checks, a success message.

    Parameters
    ----------
    grade_id : str
        Stable nbgrader grade id (``test_...``).
    points : int
        Points of the cell.
    title : str
        What the cell checks (first line, shown to students).
    visible, hidden : str
        Visible checks, and checks placed between the hidden-test markers.
    ok : str
        Message printed when every check passes.

    Returns
    -------
    tuple
        ``(grade_id, points, source)``, as accepted by :func:`tests`.
    """
    code = (
        f"# Tests: {title} ({points} point{'s' if points > 1 else ''})\n{textwrap.dedent(visible).strip()}\n"
    )
    code += (
        f"### BEGIN HIDDEN TESTS\n{textwrap.dedent(hidden).strip()}\n### END HIDDEN TESTS\nprint({ok!r})\n"
    )
    return grade_id, points, code
