"""`ch sweep run|report` end to end on a tiny parquet: outputs, resume after kill -9, bad input, Ray."""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chop.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sweep"))
from sweep_data import write_parquet  # noqa: E402

CH = str(Path(sys.executable).with_name("ch"))


@pytest.fixture
def data(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("MACHOP_CACHE_DIR", str(tmp_path / "cache"))
    return write_parquet(tmp_path / "tiny.parquet")


def sweep_file(tmp_path: Path, data: Path, body: str, name: str = "study") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(f'model = "jsc-tiny"\ndataset = "jsc"\ndata_path = "{data}"\n{body}')
    return path


def error_line(capsys, argv: list[str]) -> str:
    code = main(argv)
    captured = capsys.readouterr()
    assert code != 0
    assert "Traceback" not in captured.err
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ch: error: "), captured.err
    return lines[0]


def test_run_writes_store_tables_and_plots_then_report_regenerates(tmp_path, data, capsys):
    path = sweep_file(tmp_path, data, "max_epochs = 2\nrepeats = 2\n"
                                      "[grid]\nlearning_rate = [1e-3, 1e-2]\nbatch_size = [64, 128]\n")
    # Two worker processes train the two groups; the driver writes the store.
    assert main(["sweep", "run", str(path), "--project-dir", str(tmp_path / "out"), "--json", "--jobs", "2"]) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    directory = tmp_path / "out" / "study"
    assert (summary["trained"], summary["skipped"]) == (8, 0)
    assert "2 groups, 8 models (8 to train)" in captured.err
    assert [c["finished"] for c in summary["configurations"]] == [2, 2, 2, 2]
    names = {Path(f).name for f in summary["files"]}
    assert names == {"results.csv", "results.md", "val_acc_vs_learning_rate.png", "val_acc_vs_batch_size.png",
                     "curves.png"}
    rows = list(csv.DictReader((directory / "results.csv").open()))
    assert [(r["config_id"], r["learning_rate"], r["batch_size"], r["repeat"], r["seed"]) for r in rows] == [
        (str(c), lr, bs, str(k), str(k)) for c, (lr, bs) in enumerate(
            [("0.001", "64"), ("0.001", "128"), ("0.01", "64"), ("0.01", "128")], start=1) for k in (0, 1)]
    with sqlite3.connect(directory / "sweep.sqlite") as db:
        workers = {w for (w,) in db.execute("SELECT worker FROM runs")}
    assert workers and all(int(w.rsplit(":", 1)[1]) != os.getpid() for w in workers)  # trained in the workers
    means = [c["val_acc_last_epoch"]["mean"] for c in summary["configurations"]]
    assert means[0] == pytest.approx((float(rows[0]["val_acc_last_epoch"]) + float(rows[1]["val_acc_last_epoch"])) / 2)

    original = (directory / "results.csv").read_text()
    (directory / "results.csv").unlink()
    (directory / "curves.png").unlink()
    assert main(["sweep", "report", str(directory), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (directory / "results.csv").read_text() == original
    assert (directory / "curves.png").read_bytes()[:4] == b"\x89PNG"
    assert report["configurations"] == summary["configurations"]

    # Same config again: everything is skipped; --config works as well as the positional file.
    assert main(["sweep", "run", "--config", str(path), "--project-dir", str(tmp_path / "out"), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert (again["trained"], again["skipped"]) == (0, 8)

    # A changed sweep under the same name is refused, naming the difference.
    path.write_text(path.read_text().replace("1e-2]", "1e-1]"))
    line = error_line(capsys, ["sweep", "run", str(path), "--project-dir", str(tmp_path / "out")])
    assert "belongs to a different sweep definition" in line
    assert "configurations[2].learning_rate: 0.01 in the store, 0.1 now" in line


@pytest.mark.parametrize(("body", "needle"), [
    ("repeats = 2\n[grid]\nlearning_rat = [1e-3]\n", "unknown grid key `learning_rat` (did you mean 'learning_rate'?)"),
    ("[grid]\n", "[grid] is empty"),
    ("repeats = 0\n[grid]\nlearning_rate = [1e-3]\n", "`repeats` must be an integer >= 1, got 0"),
    ('project = "p"\n[grid]\nlearning_rate = [1e-3]\n', "`project` is not allowed in a sweep file"),
    ("[grid]\nlearning_rate = [1e-3\n", "TOML syntax error"),
])
def test_bad_sweep_files(tmp_path, data, capsys, body, needle):
    path = sweep_file(tmp_path, data, body)
    line = error_line(capsys, ["sweep", "run", str(path), "--project-dir", str(tmp_path / "out")])
    assert needle in line and str(path) in line


def test_unknown_model_is_named_before_training(tmp_path, data, capsys):
    path = tmp_path / "m.toml"
    path.write_text('model = "jsc-tine"\ndataset = "jsc"\n[grid]\nlearning_rate = [1e-3]\n')
    line = error_line(capsys, ["sweep", "run", str(path), "--project-dir", str(tmp_path / "out")])
    assert "unknown model 'jsc-tine' (did you mean 'jsc-tiny'?)" in line
    assert not (tmp_path / "out").exists()


def test_missing_inputs(tmp_path, capsys):
    assert "no sweep file" in error_line(capsys, ["sweep", "run"])
    assert "no results store in" in error_line(capsys, ["sweep", "report", str(tmp_path)])
    assert error_line(capsys, ["sweep", "run", "s.toml", "--ray-timeout", "5"]) == (
        "ch: error: --ray-timeout 5: needs --ray ADDRESS and at least 1 second")
    line = error_line(capsys, ["sweep", "run", "s.toml", "--ray", "h:1", "--ray-timeout", "0"])
    assert "--ray-timeout 0: needs" in line


def test_unwritable_output_directory(tmp_path, data, capsys):
    path = sweep_file(tmp_path, data, "max_epochs = 1\n[grid]\nlearning_rate = [1e-3]\n")
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the output directory should be")
    line = error_line(capsys, ["sweep", "run", str(path), "--project-dir", str(blocker)])
    assert f"cannot create sweep directory {blocker / 'study'}" in line


def finished_runs(store: Path) -> int:
    try:
        with sqlite3.connect(store) as db:
            return db.execute("SELECT COUNT(*) FROM runs WHERE status='finished'").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_kill_9_loses_nothing_finished_and_rerun_resumes(tmp_path, data, capsys):
    path = sweep_file(tmp_path, data, "max_epochs = 2\nrepeats = 2\n[grid]\nbatch_size = [8, 9, 10]\n")
    out = tmp_path / "out"
    store = out / "study" / "sweep.sqlite"
    env = {**os.environ, "MACHOP_THREADS": "1"}
    child = subprocess.Popen([CH, "sweep", "run", str(path), "--project-dir", str(out), "--json"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while finished_runs(store) == 0 and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()
    kept = finished_runs(store)
    assert 0 < kept < 6, "the kill should land after the first group and before the last"
    with sqlite3.connect(store) as db:
        rows = db.execute("SELECT config_id, repeat, val_acc_last_epoch, "
                          "(SELECT COUNT(*) FROM epochs e WHERE e.config_id=r.config_id AND e.repeat=r.repeat) "
                          "FROM runs r WHERE status='finished'").fetchall()
    assert all(val is not None and epochs == 2 for _, _, val, epochs in rows)
    assert main(["sweep", "run", str(path), "--project-dir", str(out), "--json"]) == 0
    resumed = json.loads(capsys.readouterr().out)
    assert (resumed["trained"], resumed["skipped"]) == (6 - kept, kept)
    with sqlite3.connect(store) as db:
        after = {(c, r): v for c, r, v in db.execute("SELECT config_id, repeat, val_acc_last_epoch FROM runs")}
    assert all(after[(c, r)] == v for c, r, v, _ in rows)  # what was finished before the kill is untouched
    assert finished_runs(store) == 6


def test_resume_continues_only_an_existing_store_and_names_changed_settings(tmp_path, data, capsys):
    path = sweep_file(tmp_path, data, "max_epochs = 1\n[grid]\nbatch_size = [64, 128]\n")
    out = tmp_path / "out"
    store = out / "study" / "sweep.sqlite"
    line = error_line(capsys, ["sweep", "run", str(path), "--project-dir", str(out), "--resume"])
    assert line == (f"ch: error: --resume: no results store {store} to continue; check `name` and --project-dir, "
                    "or run without --resume to start the sweep")
    assert not out.exists()
    assert main(["sweep", "run", str(path), "--project-dir", str(out), "--json"]) == 0
    assert "settings changed" not in capsys.readouterr().err
    path.write_text(path.read_text().replace("max_epochs = 1\n", "max_epochs = 1\ncompile = true\n"))
    # A real process, so stderr is what the user sees (pytest's log capture would take the warning here).
    done = subprocess.run([CH, "sweep", "run", str(path), "--project-dir", str(out), "--json", "--resume"],
                          capture_output=True, text=True, timeout=120)  # a hang guard only
    assert done.returncode == 0, done.stderr
    assert (json.loads(done.stdout)["trained"], json.loads(done.stdout)["skipped"]) == (0, 2)
    changed = [line for line in done.stderr.splitlines() if "settings changed" in line]
    assert changed == [f"warning: {store}: settings changed since the last run (compile: False in the store, True now); "
                       "the 2 finished runs keep their results, the 0 unfinished train with the new settings"]
