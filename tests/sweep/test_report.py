"""Tables and plots from a store: statistics against numpy/scipy, CSV round trip, the three plots."""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from chop.sweep.config import load_sweep
from chop.sweep.report import Stat, results_csv, write_report
from chop.sweep.store import EpochMetrics, RunResult, SweepStore

PNG = b"\x89PNG\r\n\x1a\n"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=2, max_size=12))
def test_stat_matches_numpy_and_scipy(values):
    s = Stat.of(values)
    assert s.n == len(values)
    assert s.mean == pytest.approx(np.mean(values), abs=1e-12)
    assert s.std == pytest.approx(np.std(values, ddof=1), abs=1e-12)
    if s.std > 0:
        low, high = stats.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=stats.sem(values))
        assert (s.ci_low, s.ci_high) == (pytest.approx(low, abs=1e-9), pytest.approx(high, abs=1e-9))
    assert s.ci_low <= s.mean <= s.ci_high


def test_stat_of_few_values():
    assert Stat.of([]).text() == "—"
    one = Stat.of([0.25])
    assert one.text() == "0.2500" and math.isnan(one.std)
    assert Stat.of([0.5, 0.7]).text() == "0.6000 ± 0.1414 (-0.6706–1.8706)"


def lab1_store(tmp_path, repeats: int = 3):
    """A lab1-shaped store filled with known numbers: val acc = 0.5 + id/100 + repeat/1000."""
    sweep = load_sweep(__import__("pathlib").Path(__file__).resolve().parents[2] / "configs/sweeps/lab1.toml")
    directory = tmp_path / "lab1"
    store = SweepStore.create_or_open(directory, {**sweep.definition(), "repeats": repeats}, sweep.swept_keys)
    runs = [run for run in sweep.runs() if run.repeat < repeats]
    store.add_planned(runs)
    results = []
    for run in runs:
        if run.config.config_id == 12 and run.repeat == 2:
            continue  # one unfinished run
        value = 0.5 + run.config.config_id / 100 + run.repeat / 1000
        history = tuple(EpochMetrics(e, value - 0.1, 1.0, value - (2 - e) / 100, 1.0, 0.5) for e in range(3))
        results.append(RunResult(run.config.config_id, run.repeat, value, 1.0, value - 0.1, 1.0, value + 0.01, 1.0,
                                 3, 6.0, 0.0, 1.0, "w", history))
    store.record_group(results)
    return store, directory


def test_report_files_from_a_lab1_store(tmp_path):
    store, directory = lab1_store(tmp_path)
    with store:
        report = write_report(store, directory)
    names = sorted(p.name for p in report.files)
    assert names == ["curves.png", "results.csv", "results.md", "val_acc_vs_batch_size.png",
                     "val_acc_vs_learning_rate.png", "val_acc_vs_max_epochs.png"]
    for path in report.files:
        if path.suffix == ".png":
            assert path.read_bytes()[:8] == PNG
    rows = list(csv.DictReader(io.StringIO((directory / "results.csv").read_text())))
    assert len(rows) == 36
    assert list(rows[0]) == ["config_id", "label", "max_epochs", "learning_rate", "batch_size", "repeat", "seed",
                             "status", "val_acc_last_epoch", "train_acc_last_step", "test_acc", "wall_seconds"]
    model3 = [r for r in rows if r["label"] == "model3"]
    assert [(r["max_epochs"], r["learning_rate"], r["batch_size"], r["seed"]) for r in model3] == [
        ("100", "1e-05", "256", str(k)) for k in range(3)]
    assert float(model3[2]["val_acc_last_epoch"]) == pytest.approx(0.532)
    assert float(model3[2]["wall_seconds"]) == pytest.approx(2.0)
    unfinished = rows[-1]
    assert (unfinished["status"], unfinished["val_acc_last_epoch"]) == ("pending", "")

    summary = {s.config_id: s for s in report.summaries}
    values = [0.51, 0.511, 0.512]
    assert summary[1].stats["val_acc_last_epoch"].mean == pytest.approx(np.mean(values))
    assert summary[1].stats["test_acc"].std == pytest.approx(np.std(values, ddof=1))
    assert (summary[12].finished, summary[12].planned) == (2, 3)
    markdown = (directory / "results.md").read_text()
    assert "| 1 | model1 | 10 | 1e-05 | 256 | 3/3 | 0.5110 ± 0.0010 (0.5085–0.5135) |" in markdown
    assert "| 12 | model12 | 10 | 0.01 | 256 | 2/3 | 0.6205 ± 0.0007" in markdown
    assert "![val_acc_vs_batch_size](val_acc_vs_batch_size.png)" in markdown


def test_csv_escapes_labels_and_keeps_floats_exact():
    from chop.sweep.store import StoredRun

    run = StoredRun(1, 0, 'a, "b"', 0, {"learning_rate": 0.1, "swept": {"learning_rate": 0.1}}, "finished",
                    1 / 3, 0.25, 0.5, 1.0, 2.0, ())
    text = results_csv([run], ["learning_rate"])
    row = list(csv.reader(io.StringIO(text)))[1]
    assert row[1] == 'a, "b"' and float(row[6]) == 1 / 3
