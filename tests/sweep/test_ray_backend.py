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

import pytest

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


BOUND = {"RAY_gcs_server_port_wait_time_s": "1", "RAY_gcs_rpc_server_connect_timeout_s": "1",
         "RAY_py_gcs_connect_timeout_s": "7", "RAY_gcs_server_request_timeout_seconds": "7"}


def test_the_connection_bound_is_handed_to_ray_and_put_back_after(monkeypatch):
    import ray

    from chop.sweep.ray_backend import RayBackend, RayError

    seen: dict[str, str | None] = {}

    def refuse(address: str, **options: object) -> None:
        seen.update({key: os.environ.get(key) for key in BOUND}, address=address)
        raise ConnectionError(f"Failed to connect to Ray cluster at {address}\nsecond line")

    monkeypatch.setattr(ray, "init", refuse)
    monkeypatch.setenv("RAY_py_gcs_connect_timeout_s", "99")  # a value of the user's own is restored
    monkeypatch.delenv("RAY_gcs_server_port_wait_time_s", raising=False)
    backend = RayBackend("127.0.0.1:1", connect_timeout_s=7)
    with pytest.raises(RayError) as error:
        backend.run([object()], None, lambda task: True, lambda task, results: None)
    assert seen == {**BOUND, "address": "127.0.0.1:1"}
    assert str(error.value) == (
        "cannot connect to the Ray cluster at 127.0.0.1:1 within 7 s (Failed to connect to Ray cluster at "
        "127.0.0.1:1); check that `ray start --head` runs there on that port, that the port is reachable from "
        "here, and that this machine has joined the cluster (`ray start --address 127.0.0.1:1`)")
    assert os.environ["RAY_py_gcs_connect_timeout_s"] == "99"
    assert "RAY_gcs_server_port_wait_time_s" not in os.environ


def test_unreachable_cluster_fails_in_one_line_within_the_bound(tmp_path, tiny_parquet):
    path = tmp_path / "study.toml"
    path.write_text(f'model = "jsc-tiny"\ndataset = "jsc"\ndata_path = "{tiny_parquet}"\nmax_epochs = 1\n'
                    "[grid]\nbatch_size = [64, 128]\n")
    # Ray rewrites a loopback address to this host's outward address unless told otherwise: stay on 127.0.0.1.
    env = {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "MACHOP_THREADS": "1"}
    ch = str(Path(sys.executable).with_name("ch"))
    done = subprocess.run([ch, "sweep", "run", str(path), "--project-dir", str(tmp_path / "out"), "--json",
                           "--ray", "127.0.0.1:1", "--ray-timeout", "1"],
                          capture_output=True, text=True, env=env, timeout=120)  # a hang guard only
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ch: error: cannot connect to the Ray cluster at 127.0.0.1:1 within 1 s (")
    assert last.endswith("(`ray start --address 127.0.0.1:1`)")
