"""Builders for small JSC files in the real formats (CERNBox HDF5, OpenML ARFF, parquet, CSV)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chop.dataset.splits import JSC_CLASSES, JSC_FEATURES, JSC_LABEL_COLUMNS


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class JscRows:
    """Rows as written to a file: features (N, 16) float32-exact, labels 0..4."""

    x: np.ndarray
    y: np.ndarray


def make_rows(n: int, seed: int = 0, duplicates: int = 0, nan_rows: int = 0, separable: bool = False) -> JscRows:
    """``n`` distinct rows, then ``duplicates`` copies of earlier rows and ``nan_rows`` rows with a NaN.

    Values are float32-representable so every format stores them exactly. With ``separable`` the
    features depend strongly on the class (feature j of class k is centred on 10·k).
    """
    rng = np.random.default_rng(seed)
    y = rng.integers(0, len(JSC_CLASSES), n)
    x = rng.normal(size=(n, len(JSC_FEATURES)))
    if separable:
        x += 10.0 * y[:, None]
    x = x.astype(np.float32).astype(np.float64)
    copies = rng.integers(0, n, duplicates)
    x = np.concatenate([x, x[copies]])
    y = np.concatenate([y, y[copies]])
    if nan_rows:
        bad = rng.normal(size=(nan_rows, len(JSC_FEATURES))).astype(np.float32).astype(np.float64)
        bad[np.arange(nan_rows), rng.integers(0, len(JSC_FEATURES), nan_rows)] = np.nan
        x = np.concatenate([x, bad])
        y = np.concatenate([y, rng.integers(0, len(JSC_CLASSES), nan_rows)])
    return JscRows(x, y)


def write_h5(path: Path, rows: JscRows, key: str = "t_allpar_new") -> Path:
    """The CERNBox layout: one structured array with named float32 fields (plus unused extras)."""
    import h5py

    names = ["j_ptfrac", *JSC_FEATURES, "j_pt", *JSC_LABEL_COLUMNS]
    table = np.zeros(len(rows.y), dtype=[(name, "<f4") for name in names])
    for j, feature in enumerate(JSC_FEATURES):
        table[feature] = rows.x[:, j]
    for k, column in enumerate(JSC_LABEL_COLUMNS):
        table[column] = rows.y == k
    table["j_pt"] = 1000.0
    with h5py.File(path, "w") as handle:
        handle.create_dataset(key, data=table)
    return path


def write_arff(path: Path, rows: JscRows) -> Path:
    """OpenML 42468's layout: unprefixed feature names, a nominal ``class`` column last."""
    lines = ["% hls4ml jets, OpenML-style", "@RELATION hls4ml_lhc_jets_hlf", ""]
    lines += [f"@ATTRIBUTE {feature[2:]} NUMERIC" for feature in JSC_FEATURES]
    lines += ["@ATTRIBUTE class {g,q,t,w,z}", "", "@DATA"]
    for features, label in zip(rows.x, rows.y):
        values = ["?" if np.isnan(v) else repr(float(v)) for v in features]
        lines.append(",".join(values + [JSC_CLASSES[label]]))
    path.write_text("\n".join(lines) + "\n")
    return path


def _columns(rows: JscRows, labels: str) -> dict[str, np.ndarray]:
    columns = {feature: rows.x[:, j] for j, feature in enumerate(JSC_FEATURES)}
    if labels == "onehot":
        columns.update({c: (rows.y == k).astype(np.float32) for k, c in enumerate(JSC_LABEL_COLUMNS)})
    elif labels == "label":
        columns["label"] = rows.y.astype(np.int64)
    else:
        columns[labels] = np.array([JSC_CLASSES[k] for k in rows.y], dtype=object)
    return columns


def write_parquet(path: Path, rows: JscRows, labels: str = "onehot") -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table(_columns(rows, labels)), path)
    return path


def write_csv(path: Path, rows: JscRows, labels: str = "onehot") -> Path:
    columns = _columns(rows, labels)
    names = list(columns)
    lines = [",".join(names)]
    for i in range(len(rows.y)):
        cells = []
        for name in names:
            value = columns[name][i]
            cells.append(str(value) if isinstance(value, str) else ("" if np.isnan(value) else repr(float(value))))
        lines.append(",".join(cells))
    path.write_text("\n".join(lines) + "\n")
    return path


WRITERS: dict[str, Callable[..., Path]] = {
    "h5": lambda d, rows: write_h5(d / "jets.z", rows),
    "arff": lambda d, rows: write_arff(d / "jets.arff", rows),
    "parquet": lambda d, rows: write_parquet(d / "jets.parquet", rows),
    "parquet-label": lambda d, rows: write_parquet(d / "jets.parquet", rows, labels="label"),
    "csv": lambda d, rows: write_csv(d / "jets.csv", rows),
    "csv-class": lambda d, rows: write_csv(d / "jets.csv", rows, labels="class"),
    "csv-jet_type": lambda d, rows: write_csv(d / "jets.csv", rows, labels="jet_type"),
}


def reference_clean(rows: JscRows) -> tuple[np.ndarray, np.ndarray]:
    """Independent cleaning: drop NaN rows, then keep first occurrences (a dict of row tuples)."""
    seen: set[tuple[float, ...]] = set()
    keep = []
    for i, (features, label) in enumerate(zip(rows.x, rows.y)):
        if np.isnan(features).any():
            continue
        key = (*features.tolist(), float(label))
        if key not in seen:
            seen.add(key)
            keep.append(i)
    return rows.x[keep], rows.y[keep]
