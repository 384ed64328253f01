"""`ch sweep run --ray`: groups trained by a local Ray head the test starts on 127.0.0.1."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

from chop.cli import main


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ray_cluster_trains_groups_and_the_driver_writes_the_store(tmp_path, tiny_parquet, capsys):
    ray = str(Path(sys.executable).with_name("ray"))
    port = free_port()
    temp = Path("/tmp") / f"rayh6{os.getpid()}"
    head = subprocess.Popen([ray, "start", "--head", "--block", "--node-ip-address", "127.0.0.1", "--port", str(port),
                             "--num-cpus", "1", "--include-dashboard=false", "--temp-dir", str(temp)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        path = tmp_path / "study.toml"
        path.write_text(f'model = "jsc-tiny"\ndataset = "jsc"\ndata_path = "{tiny_parquet}"\nmax_epochs = 1\n'
                        "[grid]\nbatch_size = [64, 128]\n")
        code = main(["sweep", "run", str(path), "--project-dir", str(tmp_path / "out"), "--json",
                     "--ray", f"127.0.0.1:{port}"])
        captured = capsys.readouterr()
        assert code == 0, captured.err
        summary = json.loads(captured.out)
        assert (summary["trained"], summary["skipped"]) == (2, 0)
        with sqlite3.connect(tmp_path / "out" / "study" / "sweep.sqlite") as db:
            workers = db.execute("SELECT status, worker FROM runs").fetchall()
        assert [w[0] for w in workers] == ["finished", "finished"]
        assert all(int(w[1].rsplit(":", 1)[1]) != os.getpid() for w in workers)  # trained in Ray workers
    finally:
        os.killpg(head.pid, signal.SIGTERM)
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
            head.wait()
        shutil.rmtree(temp, ignore_errors=True)
