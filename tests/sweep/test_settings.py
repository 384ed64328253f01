"""A rerun whose settings changed outside the sweep's definition: one warning naming them, then resume."""

from __future__ import annotations

import hashlib
import logging

import pytest
import torch

import chop
from chop.models import get_model
from chop.sweep import InProcessBackend, SweepStore, parse_sweep, run_sweep
from chop.sweep.runner import session_settings
from chop.tools.runtime import configure_threads


def fine_tuning(checkpoint) -> dict:
    return {"model": "jsc-tiny", "dataset": "jsc", "max_epochs": 1, "accelerator": "cpu", "load_name": str(checkpoint),
            "grid": {"batch_size": [64, 128]}}


def save_start(path, seed: int, info) -> str:
    torch.manual_seed(seed)
    torch.save(get_model("jsc-tiny", dataset_info=info).state_dict(), path)
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


@pytest.fixture
def warnings():
    """Warnings of the runner, whether or not the CLI has set up machop's own handler (which stops propagation)."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append
    logger = logging.getLogger("chop.sweep.runner")
    logger.addHandler(handler)
    yield lambda: [record.getMessage() for record in records]
    logger.removeHandler(handler)


def test_session_settings_name_device_compile_versions_and_file_contents(tmp_path, tiny_splits):
    digest = save_start(tmp_path / "start.pt", 1, tiny_splits.info)
    sweep = parse_sweep(fine_tuning(tmp_path / "start.pt"), "s.toml", "s")
    assert session_settings(sweep) == {"device": "cpu", "compile": False, "machop": chop.__version__,
                                       "torch": torch.__version__, "files": {str(tmp_path / "start.pt"): digest}}


def test_remember_settings_reports_what_changed_since_the_last_session(tmp_path):
    sweep = parse_sweep({"model": "jsc-tiny", "dataset": "jsc", "grid": {"batch_size": [64]}}, "s.toml", "s")
    with SweepStore.create_or_open(tmp_path, sweep.definition(), sweep.swept_keys) as store:
        assert store.remember_settings({"device": "cpu", "torch": "2.4"}) == []
        assert store.remember_settings({"device": "cpu", "torch": "2.4"}) == []
        assert store.remember_settings({"device": "cuda", "torch": "2.4"}) == ["device: 'cpu' in the store, 'cuda' now"]
        assert store.remember_settings({"device": "cuda"}) == ["torch only in the store ('2.4')"]


def test_changed_checkpoint_warns_once_keeps_finished_runs_and_trains_the_rest(tmp_path, tiny_splits, warnings):
    configure_threads()
    checkpoint = tmp_path / "start.pt"
    before = save_start(checkpoint, 1, tiny_splits.info)
    sweep = parse_sweep(fine_tuning(checkpoint), "s.toml", "s")
    with SweepStore.create_or_open(tmp_path / "out", sweep.definition(), sweep.swept_keys) as store:
        run_sweep(sweep, tiny_splits, store, InProcessBackend(progress=False))
        kept = store.runs()[0].val_acc_last_epoch
        store._db.execute("UPDATE runs SET status='pending' WHERE config_id=2")  # as if interrupted
        assert warnings() == []
        after = save_start(checkpoint, 2, tiny_splits.info)
        outcome = run_sweep(sweep, tiny_splits, store, InProcessBackend(progress=False))
        assert warnings() == [
            f"{store.path}: settings changed since the last run (files.{checkpoint}: '{before}' in the store, "
            f"'{after}' now); the 1 finished runs keep their results, the 1 unfinished train with the new settings"]
        assert (outcome.trained, outcome.skipped) == (1, 1)
        assert store.runs()[0].val_acc_last_epoch == kept
        assert store.trainings() == {(1, 0): 1, (2, 0): 2}
        run_sweep(sweep, tiny_splits, store, InProcessBackend(progress=False))
    assert len(warnings()) == 1  # unchanged since: no new warning
