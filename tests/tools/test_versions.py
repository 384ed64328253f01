"""``-vN`` names: the next free version, and moving an earlier run aside without losing it."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chop.tools.versions import move_aside, replacing, versioned_name, versions


def test_versioned_name_follows_lightning() -> None:
    assert [versioned_name("best", v, ".ckpt") for v in (0, 1, 12)] == ["best.ckpt", "best-v1.ckpt", "best-v12.ckpt"]


def test_versions_reads_only_names_of_that_stem(tmp_path: Path) -> None:
    for name in ("quantize", "quantize-v2", "quantize-v10", "quantize-vx", "quantize-v1.bak", "quantizer-v3", "q-v1"):
        (tmp_path / name).mkdir()
    assert sorted(versions(tmp_path, "quantize")) == [0, 2, 10]
    assert versions(tmp_path / "missing", "quantize") == []


def test_move_aside_keeps_the_earlier_run_under_the_next_free_version(tmp_path: Path) -> None:
    run = tmp_path / "search_ckpts"
    assert move_aside(run) is None
    run.mkdir()
    (run / "log.json").write_text("first")
    assert move_aside(run) == tmp_path / "search_ckpts-v1" and not run.exists()
    run.mkdir()
    (run / "log.json").write_text("second")
    (tmp_path / "search_ckpts-v5").mkdir()  # a gap: the next is one above the highest
    assert move_aside(run) == tmp_path / "search_ckpts-v6"
    assert (tmp_path / "search_ckpts-v1" / "log.json").read_text() == "first"
    assert (tmp_path / "search_ckpts-v6" / "log.json").read_text() == "second"


@given(st.lists(st.integers(1, 40), max_size=6, unique=True))
def test_a_file_moves_one_above_the_highest_version(existing: list[int]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        for version in existing:
            (directory / versioned_name("quantize_report.json", version)).write_text(str(version))
        (directory / "quantize_report.json").write_text("latest")
        moved = move_aside(directory / "quantize_report.json")
        assert moved == directory / f"quantize_report.json-v{max(existing, default=0) + 1}"
        assert moved.read_text() == "latest"


def test_replacing_puts_the_earlier_run_back_when_the_new_one_fails(tmp_path: Path) -> None:
    run = tmp_path / "hardware"
    run.mkdir()
    (run / "report.json").write_text("earlier")
    with pytest.raises(KeyboardInterrupt), replacing(run) as kept:
        assert kept == tmp_path / "hardware-v1" and not run.exists()
        run.mkdir()
        (run / "partial.sv").write_text("half")
        raise KeyboardInterrupt
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hardware"]
    assert [p.name for p in run.iterdir()] == ["report.json"] and (run / "report.json").read_text() == "earlier"
    with replacing(run) as kept:  # a run that succeeds keeps the earlier one aside
        run.mkdir()
    assert kept == tmp_path / "hardware-v1" and (kept / "report.json").read_text() == "earlier"
