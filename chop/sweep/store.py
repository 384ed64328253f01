"""``sweep.sqlite``: every run of a sweep, written as groups finish, so a crash loses nothing finished.

SQLite in WAL mode with ``synchronous=FULL``: a group's results (final metrics and per-epoch
history of each of its runs) go in with one transaction, which is either entirely on disk or not
at all, whatever kills the process. The store remembers the sweep's definition and its
fingerprint; opening it with a different definition is refused with the first differences named.

Several runners on one machine may share a store: each claims a group's runs in one transaction
before training them (``owner`` = host:pid, ``claimed_at``), so no run is trained twice; a claim
whose process has exited is taken over. SQLite locking needs a local file system, so this holds
on one machine only (several machines use Ray, with one driver writing the store).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chop import __version__
from chop.errors import MachopError

STORE_NAME = "sweep.sqlite"
FINISHED = "finished"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    config_id INTEGER NOT NULL,
    repeat INTEGER NOT NULL,
    label TEXT NOT NULL,
    seed INTEGER NOT NULL,
    config TEXT NOT NULL,
    status TEXT NOT NULL,
    val_acc_last_epoch REAL, val_loss_last_epoch REAL,
    train_acc_last_step REAL, train_loss_last_step REAL,
    test_acc REAL, test_loss REAL,
    group_size INTEGER, group_wall_seconds REAL, wall_seconds REAL,
    started_at REAL, finished_at REAL, worker TEXT,
    owner TEXT, claimed_at REAL, trainings INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (config_id, repeat)
);
CREATE TABLE IF NOT EXISTS epochs (
    config_id INTEGER NOT NULL,
    repeat INTEGER NOT NULL,
    epoch INTEGER NOT NULL,
    train_acc_step REAL, train_loss_step REAL, val_acc_epoch REAL, val_loss_epoch REAL, seconds REAL,
    PRIMARY KEY (config_id, repeat, epoch)
);
"""


class StoreError(MachopError):
    """The results store cannot be opened, read or written."""


@dataclass(frozen=True)
class EpochMetrics:
    epoch: int
    train_acc_step: float
    train_loss_step: float
    val_acc_epoch: float
    val_loss_epoch: float
    seconds: float


@dataclass(frozen=True)
class RunResult:
    """What one finished run leaves in the store (the runner builds these from the engine's result)."""

    config_id: int
    repeat: int
    val_acc_last_epoch: float
    val_loss_last_epoch: float
    train_acc_last_step: float
    train_loss_last_step: float
    test_acc: float
    test_loss: float
    group_size: int
    group_wall_seconds: float
    started_at: float
    finished_at: float
    worker: str
    history: tuple[EpochMetrics, ...]

    @property
    def wall_seconds(self) -> float:
        """The group's wall time shared evenly by the models it trained together."""
        return self.group_wall_seconds / self.group_size


@dataclass(frozen=True)
class StoredRun:
    """One row of ``runs`` read back, with its per-epoch history."""

    config_id: int
    repeat: int
    label: str
    seed: int
    config: dict[str, Any]
    status: str
    val_acc_last_epoch: float | None
    train_acc_last_step: float | None
    test_acc: float | None
    test_loss: float | None
    wall_seconds: float | None
    history: tuple[EpochMetrics, ...]


# Columns added after the first stores were written; an older store gains them when opened.
_ADDED_COLUMNS = {"owner": "TEXT", "claimed_at": "REAL", "trainings": "INTEGER NOT NULL DEFAULT 0"}


def this_process() -> str:
    """The owner name of claims made by this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_alive(owner: str) -> bool:
    """Whether the process that made a claim still runs.

    Only a process of this host can be checked; a claim of another host is a store on a shared
    file system, which SQLite does not support, so such a claim counts as alive (never taken over).
    """
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def fingerprint(definition: dict[str, Any]) -> str:
    """sha256 of the definition's canonical JSON."""
    return hashlib.sha256(json.dumps(definition, sort_keys=True).encode()).hexdigest()


def differences(stored: Any, current: Any, path: str = "") -> list[str]:
    """Human-readable differences between two JSON values, deepest first-found paths."""
    if isinstance(stored, dict) and isinstance(current, dict):
        found = []
        for key in list(stored) + [k for k in current if k not in stored]:
            where = f"{path}.{key}" if path else str(key)
            if key not in current:
                found.append(f"{where} only in the store ({stored[key]!r})")
            elif key not in stored:
                found.append(f"{where} only now ({current[key]!r})")
            else:
                found += differences(stored[key], current[key], where)
        return found
    if isinstance(stored, list) and isinstance(current, list):
        if len(stored) != len(current):
            return [f"{path}: {len(stored)} entries in the store, {len(current)} now"]
        return [d for i, (a, b) in enumerate(zip(stored, current)) for d in differences(a, b, f"{path}[{i}]")]
    return [] if stored == current else [f"{path}: {stored!r} in the store, {current!r} now"]


