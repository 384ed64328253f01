"""Preparation as lab-api §2 says: MASE's test rows, a disjoint validation split, train+val scaler."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsc_files import make_rows, reference_clean, write_h5
from sklearn.model_selection import train_test_split

from chop.dataset.prepare import clean, exact_first_occurrences, first_occurrences, shuffle_split, split_and_scale, split_sizes, standardiser
from chop.errors import DataError


def test_split_sizes_and_scaler_statistics_match_an_independent_computation(tmp_path: Path) -> None:
    rows = make_rows(1000, seed=7, duplicates=37, nan_rows=4)
    splits = split_and_scale(clean(write_h5(tmp_path / "j.z", rows)), "jsc")
    x, y = reference_clean(rows)
    n = len(y)
    test = -(-n // 5)  # ceil(n / 5) in integers
    validation = -(-(n - test) // 10)
    assert (len(splits.y_train), len(splits.y_val), len(splits.y_test)) == (n - test - validation, validation, test)
    # MASE's exact split: same call on the deduplicated rows.
    x_tv, x_test, y_tv, y_test = train_test_split(x, y, test_size=0.2, random_state=42)
    mean, std = x_tv.mean(axis=0), x_tv.std(axis=0)
    np.testing.assert_allclose(splits.provenance["scaler_mean"], mean, rtol=1e-12)
    np.testing.assert_allclose(splits.provenance["scaler_std"], std, rtol=1e-12)
    np.testing.assert_array_equal(splits.y_test, y_test)
    np.testing.assert_allclose(splits.x_test, ((x_test - mean) / std).astype(np.float32), rtol=1e-6, atol=1e-6)
    assert splits.x_train.dtype == np.float32 and splits.y_train.dtype == np.int64
    assert splits.provenance["rows"] == n and splits.provenance["nan_rows_dropped"] == 4


def test_validation_is_disjoint_from_train_and_test_and_together_they_cover_every_row(tmp_path: Path) -> None:
    rows = make_rows(300, seed=11)
    splits = split_and_scale(clean(write_h5(tmp_path / "j.z", rows)), "jsc")
    as_set = lambda x: {tuple(row) for row in np.round(x, 5).tolist()}  # noqa: E731
    train, val, test = as_set(splits.x_train), as_set(splits.x_val), as_set(splits.x_test)
    assert not train & val and not train & test and not val & test
    assert len(train) + len(val) + len(test) == 300


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=3, max_value=5000))
def test_split_is_exactly_sklearn_train_test_split(n: int) -> None:
    tv, test = train_test_split(np.arange(n), test_size=0.2, random_state=42)
    train, val = train_test_split(tv, test_size=0.1, random_state=42)
    own_tv, own_test = shuffle_split(np.arange(n), 0.2, 42)
    own_train, own_val = shuffle_split(own_tv, 0.1, 42)
    for ours, theirs in ((own_tv, tv), (own_test, test), (own_train, train), (own_val, val)):
        np.testing.assert_array_equal(ours, theirs)
    assert split_sizes(n) == (len(train), len(val), len(test))


def test_standardiser_matches_sklearn_standard_scaler_including_constant_columns() -> None:
    from sklearn.preprocessing import StandardScaler

    x = np.random.default_rng(3).normal(5.0, 2.0, size=(500, 16))
    x[:, 4] = 3.25
    mean, std = standardiser(x)
    scaler = StandardScaler().fit(x)
    np.testing.assert_allclose(mean, scaler.mean_, rtol=1e-12)
    np.testing.assert_allclose(std, scaler.scale_, rtol=1e-12)
    assert std[4] == 1.0


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([0.0, -0.0, 1.0, 2.5, -3.0]), st.integers(0, 4)), min_size=1, max_size=60))
def test_first_occurrences_agree_with_a_python_reference(pairs: list[tuple[float, int]]) -> None:
    x = np.array([[value] * 16 for value, _ in pairs])
    x[::3, 5] = 7.0  # vary one column so rows differ beyond the first value
    y = np.array([label for _, label in pairs])
    seen, expected = set(), []
    for i in range(len(y)):
        key = (*(v + 0.0 for v in x[i].tolist()), int(y[i]))  # -0.0 == 0.0, as pandas compares
        if key not in seen:
            seen.add(key)
            expected.append(i)
    assert first_occurrences(x, y).tolist() == expected
    rows = np.column_stack([x, y.astype(np.float64)]) + 0.0
    assert exact_first_occurrences(rows).tolist() == expected  # the fallback for hash collisions


def test_too_few_rows_to_split_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="only 2 usable rows"):
        split_and_scale(clean(write_h5(tmp_path / "j.z", make_rows(2))), "jsc")
