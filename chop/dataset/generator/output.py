"""Writing a generated sample: parquet (float32 features, int8 labels, zstd) and its provenance JSON."""

from __future__ import annotations

import hashlib
import json
import platform
from importlib import metadata
from pathlib import Path

import numpy as np

from chop.tools.atomic import atomic_path, atomic_write_text

PACKAGES = ("machop", "pythia8mc", "fastjet", "numpy", "pyarrow")


def provenance_path(parquet: Path) -> Path:
    """``x.parquet`` -> ``x.provenance.json``."""
    return parquet.with_name(parquet.stem + ".provenance.json")


def write_parquet(columns: dict[str, np.ndarray], path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = {
        name: pa.array(values.astype(np.int8) if values.dtype.kind == "i" else values.astype(np.float32))
        for name, values in columns.items()
    }
    with atomic_path(path) as tmp:
        pq.write_table(pa.table(arrays), tmp, compression="zstd")
        tmp.chmod(0o644)  # a shipped data file, readable by everyone (mkstemp makes it 0600)


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in PACKAGES:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_provenance(path: Path, command: list[str], options: dict, workers: int, rows: int, seconds: float,
                     dropped: dict[str, int]) -> dict:
    """Record how ``path`` was made: the exact command, options (seed included), versions, hash.

    ``dropped`` counts, per class, the jets the cleaning cut removed (``--min-groomed-constituents``),
    as the loaders count the NaN rows they drop.
    """
    record = {
        "file": path.name,
        "command": command,
        "options": options,
        "workers": workers,
        "rows": rows,
        "dropped_few_groomed_constituents": dropped,
        "seconds": round(seconds, 1),
        "sha256": sha256(path),
        "versions": versions(),
        "platform": f"{platform.system()} {platform.machine()}",
    }
    target = provenance_path(path)
    atomic_write_text(target, json.dumps(record, indent=2) + "\n")
    target.chmod(0o644)
    return record
