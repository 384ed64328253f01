"""The machop cache directory: downloaded JSC files, file hashes and prepared arrays.

Layout under the cache root (``$MACHOP_CACHE_DIR``, else ``~/.cache/machop``):

- ``jsc/``       downloaded source files (the third place ``jsc`` looks, lab-api §2);
- ``hashes/``    one small JSON per source file: its sha256, valid while size/mtime/inode stay the same,
                 so a second load does not re-hash a 200 MB file;
- ``prepared/``  ``<key>.npz`` with the six split arrays and the provenance, keyed by the sha256 of the
                 source file and the preparation options.

Everything is written through :mod:`chop.tools.atomic`. An unwritable cache is an error that says how
to fix it (point ``MACHOP_CACHE_DIR`` elsewhere), never a silent slowdown.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from chop.dataset.splits import DatasetInfo, DatasetSplits
from chop.errors import DataError, MachopError
from chop.tools.atomic import atomic_path, atomic_write_text
from chop.tools.atomic import ensure_writable as writable_directory

CACHE_ENV = "MACHOP_CACHE_DIR"
_ARRAYS = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")


def cache_root() -> Path:
    """``$MACHOP_CACHE_DIR`` or ``~/.cache/machop``."""
    configured = os.environ.get(CACHE_ENV)
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "machop"


def jsc_cache_dir() -> Path:
    return cache_root() / "jsc"


CACHE_HINT = f"set {CACHE_ENV} to a writable directory"


def _unwritable(path: Path, error: Exception, hint: str = CACHE_HINT) -> DataError:
    reason = getattr(error, "strerror", None) or str(error)
    return DataError(f"directory {path} is not writable ({reason}); {hint}")


def ensure_writable(directory: Path, hint: str = CACHE_HINT) -> Path:
    """Create ``directory`` if needed and check that files can be created in it."""
    return writable_directory(directory, DataError, hint)


def file_sha256(path: Path, chunk: int = 1 << 22) -> str:
    """The sha256 of a file, read in 4 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def source_sha256(path: Path) -> str:
    """sha256 of a source file, remembered per (path, size, mtime, inode) in ``hashes/``."""
    stat = path.stat()
    identity = {"path": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "inode": stat.st_ino}
    directory = ensure_writable(cache_root() / "hashes")
    record = directory / (hashlib.sha256(identity["path"].encode()).hexdigest()[:32] + ".json")
    try:
        remembered = json.loads(record.read_text())
        if {k: remembered.get(k) for k in identity} == identity:
            return str(remembered["sha256"])
    except (OSError, ValueError, KeyError):
        pass
    digest = file_sha256(path)
    _write_text(record, json.dumps({**identity, "sha256": digest}))
    return digest


def prepared_key(sha256: str, options: dict[str, Any]) -> str:
    """Cache key of prepared arrays: source hash + a hash of the preparation options."""
    options_hash = hashlib.sha256(json.dumps(options, sort_keys=True).encode()).hexdigest()[:16]
    return f"{sha256[:32]}-{options_hash}"


def load_prepared(key: str, name: str) -> DatasetSplits | None:
    """The cached splits for ``key``, or None when absent or unreadable (then they are rebuilt)."""
    path = cache_root() / "prepared" / f"{key}.npz"
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {field: stored[field] for field in _ARRAYS}
            provenance = json.loads(str(stored["provenance"]))
    except (OSError, ValueError, KeyError):
        return None
    return DatasetSplits(info=DatasetInfo(name=name), provenance=provenance, **arrays)


def store_prepared(key: str, splits: DatasetSplits) -> Path:
    """Write the splits to ``prepared/<key>.npz`` atomically (uncompressed: loading is then ~memcpy)."""
    directory = ensure_writable(cache_root() / "prepared")
    target = directory / f"{key}.npz"
    arrays = {field: getattr(splits, field) for field in _ARRAYS}
    try:
        with atomic_path(target) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, provenance=np.array(json.dumps(splits.provenance)), **arrays)
    except MachopError as error:
        raise _unwritable(directory, error) from None
    return target


def _write_text(path: Path, text: str) -> None:
    try:
        atomic_write_text(path, text)
    except MachopError as error:
        raise _unwritable(path.parent, error) from None
