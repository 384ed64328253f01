"""sweep.sqlite: round trips, refusal of a different definition, and a write failure that keeps the store."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from chop.sweep.config import parse_sweep
from chop.sweep.store import EpochMetrics, RunResult, StoreError, SweepStore, differences

RAW = {"model": "jsc-tiny", "dataset": "jsc", "max_epochs": 2, "repeats": 2,
       "grid": {"learning_rate": [1e-3, 1e-2], "batch_size": [16, 32]}}


def sweep(**change):
    return parse_sweep({**RAW, **change}, "s.toml", "s")


def fake_result(config_id: int, repeat: int, epochs: int = 2, base: float = 0.5, group_size: int = 4) -> RunResult:
    history = tuple(EpochMetrics(e, base + e / 100, 1.0 - e / 10, base + config_id / 10 + e / 1000, 0.9, 0.25)
                    for e in range(epochs))
    return RunResult(config_id, repeat, history[-1].val_acc_epoch, 0.9, history[-1].train_acc_step,
                     history[-1].train_loss_step, base + repeat / 100, 1.1, group_size, 8.0, 1.0, 2.0, "here", history)


def test_round_trip(tmp_path):
    s = sweep()
    with SweepStore.create_or_open(tmp_path, s.definition(), s.swept_keys) as store:
        store.add_planned(s.runs())
        store.add_planned(s.runs())  # planning twice adds nothing
        store.record_group([fake_result(1, 0), fake_result(1, 1)])
    with SweepStore.open_existing(tmp_path) as store:
        assert store.finished_keys() == {(1, 0), (1, 1)}
        assert store.swept_keys() == ["learning_rate", "batch_size"]
        runs = store.runs()
    assert [(r.config_id, r.repeat, r.seed, r.status) for r in runs] == [
        (c, r, r, "finished" if c == 1 else "pending") for c in (1, 2, 3, 4) for r in (0, 1)]
    first = runs[1]
    assert first.config["learning_rate"] == 1e-3 and first.config["batch_size"] == 16
    assert first.val_acc_last_epoch == pytest.approx(0.5 + 0.1 + 0.001)
    assert first.test_acc == pytest.approx(0.51)
    assert first.wall_seconds == pytest.approx(8.0 / 4)
    assert [e.epoch for e in first.history] == [0, 1]
    assert first.history[1].train_loss_step == pytest.approx(0.9)


def test_same_definition_reopens_and_keeps_results(tmp_path):
    s = sweep()
    with SweepStore.create_or_open(tmp_path, s.definition(), s.swept_keys) as store:
        store.add_planned(s.runs())
        store.record_group([fake_result(2, 0)])
    with SweepStore.create_or_open(tmp_path, sweep().definition(), s.swept_keys) as store:
        assert store.finished_keys() == {(2, 0)}


def test_different_definition_is_refused_naming_the_difference(tmp_path):
    s = sweep()
    SweepStore.create_or_open(tmp_path, s.definition(), s.swept_keys).close()
    other = sweep(grid={"learning_rate": [1e-3, 0.1], "batch_size": [16, 32]})
    with pytest.raises(StoreError) as error:
        SweepStore.create_or_open(tmp_path, other.definition(), other.swept_keys)
    message = str(error.value)
    assert "belongs to a different sweep definition" in message
    assert "configurations[2].learning_rate: 0.01 in the store, 0.1 now" in message
    assert "\n" not in message
    with pytest.raises(StoreError, match=r"repeats: 2 in the store, 3 now"):
        SweepStore.create_or_open(tmp_path, sweep(repeats=3).definition(), s.swept_keys)


def test_differences_lists_paths():
    assert differences({"a": [1, {"b": 2}], "c": 1}, {"a": [1, {"b": 3}], "d": 1}) == [
        "a[1].b: 2 in the store, 3 now", "c only in the store (1)", "d only now (1)"]


def test_unusable_directory_and_missing_store(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    s = sweep()
    with pytest.raises(StoreError, match=r"cannot create sweep directory .*file/s"):
        SweepStore.create_or_open(blocker / "s", s.definition(), s.swept_keys)
    with pytest.raises(StoreError, match=r"no results store in .*run `ch sweep run` first"):
        SweepStore.open_existing(tmp_path)
    (tmp_path / "sweep.sqlite").write_bytes(b"garbage" * 1000)
    with pytest.raises(StoreError, match=r"sweep.sqlite"):
        SweepStore.open_existing(tmp_path)


WRITER = textwrap.dedent("""
    import resource, signal, sys
    sys.path.insert(0, {tests!r})
    from test_store import fake_result, sweep
    from chop.sweep.store import StoreError, SweepStore
    s = sweep()
    store = SweepStore.create_or_open({directory!r}, s.definition(), s.swept_keys)
    store.add_planned(s.runs())
    store.record_group([fake_result(1, 0), fake_result(1, 1)])
    # The disk is now "full": no file of this process may grow any more.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    size = max(__import__("os").path.getsize(p) for p in [store.path, str(store.path) + "-wal"])
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    try:
        store.record_group([fake_result(2, r, epochs=400) for r in (0, 1)])
    except StoreError as error:
        print(error)
        sys.exit(3)
""")


def test_disk_full_gives_a_clear_error_and_the_store_stays_readable(tmp_path):
    directory = tmp_path / "out"
    script = WRITER.format(tests=os.path.dirname(__file__), directory=str(directory))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 3, done.stderr
    message = done.stdout.strip()
    assert message.startswith(f"cannot write to results store {directory / 'sweep.sqlite'} (finished group):")
    assert "runs finished before this are kept" in message
    with SweepStore.open_existing(directory) as store:
        assert store.finished_keys() == {(1, 0), (1, 1)}
        assert all(len(run.history) == (2 if run.config_id == 1 else 0) for run in store.runs())
