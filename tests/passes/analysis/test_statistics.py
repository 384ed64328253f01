"""Each statistic against numpy, for any split of the samples into batches (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from chop.errors import PassError
from chop.passes.graph.analysis.statistics import BatchViews, make_statistic


def numpy_reference(name: str, values: np.ndarray, axis, options: dict) -> dict:
    """``values`` reduced over ``axis`` with numpy (float64)."""
    v = np.abs(values) if options.get("abs") else values
    if name in ("variance_precise", "variance_online"):
        return {"mean": v.mean(axis=axis), "variance": v.var(axis=axis, ddof=1)}
    if name == "range_min_max":
        return {"min": v.min(axis=axis), "max": v.max(axis=axis), "range": v.max(axis=axis) - v.min(axis=axis)}
    if name == "range_quantile":
        q = options.get("quantile", 0.975)
        low, high = np.quantile(v, 1 - q, axis=axis), np.quantile(v, q, axis=axis)
        return {"min": low, "max": high, "range": high - low}
    if name == "range_n_sigma":
        n = options.get("num_sigma", 3)
        mean, std = v.mean(axis=axis), v.std(axis=axis, ddof=1)
        return {"min": mean - n * std, "max": mean + n * std, "range": 2 * n * std}
    return {"value": np.abs(v).mean(axis=axis)}


CASES = [
    ("variance_precise", {}), ("variance_online", {}), ("range_min_max", {}), ("range_min_max", {"abs": True}),
    ("range_quantile", {}), ("range_quantile", {"quantile": 0.8, "abs": True}), ("range_n_sigma", {}),
    ("range_n_sigma", {"num_sigma": 1.5}), ("abs_mean", {}),
]


@settings(max_examples=25, deadline=None)
@given(
    case=st.sampled_from(CASES),
    samples=st.integers(2, 40),
    cuts=st.lists(st.integers(1, 39), max_size=4),
    dims=st.sampled_from(["all", None, [2], [-1, 1]]),
    seed=st.integers(0, 2**16),
)
def test_statistic_matches_numpy_for_any_batching(case, samples, cuts, dims, seed) -> None:
    name, options = case
    values = np.random.default_rng(seed).normal(size=(samples, 3, 4)).astype(np.float32)
    statistic = make_statistic(name, {**options, "dims": dims}, "test")
    bounds = sorted({0, samples, *[c for c in cuts if c < samples]})
    for start, stop in zip(bounds, bounds[1:]):
        statistic.update(torch.from_numpy(values[start:stop]))
    result = statistic.compute()
    axis = {"all": None, None: 0}.get(dims if isinstance(dims, str) or dims is None else "x", None)
    if isinstance(dims, list):
        axis = tuple(sorted({0, *[d % 3 for d in dims]}))
    expected = numpy_reference(name, values.astype(np.float64), axis, options)
    reduced = values.size if axis is None else int(np.prod([values.shape[a] for a in np.atleast_1d(axis)]))
    assert result["count"] == reduced
    for key, value in expected.items():
        np.testing.assert_allclose(np.asarray(result[key], dtype=np.float64), value, rtol=1e-6, atol=1e-6, err_msg=key)


def test_dims_all_gives_floats_and_none_gives_lists() -> None:
    x = torch.arange(12, dtype=torch.float32).reshape(4, 3)
    everything = make_statistic("range_min_max", {"dims": "all"}, "t")
    everything.update(x)
    assert everything.compute() == {"min": 0.0, "max": 11.0, "range": 11.0, "count": 12}
    per_element = make_statistic("range_min_max", {"dims": None}, "t")
    per_element.update(x)
    assert per_element.compute() == {"min": [0.0, 1.0, 2.0], "max": [9.0, 10.0, 11.0], "range": [9.0, 9.0, 9.0], "count": 4}


def test_default_quantile_is_0975() -> None:
    x = torch.arange(1001, dtype=torch.float32)
    statistic = make_statistic("range_quantile", {}, "t")
    statistic.update(x.reshape(1, -1))
    assert statistic.compute() == pytest.approx({"min": 25.0, "max": 975.0, "range": 950.0, "count": 1001}, abs=1e-9)


def test_bad_options() -> None:
    with pytest.raises(PassError, match=r"dims \[5\] has axis 5, but the profiled tensor has 2 axes"):
        make_statistic("abs_mean", {"dims": [5]}, "t").update(torch.ones(2, 3))
    with pytest.raises(PassError, match=r"quantile must lie in \[0, 1\], got 1.5"):
        make_statistic("range_quantile", {"quantile": 1.5}, "t")
    with pytest.raises(PassError, match="var_mode must be 'precise' or 'online'"):
        make_statistic("range_n_sigma", {"var_mode": "fast"}, "t")


def test_options_are_checked_against_each_statistics_declaration() -> None:
    with pytest.raises(PassError, match=r"^t: statistic 'abs_mean' got bad options \['abs'\]: unknown option 'abs'; "
                                        r"known: dims, device$"):
        make_statistic("abs_mean", {"abs": True}, "t")
    with pytest.raises(PassError, match=r"statistic 'range_quantile' got bad options \['quantile'\]: "
                                        r"quantile = '0.9': expected a number$"):
        make_statistic("range_quantile", {"quantile": "0.9"}, "t")


def test_statistics_share_one_batchs_views_and_give_the_same_numbers() -> None:
    batch = torch.arange(12.0).reshape(3, 4)
    views = BatchViews(batch)
    shared = [make_statistic(name, {}, "t") for name in ("variance_online", "range_n_sigma", "abs_mean")]
    alone = [make_statistic(name, {}, "t") for name in ("variance_online", "range_n_sigma", "abs_mean")]
    for statistic, reference in zip(shared, alone):
        statistic.update(batch, views)
        reference.update(batch)
        assert statistic.compute() == reference.compute()
    with pytest.raises(ValueError, match="another batch"):
        shared[0].update(batch.clone(), views)
