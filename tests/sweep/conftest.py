"""Fixtures for sweep tests: tiny synthetic splits and a tiny parquet file."""

from __future__ import annotations

from pathlib import Path

import pytest

from chop.dataset.splits import DatasetInfo, DatasetSplits
from sweep_data import learnable, write_parquet


@pytest.fixture
def tiny_splits() -> DatasetSplits:
    (xt, yt), (xv, yv), (xs, ys) = learnable(600, 1), learnable(150, 2), learnable(150, 3)
    return DatasetSplits(DatasetInfo(name="tiny"), xt, yt, xv, yv, xs, ys, provenance={"sha256": "tiny"})


@pytest.fixture
def tiny_parquet(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("MACHOP_CACHE_DIR", str(tmp_path / "cache"))
    return write_parquet(tmp_path / "tiny.parquet")
