"""Run a planned sweep: each group through the engine, each finished group into the store.

``execute_group`` is a plain function of picklable values so the same code runs in this process
or on a Ray worker; only the driver writes the store. A backend asks the driver to ``claim`` each
group just before it starts it, so several runners on one store split the groups between them.
"""

from __future__ import annotations

import hashlib
import math
import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from chop.sweep.config import SweepConfig
from chop.sweep.planner import Group, GroupKey, plan_groups
from chop.sweep.store import EpochMetrics, RunResult, SweepStore, this_process
from chop.tools.logger import get_logger

if TYPE_CHECKING:
    from chop.config.mase_args import MaseArgs
    from chop.dataset.splits import DatasetSplits
    from chop.engine import GroupConfig, RunConfig

log = get_logger(__name__)


@dataclass(frozen=True)
class GroupTask:
    """Everything a worker needs to train one group (no store, no open files)."""

    index: int
    key: GroupKey
    run_keys: tuple[tuple[int, int], ...]
    run_configs: tuple[RunConfig, ...]
    group: GroupConfig


def _file_digest(path: str) -> str | None:
    """First 12 hex digits of the file's sha256 (None when it is missing: the builder says so later)."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]
    except OSError:
        return None


def _named_files(args: MaseArgs) -> list[str]:
    """The files a configuration reads besides the data: its model file (FILE.py of FILE.py:Class), its checkpoint."""
    from chop.models.builder import ModelFile, model_source

    model_file = model_source(args.model, args.model_file)[1]
    model_path = ModelFile.parse(model_file).file if model_file else None
    return [path for path in (model_path, args.load_name) if path]


def session_settings(sweep: SweepConfig) -> dict[str, Any]:
    """What may change a run's numbers without changing the sweep's definition: where it trains, how,
    with which code, and the contents of the model files and checkpoints it names."""
    import torch

    from chop import __version__
    from chop.workflows.engine_settings import resolve_device

    paths = sorted({path for c in sweep.configurations for path in _named_files(c.args)})
    return {"device": resolve_device(sweep.base.accelerator), "compile": sweep.base.compile, "machop": __version__,
            "torch": torch.__version__, "files": {path: _file_digest(path) for path in paths}}


def _warn_changed(store: SweepStore, changed: list[str], finished: int, unfinished: int) -> None:
    log.warning("%s: settings changed since the last run (%s); the %d finished runs keep their results, "
                "the %d unfinished train with the new settings", store.path, "; ".join(changed), finished, unfinished)


def make_tasks(sweep: SweepConfig, groups: Sequence[Group], done: set[tuple[int, int]]) -> list[GroupTask]:
    """Engine settings for every group that still has unfinished runs (finished runs are skipped)."""
    from chop.workflows.engine_settings import group_config, run_config

    tasks = []
    for group in groups:
        todo = [run for run in group.runs if run.key not in done]
        if not todo:
            continue
        configs = tuple(run_config(run.config.args, seed=run.seed) for run in todo)
        settings = group_config(todo[0].config.args, log_steps=False)  # a group shares these (and the base's)
        tasks.append(GroupTask(group.index, group.key, tuple(run.key for run in todo), configs, settings))
    return tasks


def _initial_models(key: GroupKey, build: Callable[[], Any]) -> list[Any] | None:
    """The checkpoint named by ``load_name`` (a fine-tuning sweep; the engine copies it K times), or None."""
    if key.load_name is None:
        return None
    from chop.models import with_checkpoint

    return [with_checkpoint(build(), key.load_name, key.load_type)]


def _unless(diverged: bool, value: float) -> float:
    """A diverged model's accuracies are argmaxes of NaN: stored as NaN (NULL), which marks the run diverged."""
    return math.nan if diverged else value


def execute_group(task: GroupTask, data: DatasetSplits, progress: bool = False) -> list[RunResult]:
    """Train one group with the engine and evaluate every model on the test split."""
    from chop.engine import evaluate_models, train_ensemble
    from chop.models import model_builder
    from chop.tools.runtime import configure_threads

    configure_threads()
    started = time.time()
    build = model_builder(task.key.model, task.key.model_file, data.info)
    result = train_ensemble(build, data, list(task.run_configs), task.group, progress=progress,
                            initial_models=_initial_models(task.key, build))
    tested = evaluate_models(result.models, data.x_test, data.y_test, device=task.group.device)
    finished = time.time()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    last = result.history[-1]
    results = []
    for k, (config_id, repeat) in enumerate(task.run_keys):
        history = tuple(EpochMetrics(e.epoch, e.train_acc_step[k], e.train_loss_step[k], e.val_acc_epoch[k],
                                     e.val_loss_epoch[k], e.seconds) for e in result.history)
        diverged = result.diverged_at[k] is not None
        results.append(RunResult(
            config_id=config_id, repeat=repeat, val_acc_last_epoch=_unless(diverged, last.val_acc_epoch[k]),
            val_loss_last_epoch=last.val_loss_epoch[k], train_acc_last_step=_unless(diverged, last.train_acc_step[k]),
            train_loss_last_step=last.train_loss_step[k], test_acc=_unless(diverged, tested[k][0]),
            test_loss=_unless(diverged, tested[k][1]),
            group_size=len(task.run_keys), group_wall_seconds=result.wall_seconds, started_at=started,
            finished_at=finished, worker=worker, history=history))
    return results