class SweepStore:
    """The results of one sweep in ``DIR/sweep.sqlite``."""

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self._db = connection

    # -- opening --------------------------------------------------------------------------------
    @classmethod
    def _connect(cls, path: Path) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(path, timeout=30, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            return db
        except sqlite3.Error as error:
            raise StoreError(f"cannot open results store {path}: {error}") from None

    @classmethod
    def create_or_open(cls, directory: str | Path, definition: dict[str, Any], swept_keys: Sequence[str]) -> SweepStore:
        """Open the store of a sweep, creating it on first use; refuse one made by another definition."""
        directory = Path(directory)
        path = directory / STORE_NAME
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(f"cannot create sweep directory {directory}: {error.strerror or error}") from None
        store = cls(path, cls._connect(path))
        with store._writing("create"):
            for statement in filter(str.strip, _SCHEMA.split(";")):
                store._db.execute(statement)
            present = {row[1] for row in store._db.execute("PRAGMA table_info(runs)")}
            for column, kind in _ADDED_COLUMNS.items():
                if column not in present:
                    store._db.execute(f"ALTER TABLE runs ADD COLUMN {column} {kind}")
            rows = dict(store._db.execute("SELECT key, value FROM meta"))
            if not rows:
                meta = {"fingerprint": fingerprint(definition), "definition": json.dumps(definition, sort_keys=True),
                        "swept_keys": json.dumps(list(swept_keys)), "created_at": str(time.time()),
                        "machop_version": __version__}
                store._db.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
        if rows and rows.get("fingerprint") != fingerprint(definition):
            store.close()
            found = differences(json.loads(rows["definition"]), definition)
            shown = "; ".join(found[:3]) + (f"; and {len(found) - 3} more" if len(found) > 3 else "")
            raise StoreError(f"{path} belongs to a different sweep definition ({shown}); use another `name` "
                             f"or --project-dir, or delete {path} to start over")
        return store

    @classmethod
    def open_existing(cls, directory: str | Path) -> SweepStore:
        """Open a store for reading (``ch sweep report``)."""
        path = Path(directory) / STORE_NAME
        if not path.is_file():
            raise StoreError(f"no results store in {directory} (expected {path}); run `ch sweep run` first")
        store = cls(path, cls._connect(path))
        try:
            store._db.execute("SELECT 1 FROM runs LIMIT 1").fetchall()
            store._db.execute("SELECT 1 FROM meta LIMIT 1").fetchall()
        except sqlite3.Error as error:
            store.close()
            raise StoreError(f"{path} is not a machop sweep store: {error}") from None
        return store

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> SweepStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing --------------------------------------------------------------------------------
    @contextmanager
    def _writing(self, what: str) -> Iterator[None]:
        """One transaction; a failure (disk full, read-only, ...) rolls it back and says so."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            yield
            self._db.execute("COMMIT")
        except sqlite3.Error as error:
            if self._db.in_transaction:
                try:
                    self._db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
            raise StoreError(f"cannot write to results store {self.path} ({what}): {error}; "
                             "runs finished before this are kept (free space or fix permissions, then rerun "
                             "to resume)") from None

    def add_planned(self, runs: Iterable[Any]) -> None:
        """Insert a ``pending`` row for every planned run not yet in the store."""
        rows = [(r.config.config_id, r.repeat, r.config.label, r.seed,
                 json.dumps({**r.config.training(), "swept": dict(r.config.swept)}, sort_keys=True), "pending")
                for r in runs]
        with self._writing("plan"):
            self._db.executemany("INSERT OR IGNORE INTO runs (config_id, repeat, label, seed, config, status) "
                                 "VALUES (?, ?, ?, ?, ?, ?)", rows)

    def claim(self, keys: Sequence[tuple[int, int]], owner: str) -> bool:
        """Take the runs of one group for ``owner``, or say no: one is finished or another live runner has it.

        Checked and written in one ``BEGIN IMMEDIATE`` transaction, so two runners never both win.
        """
        marks = ",".join("(?, ?)" for _ in keys)
        flat = [value for key in keys for value in key]
        with self._writing("claim group"):
            rows = self._db.execute(f"SELECT status, owner FROM runs WHERE (config_id, repeat) IN (VALUES {marks})",
                                    flat).fetchall()
            if any(status == FINISHED or (holder not in (None, owner) and status == "running"
                                          and owner_alive(holder)) for status, holder in rows):
                return False
            now = time.time()
            self._db.execute(f"UPDATE runs SET status='running', owner=?, claimed_at=?, started_at=?, worker=? "
                             f"WHERE (config_id, repeat) IN (VALUES {marks})",
                             [owner, now, now, owner.rpartition(":")[0], *flat])
        return True

    def release(self, owner: str) -> None:
        """Give back the unfinished claims of ``owner`` (a runner that stops early) so others take them now."""
        with self._writing("release claims"):
            self._db.execute("UPDATE runs SET status='pending', owner=NULL, claimed_at=NULL "
                             "WHERE owner=? AND status='running'", (owner,))

    def record_group(self, results: Sequence[RunResult]) -> None:
        """Write a finished group: all its runs and their histories in one transaction."""
        with self._writing("finished group"):
            for r in results:
                self._db.execute(
                    "UPDATE runs SET status=?, val_acc_last_epoch=?, val_loss_last_epoch=?, train_acc_last_step=?, "
                    "train_loss_last_step=?, test_acc=?, test_loss=?, group_size=?, group_wall_seconds=?, "
                    "wall_seconds=?, started_at=?, finished_at=?, worker=?, trainings=trainings+1 "
                    "WHERE config_id=? AND repeat=?",
                    (FINISHED, r.val_acc_last_epoch, r.val_loss_last_epoch, r.train_acc_last_step,
                     r.train_loss_last_step, r.test_acc, r.test_loss, r.group_size, r.group_wall_seconds,
                     r.wall_seconds, r.started_at, r.finished_at, r.worker, r.config_id, r.repeat))
                self._db.execute("DELETE FROM epochs WHERE config_id=? AND repeat=?", (r.config_id, r.repeat))
                self._db.executemany(
                    "INSERT INTO epochs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [(r.config_id, r.repeat, e.epoch, e.train_acc_step, e.train_loss_step, e.val_acc_epoch,
                      e.val_loss_epoch, e.seconds) for e in r.history])

    def remember_settings(self, settings: dict[str, Any]) -> list[str]:
        """Record the settings of this session; return how they differ from those of the last one."""
        with self._writing("settings"):
            rows = self._db.execute("SELECT value FROM meta WHERE key='settings'").fetchall()
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('settings', ?)",
                             (json.dumps(settings, sort_keys=True),))
        return differences(json.loads(rows[0][0]), settings) if rows else []

    # -- reading --------------------------------------------------------------------------------
    def _read(self, sql: str, params: tuple = ()) -> list[tuple]:
        try:
            return self._db.execute(sql, params).fetchall()
        except sqlite3.Error as error:
            raise StoreError(f"cannot read results store {self.path}: {error}") from None

    def trainings(self) -> dict[tuple[int, int], int]:
        """How many times each run was trained and recorded (1 for every finished run, unless retrained)."""
        return {(c, r): n for c, r, n in self._read("SELECT config_id, repeat, trainings FROM runs")}

    def finished_keys(self) -> set[tuple[int, int]]:
        return {(c, r) for c, r in self._read("SELECT config_id, repeat FROM runs WHERE status=?", (FINISHED,))}

    def swept_keys(self) -> list[str]:
        rows = self._read("SELECT value FROM meta WHERE key='swept_keys'")
        return json.loads(rows[0][0]) if rows else []

    def definition(self) -> dict[str, Any]:
        rows = self._read("SELECT value FROM meta WHERE key='definition'")
        return json.loads(rows[0][0]) if rows else {}

    def runs(self) -> list[StoredRun]:
        """Every run in (configuration, repeat) order, finished or not."""
        histories: dict[tuple[int, int], list[EpochMetrics]] = {}
        for c, r, *values in self._read("SELECT config_id, repeat, epoch, train_acc_step, train_loss_step, "
                                        "val_acc_epoch, val_loss_epoch, seconds FROM epochs ORDER BY epoch"):
            histories.setdefault((c, r), []).append(EpochMetrics(*values))
        rows = self._read("SELECT config_id, repeat, label, seed, config, status, val_acc_last_epoch, "
                          "train_acc_last_step, test_acc, test_loss, wall_seconds FROM runs "
                          "ORDER BY config_id, repeat")
        return [StoredRun(c, r, label, seed, json.loads(config), status, val, train, test, test_loss, wall,
                          tuple(histories.get((c, r), ())))
                for c, r, label, seed, config, status, val, train, test, test_loss, wall in rows]
