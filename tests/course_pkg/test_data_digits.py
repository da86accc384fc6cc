"""``data.load_digits``, the one loader of the digits, against scikit-learn's own preprocessing and splitting."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits as sklearn_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from course_pkg import data
from course_pkg.experiments import choosing, noisy_gradients, sgd

X_RAW, Y_RAW = sklearn_digits(return_X_y=True)


def test_standardized_with_statistics_of_all_samples_is_standard_scaler() -> None:
    digits = data.load_digits()
    assert set(digits) == {"X", "y"} and digits["X"].dtype == np.float64 and digits["y"].dtype == np.int64
    np.testing.assert_allclose(digits["X"], StandardScaler().fit_transform(X_RAW), atol=1e-12)
    np.testing.assert_array_equal(digits["y"], Y_RAW)


def test_stratified_split_standardizes_with_training_statistics_only() -> None:
    digits = data.load_digits(split="stratified", test_size=0.3, seed=4)
    X_tr, X_te, y_tr, y_te = train_test_split(X_RAW, Y_RAW, test_size=0.3, random_state=4, stratify=Y_RAW)
    scaler = StandardScaler().fit(X_tr)
    np.testing.assert_allclose(digits["X_train"], scaler.transform(X_tr), atol=1e-12)
    np.testing.assert_allclose(digits["X_test"], scaler.transform(X_te), atol=1e-12)
    np.testing.assert_array_equal(digits["y_train"], y_tr)
    np.testing.assert_array_equal(digits["y_test"], y_te)
    offset = data.load_digits(split="stratified", test_size=0.3, seed=4, std_offset=1.0)
    np.testing.assert_allclose(offset["X_test"], (X_te - X_tr.mean(0)) / (X_tr.std(0) + 1.0), atol=1e-12)


def test_shuffled_split_in_unit_scale() -> None:
    digits = data.load_digits(split="shuffled", seed=7, train_val=(900, 400), scaling="unit")
    perm = np.random.default_rng(7).permutation(len(Y_RAW))
    parts = {"train": slice(0, 900), "val": slice(900, 1300), "test": slice(1300, None)}
    for name, part in parts.items():
        np.testing.assert_array_equal(digits[f"X_{name}"], X_RAW[perm][part] / 16.0)
        np.testing.assert_array_equal(digits[f"y_{name}"], Y_RAW[perm][part])
    assert 0.0 <= digits["X_train"].min() and digits["X_train"].max() <= 1.0


def test_the_presets_are_the_loader_with_their_options() -> None:
    split = sgd.load_digits_split(seed=1)
    ref = data.load_digits(split="stratified", seed=1, std_offset=1.0)
    np.testing.assert_array_equal(split.X_test.numpy(), ref["X_test"].astype(np.float32))
    X, y = noisy_gradients.digits_tensors()
    np.testing.assert_allclose(X.numpy(), (X_RAW - X_RAW.mean(0)) / (X_RAW.std(0) + 1e-8), atol=1e-12)
    np.testing.assert_array_equal(y.numpy(), Y_RAW)
    tensors = choosing.digits_split(2)
    assert [tuple(tensors[k].shape) for k in ("X_train", "X_val", "X_test")] == [
        (1000, 64),
        (300, 64),
        (497, 64),
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"split": "random"}, "split must be one of"),
        ({"scaling": "minmax"}, "scaling must be one of"),
        ({"scaling": "unit", "std_offset": 1.0}, "std_offset applies to scaling='standardize' only"),
        ({"split": "stratified", "test_size": 1.5}, r"test_size must lie in \(0, 1\)"),
        ({"split": "shuffled", "train_val": (1500, 297)}, "train_val must leave samples for testing"),
        ({"classes": (4,)}, "at least two distinct digits"),
    ],
)
def test_bad_options_are_named(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        data.load_digits(**kwargs)
