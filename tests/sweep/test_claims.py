"""Several runners on one store: claims taken in a transaction, dead claims taken over, each run trained once."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from chop.sweep import InProcessBackend, SweepStore, parse_sweep, run_sweep
from chop.sweep.store import owner_alive, this_process

TESTS = str(Path(__file__).resolve().parent)
RAW = {"model": "jsc-tiny", "dataset": "jsc", "max_epochs": 1, "grid": {"batch_size": [64, 128, 256]}}


def exited_pid() -> int:
    """The pid of a process that has already exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def opened(tmp_path: Path):
    sweep = parse_sweep(RAW, "s.toml", "s")
    store = SweepStore.create_or_open(tmp_path, sweep.definition(), sweep.swept_keys)
    store.add_planned(sweep.runs())
    return sweep, store


def test_owner_alive_checks_the_pid_on_this_host_only():
    host = socket.gethostname()
    assert owner_alive(this_process())
    assert not owner_alive(f"{host}:{exited_pid()}")
    assert owner_alive(f"another-{host}:{exited_pid()}")  # cannot be checked from here: left alone


def test_a_claim_excludes_other_live_runners_until_released(tmp_path):
    _, store = opened(tmp_path)
    with sleeping() as other:
        rival = f"{socket.gethostname()}:{other.pid}"
        assert store.claim([(1, 0)], this_process())
        assert store.claim([(1, 0)], this_process())  # one's own claim again
        assert not store.claim([(1, 0)], rival)
        assert store.claim([(2, 0)], rival)
        assert not store.claim([(2, 0)], this_process())
        store.release(this_process())
        assert store.claim([(1, 0)], rival)
    rows = dict(store._read("SELECT config_id, status FROM runs"))
    assert rows == {1: "running", 2: "running", 3: "pending"}
    store.close()


def test_a_dead_runners_claim_is_taken_over_and_finished_runs_are_never_claimed(tmp_path, tiny_splits):
    sweep, store = opened(tmp_path)
    dead = f"{socket.gethostname()}:{exited_pid()}"
    assert store.claim([(1, 0)], dead)
    with sleeping() as other:
        assert store.claim([(2, 0)], f"{socket.gethostname()}:{other.pid}")
        outcome = run_sweep(sweep, tiny_splits, store, InProcessBackend(progress=False))
    assert (outcome.trained, outcome.skipped) == (2, 1)  # group 2 belongs to a live runner
    assert store.finished_keys() == {(1, 0), (3, 0)}
    assert not store.claim([(1, 0)], this_process())
    assert store.trainings() == {(1, 0): 1, (2, 0): 0, (3, 0): 1}
    store.close()


@contextmanager
def sleeping() -> Iterator[subprocess.Popen]:
    """A live process of this host to stand for another runner."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        yield child
    finally:
        child.kill()
        child.wait()


RUNNER = textwrap.dedent("""
    import json, os, sys, time
    sys.path.insert(0, {tests!r})
    from sweep_data import learnable
    from chop.dataset.splits import DatasetInfo, DatasetSplits
    from chop.sweep import InProcessBackend, SweepStore, parse_sweep, run_sweep
    (xt, yt), (xv, yv), (xs, ys) = learnable(300, 1), learnable(60, 2), learnable(60, 3)
    data = DatasetSplits(DatasetInfo(name="tiny"), xt, yt, xv, yv, xs, ys, provenance={{"sha256": "tiny"}})
    sweep = parse_sweep({raw!r}, "s.toml", "s")
    open({ready!r} + str(os.getpid()), "w").close()
    while not os.path.exists({go!r}):  # both runners plan and claim at the same moment
        time.sleep(0.01)
    with SweepStore.create_or_open({directory!r}, sweep.definition(), sweep.swept_keys) as store:
        outcome = run_sweep(sweep, data, store, InProcessBackend(progress=False))
    print(json.dumps(outcome.trained))
""")


def test_two_runners_on_one_store_train_every_run_exactly_once(tmp_path):
    raw = {**RAW, "repeats": 2, "grid": {"batch_size": [32, 48, 64, 96, 128, 256]}}
    script = RUNNER.format(tests=TESTS, raw=raw, ready=str(tmp_path / "ready-"), go=str(tmp_path / "go"),
                           directory=str(tmp_path / "out"))
    env = {**os.environ, "MACHOP_THREADS": "1"}
    runners = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env) for _ in range(2)]
    try:
        while len(list(tmp_path.glob("ready-*"))) < 2 and all(r.poll() is None for r in runners):
            time.sleep(0.01)
        (tmp_path / "go").touch()
        outputs = [r.communicate(timeout=240) for r in runners]  # a hang guard only
    finally:
        for r in runners:
            r.kill()
    assert [r.returncode for r in runners] == [0, 0], [err for _, err in outputs]
    trained = [json.loads(out) for out, _ in outputs]
    with sqlite3.connect(tmp_path / "out" / "sweep.sqlite") as db:
        rows = db.execute("SELECT status, trainings FROM runs").fetchall()
        owners = {owner for (owner,) in db.execute("SELECT DISTINCT owner FROM runs")}
    assert rows == [("finished", 1)] * 12
    assert sum(trained) == 12
    assert owners <= {f"{socket.gethostname()}:{r.pid}" for r in runners}


def test_a_store_written_before_claims_existed_gains_the_columns(tmp_path):
    sweep, store = opened(tmp_path)
    store.close()
    with sqlite3.connect(tmp_path / "sweep.sqlite") as db:
        for column in ("owner", "claimed_at", "trainings"):
            db.execute(f"ALTER TABLE runs DROP COLUMN {column}")
    with SweepStore.create_or_open(tmp_path, sweep.definition(), sweep.swept_keys) as store:
        assert store.trainings() == {(1, 0): 0, (2, 0): 0, (3, 0): 0}
        assert store.claim([(3, 0)], this_process())
        assert store._read("SELECT owner FROM runs WHERE config_id=3") == [(this_process(),)]
