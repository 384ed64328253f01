"""Prepared arrays are cached by file hash + preparation options, and reused."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from jsc_files import make_rows, write_parquet

import chop.dataset.load as load_module
from chop.dataset import load_dataset
from chop.dataset.cache import file_sha256, source_sha256
from chop.errors import DataError

ARRAYS = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")


def test_second_load_comes_from_the_cache_with_identical_arrays(tmp_path: Path, isolated: Path, monkeypatch) -> None:
    path = write_parquet(tmp_path / "jets.parquet", make_rows(200, seed=1, duplicates=3))
    first = load_dataset("jsc", path)
    cached_files = list((isolated / "prepared").glob("*.npz"))
    assert len(cached_files) == 1 and cached_files[0].stem == first.provenance["cache"]

    def no_preparation(*args, **kwargs):
        raise AssertionError("the cache was not used")

    monkeypatch.setattr(load_module, "clean", no_preparation)
    second = load_dataset("jsc", path)
    for name in ARRAYS:
        np.testing.assert_array_equal(getattr(second, name), getattr(first, name))
        assert getattr(second, name).dtype == getattr(first, name).dtype
    assert second.provenance["duplicates_dropped"] == 3
    assert second.provenance["sha256"] == file_sha256(path)


def test_changed_file_content_is_prepared_again(tmp_path: Path) -> None:
    path = tmp_path / "jets.parquet"
    first = load_dataset("jsc", write_parquet(path, make_rows(100, seed=1)))
    second = load_dataset("jsc", write_parquet(path, make_rows(120, seed=2)))
    assert first.provenance["cache"] != second.provenance["cache"]
    assert len(second.y_train) + len(second.y_val) + len(second.y_test) == 120


def test_file_hash_is_remembered_until_the_file_changes(tmp_path: Path) -> None:
    path = tmp_path / "blob.bin"
    path.write_bytes(b"a" * 1000)
    assert source_sha256(path) == file_sha256(path)
    stat = path.stat()
    path.write_bytes(b"b" * 1000)  # same size; restore the old mtime: the remembered hash is kept
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    remembered = source_sha256(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert remembered != file_sha256(path)
    assert source_sha256(path) == file_sha256(path)


def test_unwritable_cache_directory_is_a_one_line_error(tmp_path: Path, monkeypatch) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    monkeypatch.setenv("MACHOP_CACHE_DIR", str(blocker / "cache"))
    path = write_parquet(tmp_path / "jets.parquet", make_rows(50))
    with pytest.raises(DataError, match=r"not writable .*MACHOP_CACHE_DIR"):
        load_dataset("jsc", path)
