"""Tiny learnable JSC-shaped data for sweep tests (imported by tests in other directories too)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from chop.dataset.splits import JSC_FEATURES, JSC_LABEL_COLUMNS


def learnable(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian features whose class is the argmax of a fixed linear map: a network can learn it."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, 16)).astype(np.float32)
    weights = np.random.default_rng(0).standard_normal((16, 5)).astype(np.float32)
    return x, (x @ weights).argmax(axis=1).astype(np.int64)


def write_parquet(path: Path, rows: int = 1200, seed: int = 7) -> Path:
    """A parquet file in the real JSC layout (16 named features, one-hot j_g..j_t) for dataset `jsc`."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    x, y = learnable(rows, seed)
    columns = {name: x[:, j] for j, name in enumerate(JSC_FEATURES)}
    columns.update({name: (y == k).astype(np.int64) for k, name in enumerate(JSC_LABEL_COLUMNS)})
    pq.write_table(pa.table(columns), path)
    return path
