"""a6's grading spec: derived from the notebook's test cells (each one replayed), plus torch's references blocked.

A misspelt blocked name would make the sandbox template fail for every submission, so each one is resolved here
the way :func:`autograder.guard.block_names` resolves it (without blocking anything in this process).
"""

from __future__ import annotations

import importlib
import types

from autograder import replay
from autograder.spec import instructor_notebook, load_spec, spec_path

ASSIGNMENT = "a6-lbfgs-averaging-init"


def test_every_test_cell_is_replayed_and_the_references_are_blocked() -> None:
    spec = load_spec(spec_path(ASSIGNMENT))
    assert {c.grade_id for c in spec.checks} == {
        "test_two_loop",
        "test_two_loop_torch",
        "test_polyak",
        "test_ema",
        "test_glorot",
        "test_he",
    }
    assert all(c.replay is not None for c in spec.checks)
    assert set(replay.test_cells(instructor_notebook(ASSIGNMENT))) == {c.grade_id for c in spec.checks}
    assert set(spec.cells) == {"two_loop", "averaging", "initializers"}
    assert not spec.partial_credit
    blocked = set(spec.blocked)
    assert {"torch.nn.init.kaiming_normal_", "torch.optim.swa_utils.AveragedModel"} <= blocked
    for dotted in spec.blocked:
        module, _, attr = dotted.rpartition(".")
        obj = getattr(importlib.import_module(module), attr)
        assert isinstance(obj, type | types.FunctionType), dotted
