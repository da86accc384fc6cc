"""The Dask executor (a LocalCluster) and the GPU path (skipped without CUDA) give the local executor's grades."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from ag_helpers import CORRECT_SGD, SPECS, scores, submit

from autograder.pipeline import grade_assignment, load_result, resolve_variants

WRONG_SGD = CORRECT_SGD.replace('alpha=-group["lr"]', 'alpha=-2 * group["lr"]')


def test_dask_local_cluster(course: Path) -> None:
    submit(course, "alice")
    submit(course, "bob", sgd=WRONG_SGD, square="def square(x):\n    return x + x\n")
    summary = grade_assignment("ag-demo", course, workers=1, executor="dask", device="cpu", specs_dir=SPECS)
    assert summary.graded == 2 and summary.failures == 0
    assert scores(course) == {
        "alice": {"test_sgd": 2.0, "test_square": 1.0},
        "bob": {"test_sgd": 0.0, "test_square": 0.0},
    }


def test_device_choices() -> None:
    assert resolve_variants("cpu") == [("cpu", "float64")]
    with pytest.raises(ValueError, match="--device must be"):
        resolve_variants("tpu")
    if not torch.cuda.is_available():
        assert resolve_variants("auto") == [("cpu", "float64")]
        with pytest.raises(ValueError, match="no CUDA device"):
            resolve_variants("cuda")


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_checks_run_on_the_gpu_in_float64_and_float32(course: Path) -> None:
    submit(course, "alice")
    submit(course, "bob", square="def square(x):\n    return (x * x).cpu()\n")
    summary = grade_assignment("ag-demo", course, workers=1, device="auto", specs_dir=SPECS)
    assert summary.graded == 2
    got = scores(course)
    assert got["alice"] == {"test_sgd": 2.0, "test_square": 1.0}
    assert got["bob"]["test_square"] == 0.0  # wrong device: y.device is cpu where cuda:0 was expected
    result = load_result(course, "ag-demo", "alice")
    assert result["devices"] == ["cpu", "cuda"]
    assert {(o["device"], o["dtype"]) for o in result["outcomes"]} >= {
        ("cuda", "float64"),
        ("cpu", "float64"),
    }
