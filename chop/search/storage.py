"""Where a search's optuna study lives, so that a killed search resumes and several workers share one.

``ch search`` keeps its study in an optuna RDB storage: by default the SQLite file
``{project_dir}/{project}/software/search_ckpts/study.sqlite``, or any URL ``--storage`` (or
``[search.strategy.setup] storage``) gives, e.g. ``postgresql://host/db`` for workers on several
machines. The study is named after the model and the space (``jsc-tiny/graph/quantize/
mixed_precision_ptq``) and holds, in its user attributes, a fingerprint of what makes its trials
comparable: the model's weights, the space's choices, the objectives and the evaluated rows. A rerun
with the same fingerprint resumes the study; a different one is refused (one line naming what
differs), as mixing trials of two searches would make ``best.json`` meaningless.

Trials send optuna's heartbeat every second; a running trial whose heartbeat is older than
``grace_period`` seconds (its process was killed, its machine lost) is failed by the next worker
and its point queued again (``RetryHeartbeatStaleTrialCallback``), so no point is lost to a kill -9.
"""

from __future__ import annotations

import fcntl
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
import sqlalchemy

from chop.errors import MachopError
from chop.tools.atomic import ensure_writable

STUDY_FILE = "study.sqlite"
FINGERPRINT_ATTR = "machop_fingerprint"
FINGERPRINT_PARTS = ("model = the weights, space = the choices, objectives = metrics and runners, "
                     "data = the evaluated rows, seed = what draws retrained candidates' weights")
HEARTBEAT_S = 1
RETRIES = 3  # a point whose trial is lost this many times (it may be what kills the worker) is not queued again
SQLITE_TIMEOUT_S = 60
SCHEMA_ATTEMPTS = 3  # how long a worker waits for another's write lock on a shared SQLite file


class StorageError(MachopError):
    """A study storage that cannot be opened, or a study that belongs to another search."""


@dataclass(frozen=True)
class StudyPlace:
    """Where the study is (``url``), its name, its fingerprint and the heartbeat grace period."""

    url: str
    name: str
    fingerprint: dict[str, str]
    grace_period: int = 10


def sqlite_url(path: str | Path) -> str:
    """The optuna URL of a SQLite file (absolute, so a worker started elsewhere finds the same file)."""
    return f"sqlite:///{Path(path).resolve()}"


def open_storage(url: str, grace_period: int) -> optuna.storages.RDBStorage:
    """The RDB storage at ``url``, with heartbeats; a one-line ``StorageError`` if it cannot be reached."""
    engine_kwargs: dict[str, Any] = {}
    if url.startswith("sqlite:///"):
        ensure_writable(Path(url.removeprefix("sqlite:///")).parent, StorageError,
                        f"--storage {url} needs a folder it can write the study file in")
        engine_kwargs = {"connect_args": {"timeout": SQLITE_TIMEOUT_S}}
    with _creating(url):
        for attempt in range(SCHEMA_ATTEMPTS):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # heartbeat_interval
                    storage = optuna.storages.RDBStorage(
                        url, engine_kwargs=engine_kwargs, heartbeat_interval=HEARTBEAT_S, grace_period=grace_period,
                        heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(
                            max_retry=RETRIES))
                break
            except (sqlalchemy.exc.OperationalError, sqlalchemy.exc.IntegrityError) as error:
                # workers on a database server creating its tables at once: the later ones find them made; again
                if attempt == SCHEMA_ATTEMPTS - 1 or not _schema_race(error):
                    raise StorageError(f"--storage {url}: cannot open the study storage "
                                       f"({_first_line(error)})") from error
            except Exception as error:  # sqlalchemy's URL, driver and connection errors share no base with ImportError
                raise StorageError(f"--storage {url}: cannot open the study storage ({_first_line(error)})") from error
    if url.startswith("sqlite:///"):
        sqlalchemy.event.listen(storage.engine, "connect", _write_ahead_log)
        storage.engine.dispose()  # the connection optuna opened has not run the listener
    return storage


@contextmanager
def _creating(url: str) -> Iterator[None]:
    """For a SQLite file, one worker at a time opens it (optuna creates the tables of a new file without a lock)."""
    if not url.startswith("sqlite:///"):
        yield
        return
    with open(url.removeprefix("sqlite:///"), "ab") as handle:  # SQLite takes an empty file for a new database
        fcntl.flock(handle, fcntl.LOCK_EX)  # independent of SQLite's own (POSIX record) locks
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _schema_race(error: Exception) -> bool:
    text = str(error)
    return "already exists" in text or "UNIQUE constraint" in text or "duplicate key" in text


def _write_ahead_log(connection: Any, record: Any) -> None:
    """SQLite in WAL mode, synced at checkpoints: a commit costs no fsync (a trial writes a dozen times).

    Readers and the writer no longer block each other, so workers share the file on one machine. A
    killed process loses nothing (its writes are in the operating system); a power cut may lose the
    last trials, never the file's consistency.
    """
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def open_study(place: StudyPlace, sampler: optuna.samplers.BaseSampler, directions: list[str]) -> optuna.Study:
    """Create the study at ``place`` or load it, refusing one whose fingerprint is another search's."""
    storage = open_storage(place.url, place.grace_period)
    try:
        study = optuna.create_study(storage=storage, study_name=place.name, sampler=sampler, directions=directions,
                                    load_if_exists=True)
        stored = study.user_attrs.get(FINGERPRINT_ATTR)
        if stored is None:
            if study.get_trials(deepcopy=False):
                raise StorageError(f"--storage {place.url}: study '{place.name}' was not made by ch search (it has "
                                   "trials and no machop fingerprint); pass --storage with another file or database")
            study.set_user_attr(FINGERPRINT_ATTR, place.fingerprint)
        elif stored != place.fingerprint:
            differ = [part for part in place.fingerprint if stored.get(part) != place.fingerprint[part]]
            parts = differ[0] if len(differ) == 1 else f"{', '.join(differ[:-1])} and {differ[-1]}"
            verb = "differs" if len(differ) == 1 else "differ"
            raise StorageError(f"--storage {place.url}: study '{place.name}' belongs to another search (its "
                               f"{parts} {verb} from this one's: {FINGERPRINT_PARTS}); resume it as it "
                               "was, or pass --storage with another file or database")
    except StorageError:
        raise
    except Exception as error:  # the database went away, a lock timed out, a schema of another optuna version
        raise StorageError(f"--storage {place.url}: cannot open study '{place.name}' ({_first_line(error)})") from error
    return study


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__
