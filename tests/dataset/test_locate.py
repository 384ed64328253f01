"""Where `jsc` finds its file (lab-api §2 order)."""

from __future__ import annotations

from pathlib import Path

import pytest

from chop.dataset.cache import jsc_cache_dir
from chop.dataset.locate import CERNBOX_FILENAME, OPENML_FILENAME, find_in_directory, locate_jsc
from chop.errors import DataError


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def test_directory_ranks_cernbox_then_openml_then_any_arff_then_table(tmp_path: Path) -> None:
    touch(tmp_path / "b.csv")
    assert find_in_directory(tmp_path) == tmp_path / "b.csv"
    touch(tmp_path / "other.arff")
    assert find_in_directory(tmp_path) == tmp_path / "other.arff"
    touch(tmp_path / OPENML_FILENAME)
    assert find_in_directory(tmp_path) == tmp_path / OPENML_FILENAME
    touch(tmp_path / CERNBOX_FILENAME)
    assert find_in_directory(tmp_path) == tmp_path / CERNBOX_FILENAME


def test_two_candidates_of_the_same_rank_are_an_error_naming_both(tmp_path: Path) -> None:
    touch(tmp_path / "a.parquet")
    touch(tmp_path / "b.csv")
    with pytest.raises(DataError, match=r"a\.parquet, b\.csv"):
        find_in_directory(tmp_path)


def test_lookup_order_data_path_then_env_then_cache(tmp_path: Path, monkeypatch) -> None:
    assert locate_jsc(None) is None
    cached = touch(jsc_cache_dir() / "cached.parquet")
    assert locate_jsc(None) == cached
    env_file = touch(tmp_path / "env" / OPENML_FILENAME)
    monkeypatch.setenv("MACHOP_DATA_DIR", str(env_file.parent))
    assert locate_jsc(None) == env_file
    explicit = touch(tmp_path / "mine" / "x.csv")
    assert locate_jsc(explicit) == explicit
    assert locate_jsc(explicit.parent) == explicit


def test_empty_data_path_directory_and_missing_path_are_errors(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no JSC data file in directory"):
        locate_jsc(tmp_path / "empty")
    with pytest.raises(DataError, match="does not exist"):
        locate_jsc(tmp_path / "missing.h5")
