"""A sweep group where one model's loss becomes NaN: that run is marked diverged, the others are untouched."""

from __future__ import annotations

import csv
import io

import pytest

from chop.sweep import InProcessBackend, SweepStore, parse_sweep, run_sweep
from chop.sweep.report import results_csv, summarise
from chop.tools.runtime import configure_threads
from test_runner import alone

RAW = {"model": "jsc-tiny", "dataset": "jsc", "max_epochs": 2, "repeats": 1, "seed": 5, "batch_size": 128,
       "grid": {"learning_rate": [1e-3, 1e30]}}  # 1e30: Adam's first steps overflow the activations


def test_a_diverged_run_is_marked_and_its_group_mate_equals_a_run_alone(tmp_path, tiny_splits):
    configure_threads()
    sweep = parse_sweep(RAW, "s.toml", "s")
    with SweepStore.create_or_open(tmp_path, sweep.definition(), sweep.swept_keys) as store:
        lines: list[str] = []
        run_sweep(sweep, tiny_splits, store, InProcessBackend(progress=False), lines.append)
        runs = store.runs()
    assert len(lines) == 1 and lines[0].endswith(", 1 diverged (loss NaN/inf)") and "K=2" in lines[0]
    healthy, diverged = sorted(runs, key=lambda r: r.config["learning_rate"])
    reference = alone(tiny_splits, healthy.seed, 1e-3, 128).history[-1]
    assert healthy.val_acc_last_epoch == pytest.approx(reference.val_acc_epoch[0], abs=1e-6)
    assert diverged.val_acc_last_epoch is None and diverged.test_acc is None
    rows = list(csv.DictReader(io.StringIO(results_csv(runs, sweep.swept_keys))))
    assert [(float(r["learning_rate"]), r["status"]) for r in rows] == [(1e-3, "finished"), (1e30, "diverged")]
    summaries = summarise(runs, sweep.swept_keys)
    assert [s.finished for s in summaries] == [1, 0]
    assert summaries[0].stats["val_acc_last_epoch"].mean == pytest.approx(reference.val_acc_epoch[0], abs=1e-6)
