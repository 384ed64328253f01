"""Atomic writes: the target is either the old file or the complete new one, never a fragment."""

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from chop.errors import MachopError
from chop.tools.atomic import atomic_write, atomic_write_text


def test_write_replaces_the_target_and_leaves_no_temp_files(tmp_path):
    target = tmp_path / "out" / "result.txt"
    atomic_write_text(target, "first")
    atomic_write_text(target, "second")
    assert target.read_text() == "second"
    assert sorted(p.name for p in target.parent.iterdir()) == ["result.txt"]


def test_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "result.txt"
    target.write_text("old")

    def explode(handle):
        handle.write(b"partial")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        atomic_write(target, explode)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["result.txt"]


def test_unwritable_directory_is_a_machop_error(tmp_path):
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("x")
    with pytest.raises(MachopError, match="cannot write"):
        atomic_write_text(blocked / "result.txt", "data")


def test_killed_writer_never_leaves_a_partial_target(tmp_path):
    target = tmp_path / "big.bin"
    target.write_bytes(b"old")
    script = textwrap.dedent(f"""
        import os, sys, time
        from chop.tools.atomic import atomic_write
        def slow(handle):
            handle.write(b"x" * 1000)
            handle.flush()
            print("writing", flush=True)
            time.sleep(60)
        atomic_write({str(target)!r}, slow)
    """)
    writer = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "writing"
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    assert target.read_bytes() == b"old"


def test_written_files_get_the_usual_permissions(tmp_path):
    previous = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "shared.txt", "x")
    finally:
        os.umask(previous)
    assert (tmp_path / "shared.txt").stat().st_mode & 0o777 == 0o644
