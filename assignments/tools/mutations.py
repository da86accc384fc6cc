"""Deliberately wrong submissions: one wrong option each, and the grade cells that must catch it.

The course's one table of wrong submissions. Each :class:`Mutation` edits one solution cell of an instructor
notebook (replacing a unique snippet); the result is a submission that must lose exactly the points of the grade
cells in ``breaks`` (read from the notebook's nbgrader metadata) and keep every other point.
``tests/assignments`` proves this with stock ``nbgrader autograde``, ``tests/autograder/test_grading_specs.py``
with the autograder's grading specs, and ``autograder.demo`` submits them. A snippet that is no longer in its
solution cell is an error (:func:`mutate` raises), never a silent skip.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

if str(Path(__file__).resolve().parents[2]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from autograder import cells as nbcells  # noqa: E402  (the one helper for nbgrader cell metadata)


@dataclass(frozen=True)
class Mutation:
    """One deliberately wrong option: replace ``old`` by ``new`` in solution cell ``cell``."""

    student: str
    cell: str
    old: str
    new: str
    breaks: frozenset[str]


def _m(student: str, cell: str, old: str, new: str, *breaks: str) -> Mutation:
    return Mutation(student, cell, old, new, frozenset(breaks))


MUTATIONS: dict[str, list[Mutation]] = {
    "a1-erm-losses-cv": [
        # K-fold split with the larger folds at the end instead of the beginning (differs when K does not divide n).
        _m("wrong_kfold", "cross_validation", "sizes[: n % K] += 1", "sizes[K - n % K :] += 1", "test_kfold"),
        # Logistic derivative with its two branches swapped: wrong gradients, so gradient descent fails too.
        _m(
            "wrong_logistic_grad",
            "losses",
            "np.where(z >= 0, -e / (1.0 + e), -1.0 / (1.0 + e))",
            "np.where(z >= 0, -1.0 / (1.0 + e), -e / (1.0 + e))",
            "test_logistic",
            "test_fit_logistic",
        ),
    ],
    "a2-bias-variance-ensembles": [
        # Variance with divisor n_datasets - 1: the decomposition mse = bias2 + variance no longer holds.
        _m(
            "wrong_variance_ddof",
            "bias_variance",
            "np.mean(preds.var(axis=0))",
            "np.mean(preds.var(axis=0, ddof=1))",
            "test_bias_variance",
        ),
        # Real-AdaBoost's factor 1/2 in the estimator weight: not SAMME.
        _m(
            "wrong_alpha",
            "adaboost",
            "alpha = np.log((1 - err) / err)",
            "alpha = 0.5 * np.log((1 - err) / err)",
            "test_adaboost",
        ),
    ],
    "a3-sgd-momentum-schedules": [
        # Nesterov's look-ahead with the roles of g_t and b_t swapped.
        _m(
            "wrong_nesterov",
            "sgd",
            "g = g.add(buf, alpha=beta)",
            "g = buf.add(g, alpha=beta)",
            "test_sgd_nesterov",
        ),
        # Warm-up one step ahead of torch's LinearLR.
        _m(
            "wrong_warmup",
            "schedules",
            "(1 - start_factor) * k / warmup_steps",
            "(1 - start_factor) * (k + 1) / warmup_steps",
            "test_warmup_cosine",
        ),
    ],
    "a4-adaptive-optimizers": [
        # Centered RMSprop that forgets to subtract the squared mean gradient.
        _m(
            "wrong_centered",
            "rmsprop",
            "avg = v.addcmul(grad_avg, grad_avg, value=-1).sqrt_()",
            "avg = v.sqrt()",
            "test_rmsprop_centered",
        ),
        # Adagrad's learning-rate decay one step ahead.
        _m(
            "wrong_lr_decay",
            "adagrad",
            'clr = group["lr"] / (1 + (t - 1) * group["lr_decay"])',
            'clr = group["lr"] / (1 + t * group["lr_decay"])',
            "test_adagrad_lr_decay",
        ),
    ],
    "a5-adam-family": [
        # Adam without the bias correction of the first moment: every cell that runs Adam or AdamW fails.
        _m(
            "wrong_bias_correction",
            "adam",
            "step_size = lr / bias_correction1",
            "step_size = lr",
            "test_adam",
            "test_adam_amsgrad",
            "test_adam_weight_decay",
            "test_adam_maximize",
            "test_adam_api",
            "test_adamw",
        ),
        # Decoupled weight decay not scaled by the learning rate: only AdamW's cell covers it.
        _m("wrong_adamw_decay", "adam", "p.mul_(1 - lr * wd)", "p.mul_(1 - wd)", "test_adamw"),
    ],
}


def mutate(nb: nbformat.NotebookNode, mutation: Mutation) -> nbformat.NotebookNode:
    """Apply ``mutation`` to a copy of an instructor notebook.

    Parameters
    ----------
    nb : NotebookNode
        The instructor (source) notebook; it is not modified.
    mutation : Mutation
        The wrong option to introduce.

    Returns
    -------
    NotebookNode
        A copy of ``nb`` whose solution cell ``mutation.cell`` has ``mutation.old`` replaced by ``mutation.new``.

    Raises
    ------
    ValueError
        If the cell is not unique or the snippet does not occur exactly once in it (the solution changed).
    """
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    cells = [c for c in nb.cells if nbcells.grade_id(c) == mutation.cell]
    if len(cells) != 1:
        raise ValueError(
            f"{mutation.student}: {len(cells)} cells have grade_id {mutation.cell!r}, expected 1"
        )
    count = cells[0].source.count(mutation.old)
    if count != 1:
        raise ValueError(
            f"{mutation.student}: {mutation.old!r} occurs {count} times in cell {mutation.cell!r}"
        )
    cells[0].source = cells[0].source.replace(mutation.old, mutation.new)
    return nb
