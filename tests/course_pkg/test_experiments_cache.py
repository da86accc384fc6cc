"""Tests of ``course_pkg.experiments.sgd.cached`` (the JSON cache of the SGD chapter's reproductions)."""

from __future__ import annotations

import json
import math

from course_pkg.experiments.sgd import cached


def test_cached_computes_once_and_reads_back(tmp_path):
    path = tmp_path / "sub" / "result.json"
    calls = []

    def compute():
        calls.append(1)
        return {"values": [1.5, math.inf], "n": 3}

    first = cached(path, {"seeds": [0, 1]}, compute)
    second = cached(path, {"seeds": [0, 1]}, compute)
    assert len(calls) == 1  # the second call reads the file
    assert first == second == {"values": [1.5, math.inf], "n": 3}
    stored = json.loads(path.read_text())
    assert stored["config"] == {"seeds": [0, 1]}


def test_cached_recomputes_for_another_config_or_a_broken_file(tmp_path):
    path = tmp_path / "result.json"
    cached(path, {"seeds": [0]}, lambda: [0])
    assert cached(path, {"seeds": [0, 1]}, lambda: [0, 1]) == [0, 1]  # another config: recomputed
    assert json.loads(path.read_text())["config"] == {"seeds": [0, 1]}  # and stored
    path.write_text("{not json")
    assert cached(path, {"seeds": [0, 1]}, lambda: [2]) == [2]  # unreadable: recomputed
    assert cached(path, {"seeds": (0, 1)}, lambda: [3]) == [2]  # a tuple config equals its JSON list form


def test_large_batch_comparison_small_config():
    from course_pkg.experiments.sgd import large_batch_comparison, load_digits_split

    data = load_digits_split(seed=0)
    n = data.X_train.shape[0]
    out = large_batch_comparison(data, seed=0, small=64, large=512, epochs=1, hidden=8, max_epochs=3)
    assert out["sb"]["steps"] == math.ceil(n / 64) and out["lb"]["steps"] == math.ceil(n / 512)
    # the longer large-batch run stops at the small-batch loss, or after max_epochs
    long = out["lb_long"]
    assert long["train_loss"] < out["sb"]["train_loss"] or long["epochs"] == 3
    assert long["steps"] == long["epochs"] * math.ceil(n / 512)
    for key in ("sb", "lb", "lb_long"):
        assert out[key]["sharpness"] >= 0 and 0 <= out[key]["test_accuracy"] <= 1
    assert out["barrier"] >= 0  # the maximum over a segment is at least the larger end point
    assert json.loads(json.dumps(out)) == out  # JSON-serialisable, as cached() needs
