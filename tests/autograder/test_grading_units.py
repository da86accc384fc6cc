"""The pieces on their own: comparison, records (no pickle), defensive notebook reading, tracebacks, specs."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch
from ag_helpers import SOURCE_NB, SPECS

from autograder import cells as nbcells
from autograder.grading import reference_output, student_traceback, warm_references
from autograder.notebook import read_submission
from autograder.optim_checks import constructor_error, defaults, torch_default_keys, trajectory
from autograder.sandbox import decode_records, encode_record, to_plain
from autograder.spec import Check, compare_outputs, load_spec, spec_path

TOL = (1e-9, 1e-12)


def test_compare_accepts_within_tolerance_and_rejects_outside() -> None:
    rng = np.random.default_rng(0)
    ref = rng.standard_normal((5, 3))
    assert compare_outputs({"a": ref + 1e-13}, {"a": ref}, TOL) == []
    bad = ref.copy()
    bad[2, 1] += 1e-6
    (msg,) = compare_outputs({"a": bad}, {"a": ref}, TOL)
    assert "index (2, 1)" in msg and "1 of 15" in msg
    assert compare_outputs({"a": ref.astype(np.float32)}, {"a": ref}, (1e-6, 1e-7)) == []


def test_compare_shape_nonfinite_missing_and_strings() -> None:
    ref = np.array([1.0, np.inf, np.nan])
    assert compare_outputs({"a": np.array([1.0, np.inf, np.nan])}, {"a": ref}, TOL) == []
    assert "non-finite" in compare_outputs({"a": np.array([1.0, 2.0, np.nan])}, {"a": ref}, TOL)[0]
    assert "wrong sign" in compare_outputs({"a": np.array([1.0, -np.inf, np.nan])}, {"a": ref}, TOL)[0]
    assert "shape" in compare_outputs({"a": np.zeros(2)}, {"a": ref}, TOL)[0]
    assert "not produced" in compare_outputs({}, {"a": ref}, TOL)[0]
    assert compare_outputs({"t": "float64"}, {"t": "float64"}, TOL) == []
    assert "expected 'float64'" in compare_outputs({"t": "float32"}, {"t": "float64"}, TOL)[0]
    assert "expected an array" in compare_outputs({"a": 3.0}, {"a": ref}, TOL)[0]


def test_records_round_trip_and_reject_garbage() -> None:
    data = {"x": np.arange(6, dtype=np.float32).reshape(2, 3), "n": 3, "s": "ok", "f": float("nan")}
    raw = encode_record("check", "c1", data) + encode_record("check", "c2", error="boom")
    records, problem = decode_records(raw)
    assert problem is None and [f["name"] for f in records] == ["c1", "c2"]
    np.testing.assert_array_equal(records[0]["data"]["x"], data["x"])
    assert records[0]["data"]["x"].dtype == np.float32 and np.isnan(records[0]["data"]["f"])
    assert records[1]["error"] == "boom"
    records, problem = decode_records(raw[:-3])
    assert len(records) == 1 and problem
    # an object array (what pickle would carry) is refused
    header = json.dumps(
        {
            "kind": "check",
            "name": "c",
            "error": None,
            "scalars": {},
            "arrays": [{"key": "x", "dtype": "object", "shape": [1], "nbytes": 8}],
        }
    ).encode()
    evil = struct.pack("!4sII", b"AGF2", len(header), 8) + header + b"\0" * 8
    records, problem = decode_records(evil)
    assert records == [] and "not allowed" in problem
    assert decode_records(b"\x80\x04garbage")[1] is not None


def test_to_plain_reads_true_values_of_tensor_subclasses() -> None:
    class Liar(torch.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            return torch.zeros(3)

    t = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64).as_subclass(Liar)
    plain = to_plain({"y": t, "n": 2, "xs": [1, 2]})
    np.testing.assert_array_equal(plain["y"], [1.0, 2.0, 3.0])
    assert plain["y.dtype"] == "float64" and plain["y.device"] == "cpu" and plain["n"] == 2
    with pytest.raises(TypeError, match="expected a tensor"):
        to_plain({"y": object()})


def test_read_submission_is_defensive(tmp_path: Path) -> None:
    ok = read_submission(SOURCE_NB, ["sgd_impl", "square_impl", "nope"])
    assert set(ok.solutions) == {"sgd_impl", "square_impl"} and ok.readable
    # every code cell but the tests, in notebook order (the locked imports cell included)
    assert [gid for gid, _ in ok.cells] == ["imports", "sgd_impl", "square_impl"]
    assert ok.problems == ["cell nope: missing from the notebook"]
    # a locked cell runs as the instructor wrote it; magics are dropped; an added cell runs in its place
    nb = json.loads(SOURCE_NB.read_text())
    nb["cells"][0]["source"] = "raise SystemExit('edited')"
    nb["cells"].insert(
        1, {"cell_type": "code", "metadata": {}, "source": "%time\nhelper = 1\n", "outputs": []}
    )
    (tmp_path / "edited.ipynb").write_text(json.dumps(nb))
    sub = read_submission(tmp_path / "edited.ipynb", ["sgd_impl"], {"imports": "import torch"})
    assert sub.cells[:2] == [("imports", "import torch"), ("[1]", "helper = 1")]
    link = tmp_path / "link.ipynb"
    link.symlink_to(SOURCE_NB)  # e.g. to the instructor's notebook
    assert "symbolic link" in read_submission(link, ["x"]).problems[0]
    fifo = tmp_path / "fifo.ipynb"
    os.mkfifo(fifo)
    assert "not a regular file" in read_submission(fifo, ["x"]).problems[0]
    deep = tmp_path / "deep.ipynb"
    deep.write_text('{"cells": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert "nested too deeply" in read_submission(deep, ["x"]).problems[0]
    assert not read_submission(tmp_path / "missing.ipynb", ["x"]).readable
    for content in ("{not json", "[]", json.dumps({"cells": [], "nbformat": 3}), json.dumps({"cells": 5})):
        (tmp_path / "bad.ipynb").write_text(content)
        sub = read_submission(tmp_path / "bad.ipynb", ["x"])
        assert not sub.readable and "could not be read" in sub.problems[0]
    nb = json.loads(SOURCE_NB.read_text())
    nb["cells"].append(nb["cells"][1])
    nb["cells"].insert(0, "not a cell")
    (tmp_path / "dup.ipynb").write_text(json.dumps(nb))
    sub = read_submission(tmp_path / "dup.ipynb", ["sgd_impl"])
    assert sub.readable and any("more than once" in p for p in sub.problems)


def test_student_traceback_hides_grader_entries() -> None:
    text = (
        "Traceback (most recent call last):\n"
        '  File "/srv/autograder/specs/a3.py", line 10, in run_x\n'
        "    secret_hidden_call()\n"
        '  File "<cell sgd>", line 3, in step\n'
        "    p.add_(g)\n"
        "RuntimeError: boom\n"
    )
    out = student_traceback(text)
    assert "secret_hidden_call" not in out and "specs" not in out
    assert '<cell sgd>", line 3' in out and "RuntimeError: boom" in out


def test_optimizer_checks_agree_with_torch_and_detect_a_bug() -> None:
    kw = dict(lr=0.1, momentum=0.9, closure=True, none_grad=True)
    a = trajectory(torch.optim.SGD, torch.device("cpu"), torch.float64, **kw)
    b = trajectory(torch.optim.SGD, torch.device("cpu"), torch.float64, reload_after=3, **kw)
    plain = lambda d: to_plain(d)  # noqa: E731
    assert compare_outputs(plain(b), plain(a), TOL) == []
    assert a["state_keys"].startswith("0:momentum_buffer;1:") and a["loss"].shape == (7,)

    class NoMomentum(torch.optim.SGD):
        def __init__(self, params, **kw):
            kw["momentum"] = 0.0
            super().__init__(params, **kw)

    c = trajectory(NoMomentum, torch.device("cpu"), torch.float64, **kw)
    assert compare_outputs(plain(c), plain(a), TOL)
    assert constructor_error(torch.optim.SGD, lr=-1.0) == {
        "raised": "ValueError",
        "message": "Invalid learning rate: -1.0",
    }
    keys = torch_default_keys(torch.optim.SGD)
    assert "lr" in keys and defaults(torch.optim.SGD, keys)["default.lr"] == 1e-3


def test_default_keys_equal_the_constructed_optimizers_defaults() -> None:
    """Read from the constructor signatures (no optimizer built while the spec loads), the keys are exactly
    the ``defaults`` keys of the optimizer torch constructs, for every optimizer torch.optim exports."""
    classes = [
        getattr(torch.optim, name)
        for name in dir(torch.optim)
        if isinstance(getattr(torch.optim, name), type)
        and issubclass(getattr(torch.optim, name), torch.optim.Optimizer)
        and getattr(torch.optim, name) is not torch.optim.Optimizer
    ]
    named = {"SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "NAdam", "RAdam", "LBFGS"}
    assert named <= {c.__name__ for c in classes}
    for cls in classes:
        built = cls([torch.zeros(3, 2, dtype=torch.float64, requires_grad=True)])  # Muon takes 2-D only
        assert torch_default_keys(cls) == sorted(built.defaults), cls.__name__


def test_warmed_references_are_cached_and_a_failing_one_is_left_to_its_verdict() -> None:
    """``warm_references`` (run in a thread while the template starts) fills the cache that the verdicts read,
    skips replayed checks and CUDA-only dtypes on the CPU rule, and swallows nothing that a verdict would see."""
    calls: dict[str, int] = {"good": 0, "bad": 0}

    def good(dev: torch.device, dt: torch.dtype) -> dict:
        calls["good"] += 1
        return {"x": torch.arange(3, dtype=dt, device=dev)}

    def bad(dev: torch.device, dt: torch.dtype) -> dict:
        calls["bad"] += 1
        raise RuntimeError("reference broke")

    checks = [
        Check("good", "g", reference=good),
        Check("bad", "g", reference=bad),
        Check("replayed", "g", replay="nb.ipynb"),
        Check("gpu32", "g", reference=good, dtypes=("float32",)),
    ]
    spec = types.SimpleNamespace(
        path=f"/nowhere/warm-{os.getpid()}.py", checks=checks, check={c.name: c for c in checks}.__getitem__
    )
    warm_references(spec, [("cpu", "float64")])  # type: ignore[arg-type]
    assert calls == {"good": 2, "bad": 1}  # "good" and "gpu32" (the CPU runs every check in float64)
    np.testing.assert_array_equal(reference_output(spec, "good", "cpu", "float64")["x"], [0.0, 1.0, 2.0])  # type: ignore[arg-type]
    assert calls["good"] == 2  # read from the cache
    with pytest.raises(RuntimeError, match="reference broke"):
        reference_output(spec, "bad", "cpu", "float64")  # type: ignore[arg-type]
    assert calls["bad"] == 2


def test_loading_the_specs_does_not_import_torch_dynamo() -> None:
    """``torch._dynamo`` (imported by the first optimizer torch builds) costs seconds of the grader's start-up."""
    names = sorted(p.stem for p in Path(spec_path("a3-sgd-momentum-schedules")).parent.glob("a*.py"))
    code = (
        "import sys\nfrom autograder.spec import load_spec, spec_path\n"
        f"for name in {names!r}:\n    load_spec(spec_path(name))\n"
        "assert 'torch._dynamo' not in sys.modules, 'torch._dynamo imported'\n"
        "assert 'torch' in sys.modules\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert len(names) >= 6


def test_specs_load_and_name_their_grade_cells() -> None:
    demo = load_spec(SPECS / "ag-demo.py")
    assert demo.grade_ids() == ["test_sgd", "test_square"]
    with pytest.raises(ValueError, match="no grading spec"):
        spec_path("nope", SPECS)
    a3 = load_spec(spec_path("a3-sgd-momentum-schedules"))
    nb = json.loads(
        Path(a3.path)
        .parents[2]
        .joinpath("assignments", "source", a3.assignment, f"{a3.notebook}.ipynb")
        .read_text()
    )
    grade_ids = set(nbcells.by_grade_id(nb["cells"], "tests"))
    assert set(a3.grade_ids()) == grade_ids


def _raw_record(header: bytes, payload: bytes = b"") -> bytes:
    return struct.pack("!4sII", b"AGF2", len(header), len(payload)) + header + payload


@pytest.mark.parametrize(
    ("header", "why"),
    [
        (b"[1, 2, 3]", "not an object"),
        (b'{"kind": "check", "name": "c", "scalars": {"x": ' + b"1" + b"0" * 400 + b"}}", "out of range"),
        (b'{"kind": "check", "name": "c", "scalars": {"x": [1, 2]}}', "where a number"),
        (b'{"kind": "check", "name": "c", "scalars": []}', "wrong type"),
        (b"[" * 100_000 + b"]" * 100_000, "malformed"),
        (
            b'{"kind": "check", "name": "c", "arrays": [{"key": "x", "dtype": "float64", "shape": [10], "nbytes": 8}]}',
            "does not match",
        ),
    ],
)
def test_undecodable_records_are_reported_not_raised(header: bytes, why: str) -> None:
    records, problem = decode_records(_raw_record(header, b"\0" * 8))
    assert records == [] and problem is not None and why in problem


def test_decoded_text_has_no_lone_surrogates_and_huge_floats_stay_floats() -> None:
    header = json.dumps(
        {"kind": "check", "name": "c\ud800", "error": "bad \udfff", "scalars": {"x": 1e400, "s": "\ud800"}}
    )
    records, problem = decode_records(_raw_record(header.encode()))
    assert problem is None
    (record,) = records
    for text in (record["name"], record["error"], record["data"]["s"]):
        text.encode("utf-8")  # raises on a lone surrogate
    assert record["data"]["x"] == float("inf")
    messages = compare_outputs({"y": 10**400}, {"y": 1.0}, (1e-9, 0.0))
    assert len(messages) == 1 and messages[0].startswith("y: expected 1.0, got 1000")
