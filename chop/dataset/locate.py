"""Where the ``jsc`` dataset finds its file, in the order of lab-api §2.

``--data-path`` (a file, or a directory searched as below), then ``$MACHOP_DATA_DIR``, then the cache
directory. In a directory the CERNBox file name wins, then ``hls4ml_lhc_jets_hlf.arff`` (or the only
``*.arff``), then the only ``*.parquet`` / ``*.csv``; two candidates of the same rank are an error.
Returning None means "nothing found": the caller downloads.
"""

from __future__ import annotations

import os
from pathlib import Path

from chop.dataset.cache import jsc_cache_dir
from chop.errors import DataError

CERNBOX_FILENAME = "processed-pythia82-lhc13-all-pt1-50k-r1_h022_e0175_t220_nonu_truth.z"
OPENML_FILENAME = "hls4ml_lhc_jets_hlf.arff"
DATA_DIR_ENV = "MACHOP_DATA_DIR"


def find_in_directory(directory: Path) -> Path | None:
    """The JSC file in ``directory`` by rank, None when there is none."""
    if (directory / CERNBOX_FILENAME).is_file():
        return directory / CERNBOX_FILENAME
    if (directory / OPENML_FILENAME).is_file():
        return directory / OPENML_FILENAME
    for patterns in (("*.arff",), ("*.parquet", "*.csv")):
        found = sorted(p for pattern in patterns for p in directory.glob(pattern) if p.is_file())
        if len(found) > 1:
            names = ", ".join(p.name for p in found)
            raise DataError(f"{directory} holds several candidate JSC files ({names}); pass one with --data-path FILE")
        if found:
            return found[0]
    return None


def _expected_names() -> str:
    return f"{CERNBOX_FILENAME}, {OPENML_FILENAME}, one *.arff, or one *.parquet/*.csv"


def locate_jsc(data_path: str | Path | None) -> Path | None:
    """The JSC source file by the lookup order, or None when it has to be downloaded."""
    if data_path is not None:
        path = Path(data_path).expanduser()
        if path.is_dir():
            found = find_in_directory(path)
            if found is None:
                raise DataError(f"no JSC data file in directory {path} (expected {_expected_names()})")
            return found
        if not path.exists():
            raise DataError(f"data path {path} does not exist")
        return path
    env_dir = os.environ.get(DATA_DIR_ENV)
    if env_dir:
        directory = Path(env_dir).expanduser()
        if directory.is_file():
            return directory
        if directory.is_dir() and (found := find_in_directory(directory)) is not None:
            return found
    cache = jsc_cache_dir()
    return find_in_directory(cache) if cache.is_dir() else None


def search_places() -> str:
    """The places named in 'not found' messages (one line)."""
    env_dir = os.environ.get(DATA_DIR_ENV)
    env_text = f"${DATA_DIR_ENV} (now {env_dir})" if env_dir else f"${DATA_DIR_ENV}"
    return f"--data-path FILE|DIR, {env_text}, or the cache directory {jsc_cache_dir()}"