Claim = Callable[["GroupTask"], bool]
Finished = Callable[["GroupTask", list[RunResult]], None]


class Backend(Protocol):
    """Runs group tasks somewhere and hands each finished group back to the driver.

    ``claim(task)`` is called right before a task starts; False means another runner has it: skip it.
    """

    def run(self, tasks: Sequence[GroupTask], data: DatasetSplits, claim: Claim, finished: Finished) -> None: ...


class InProcessBackend:
    """Groups one after another in this process (the engine's progress bar shows each)."""

    def __init__(self, progress: bool = True) -> None:
        self.progress = progress

    def run(self, tasks: Sequence[GroupTask], data: DatasetSplits, claim: Claim, finished: Finished) -> None:
        for task in tasks:
            if claim(task):
                finished(task, execute_group(task, data, self.progress))


_WORKER_DATA: Any = None


def _worker_init(data: DatasetSplits) -> None:
    """Receive the dataset once per worker process instead of once per group."""
    global _WORKER_DATA
    _WORKER_DATA = data


def _worker_run(task: GroupTask) -> list[RunResult]:
    return execute_group(task, _WORKER_DATA, progress=False)


def estimated_cost(task: GroupTask, train_rows: int) -> int:
    """Rough relative cost of a group: model-steps weighted by batch size plus a per-step overhead."""
    return len(task.run_keys) * task.key.steps(train_rows) * (task.key.batch_size + 64)


class ProcessBackend:
    """``jobs`` groups at once in worker processes (one thread each), the costliest first.

    Tiny models use one core per process; on a machine with N cores, N workers keep every core busy.
    A group is claimed only when a worker is free for it, so another runner can take the rest.
    """

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs

    def run(self, tasks: Sequence[GroupTask], data: DatasetSplits, claim: Claim, finished: Finished) -> None:
        import multiprocessing
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

        if not tasks:
            return
        ordered = iter(sorted(tasks, key=lambda task: estimated_cost(task, len(data.x_train)), reverse=True))
        pool = ProcessPoolExecutor(self.jobs, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_worker_init, initargs=(data,))
        try:
            pending = {}
            while True:
                while len(pending) < self.jobs and (task := next((t for t in ordered if claim(t)), None)):
                    pending[pool.submit(_worker_run, task)] = task
                if not pending:
                    break
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    finished(pending.pop(future), future.result())
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


@dataclass(frozen=True)
class SweepOutcome:
    """``trained`` by this runner; ``skipped``: finished before, or trained meanwhile by another runner."""

    groups: list[Group]
    trained: int
    skipped: int
    seconds: float


def run_sweep(sweep: SweepConfig, data: DatasetSplits, store: SweepStore, backend: Backend,
              say: Callable[[str], None] = lambda line: None) -> SweepOutcome:
    """Train every unfinished run of ``sweep`` not claimed by another live runner; each finished group
    is committed before the next one, and claims left unfinished are given back when this returns."""
    runs = sweep.runs()
    groups = plan_groups(runs)
    store.add_planned(runs)
    done = store.finished_keys()
    changed = store.remember_settings(session_settings(sweep))
    if changed:
        _warn_changed(store, changed, len(done), len(runs) - len(done))
    tasks = make_tasks(sweep, groups, done)
    begin = time.time()
    count = len(tasks)
    owner = this_process()

    def claim(task: GroupTask) -> bool:
        return store.claim(task.run_keys, owner)

    completed = 0
    trained = 0

    def finished(task: GroupTask, results: list[RunResult]) -> None:
        nonlocal completed, trained
        store.record_group(results)
        completed += 1
        trained += len(results)
        healthy = [r.val_acc_last_epoch for r in results if not math.isnan(r.val_acc_last_epoch)]
        diverged = f", {len(results) - len(healthy)} diverged (loss NaN/inf)" if len(healthy) < len(results) else ""
        best = f"best val_acc_last_epoch {max(healthy):.4f}" if healthy else "no model trained to a finite loss"
        say(f"group {task.index} finished ({completed}/{count} this session): K={len(results)}, "
            f"{results[0].group_wall_seconds:.1f} s, {best}{diverged}")

    try:
        backend.run(tasks, data, claim, finished)
    finally:
        store.release(owner)
    return SweepOutcome(groups, trained, len(runs) - trained, time.time() - begin)
