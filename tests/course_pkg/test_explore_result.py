"""``Explorable.result``: the data one frame draws, the public route for chapters that assert what a figure shows."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from course_pkg.explore import Choice, Explorable, Toggle
from course_pkg.explore.chapters import curvature, momentum, sgd


def _assert_same(a: Any, b: Any, where: str = "result") -> None:
    """Equal to the bit (NaNs in the same places), through dicts, lists and tuples."""
    assert type(a) is type(b), where
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            _assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=where)
    else:
        assert a == b or (a != a and b != b), where


def _drawn(explorable: Explorable, **params: Any) -> Any:
    """The result the frame at ``params`` is drawn from, caught on its way into ``draw``."""
    seen = []
    draw = explorable.draw

    def spy(result: Any, fig: Any) -> None:
        seen.append(result)
        draw(result, fig)

    explorable.draw = spy
    explorable.figure(**params)
    (result,) = seen
    return result


@pytest.mark.parametrize(
    ("factory", "params"),
    [
        (sgd.sharp_flat, {"batch_size": 1, "lr": 0.025}),  # both parameters off their defaults
        (momentum.momentum_rosenbrock, {"nesterov": True}),  # one set, the others from the defaults
        (curvature.worst_function, {}),  # all defaults
    ],
    ids=["sgd.sharp_flat", "momentum.momentum_rosenbrock", "curvature.worst_function"],
)
def test_result_is_what_the_frame_draws(factory: Any, params: dict[str, Any]) -> None:
    explorable = factory()
    _assert_same(explorable.result(**params), _drawn(explorable, **params))


def test_result_fills_defaults_and_passes_values_by_name() -> None:
    calls = []

    def compute(a: int, b: str, c: bool) -> dict[str, Any]:
        calls.append((a, b, c))
        return {"a": a}

    e = Explorable(
        name="toy",
        title="toy",
        params={
            "a": Choice([1, 2, 3], default=2, label="a"),
            "b": Choice(["x", "y"], default="y", label="b"),
            "c": Toggle(default=False, label="c"),
        },
        compute=compute,
        draw=lambda result, fig: fig.subplots(),
    )
    assert e.result() == {"a": 2} and e.result(a=3, c=True) == {"a": 3}
    assert calls == [(2, "y", False), (3, "y", True)]
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['d'\] for explorable 'toy'"):
        e.result(d=1)
    assert len(calls) == 2
