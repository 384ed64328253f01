"""One ``ch train`` run as a library call: model, weights, resume, checkpoints, logs and final test.

The CLI only parses arguments and prints; a notebook can call :func:`run_training` with the same
``MaseArgs`` and get the same files.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from chop.config.mase_args import MaseArgs
from chop.dataset.splits import DatasetSplits
from chop.engine.checkpoints import CheckpointFiles, latest_version, lightning_checkpoint, next_version, versioned
from chop.engine.logs import RunLog
from chop.engine.schedule import make_optimizer, scheduler_state
from chop.engine.trainer import (EnsembleState, ResumeState, check_batch_norm, check_settings, evaluate_models,
                                 train_ensemble)
from chop.engine.types import EpochRecord, GroupConfig, RunConfig
from chop.errors import ConfigError, MachopError
from chop.tools.atomic import ensure_writable
from chop.models import with_checkpoint
from chop.tools.checkpoint_load import load_state_into
from chop.tools.logger import get_logger
from chop.workflows.engine_settings import group_config, run_config

logger = get_logger(__name__)


class TrainingDiverged(MachopError):
    """The loss became NaN or infinite; the checkpoints of the epochs before it are kept."""


@dataclass
class TrainingOutcome:
    """Where the run wrote its files and what it measured."""

    history: list[EpochRecord]
    software_dir: Path
    best_checkpoint: Path
    last_checkpoint: Path
    best_epoch: int
    best_val_loss: float
    test_acc_epoch: float
    test_loss_epoch: float
    tensorboard_dir: Path
    metrics_csv: Path
    path: str
    version: int


def initial_model(build: Callable[[], nn.Module], args: MaseArgs) -> nn.Module | None:
    """The ``--load`` checkpoint as a module (pl/pt into a fresh model, mz as saved), or None."""
    if not args.load_name:
        return None
    torch.manual_seed(args.seed)
    return with_checkpoint(build(), args.load_name, args.load_type)


def _read_resume(ckpt_dir: Path, build: Callable[[], nn.Module], base: nn.Module | None,
                 max_epochs: int) -> tuple[int, nn.Module, ResumeState, float]:
    version = latest_version(ckpt_dir) if ckpt_dir.is_dir() else None
    if version is None:
        raise ConfigError(f"--resume: no last.ckpt in {ckpt_dir}; train once without --resume first")
    path = versioned(ckpt_dir, "last", version)
    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    model = copy.deepcopy(base) if base is not None else build()
    state = {key.removeprefix("model."): value for key, value in checkpoint["state_dict"].items()}
    load_state_into(model, state, path)
    next_epoch = int(checkpoint["epoch"]) + 1
    if next_epoch >= max_epochs:
        raise ConfigError(f"--resume: {path} already finished epoch {next_epoch - 1} of max_epochs={max_epochs}; "
                          "raise --max-epochs to train further")
    resume = ResumeState(next_epoch, int(checkpoint["global_step"]), checkpoint.get("optimizer_states"))
    scores = [c.get("best_model_score") for c in checkpoint.get("callbacks", {}).values() if isinstance(c, dict)]
    best = float(scores[0]) if scores and scores[0] is not None else float("inf")
    return version, model, resume, best


def _settings(args: MaseArgs) -> tuple[RunConfig, GroupConfig]:
    run, group = run_config(args), group_config(args)
    check_settings([run], group)
    return run, group


def learning_rate_tag(run: RunConfig) -> str:
    """The tag ``LearningRateMonitor`` gives one unnamed optimiser: ``lr-`` and its class name (``lr-Adam``)."""
    return "lr-" + type(make_optimizer(run, [nn.Parameter(torch.zeros(1))])).__name__


def diverged_message(record: EpochRecord, files: CheckpointFiles, learning_rate: float) -> str:
    """One line: where the loss stopped being finite and which checkpoints still hold good weights."""
    kept = (f"{files.best.name} (epoch {files.best_epoch}) and {files.last.name} keep the epochs before it "
            f"in {files.directory}") if files.last.is_file() else "no checkpoint was written"
    return (f"training diverged in epoch {record.epoch}: train_loss_step={record.train_loss_step[0]}, "
            f"val_loss_epoch={record.val_loss_epoch[0]} at learning_rate {learning_rate}; {kept}; "
            "try a lower --learning-rate")


def run_training(args: MaseArgs, data: DatasetSplits, build: Callable[[], nn.Module], software_dir: Path,
                 *, progress: bool = True, on_epoch: Callable[[EpochRecord], None] | None = None) -> TrainingOutcome:
    """Train one model as ``ch train`` does and write best/last checkpoints, TensorBoard and metrics.csv.

    A run whose loss becomes NaN/inf stops with ``TrainingDiverged``; the checkpoints of the
    epochs before stay as they were.
    """
    run, group = _settings(args)
    base = initial_model(build, args)
    check_batch_norm(base if base is not None else build(), group.batch_size)
    if len(data.y_train) < group.batch_size:
        logger.warning("the training split has %d rows, fewer than batch_size %d: every epoch is one step of %d rows",
                       len(data.y_train), group.batch_size, len(data.y_train))
    ensure_writable(software_dir)
    ckpt_dir = software_dir / "training_ckpts"
    ensure_writable(ckpt_dir)
    resume, best_loss = None, float("inf")
    if args.resume:
        version, start, resume, best_loss = _read_resume(ckpt_dir, build, base, args.max_epochs)
        initial = [start]
    else:
        version = next_version(ckpt_dir)
        initial = [base] if base is not None else None
    files = CheckpointFiles(ckpt_dir, version, best_loss=best_loss)
    log = RunLog(software_dir, version, keep_rows=args.resume)
    lr_tag = learning_rate_tag(run)
    hyper = {key: value for key, value in dataclasses.asdict(args).items()}
    best_state: dict[str, Any] = {}

    def save(record: EpochRecord, state: EnsembleState) -> None:
        model = state.models()[0]
        val_loss = record.val_loss_epoch[0]
        checkpoint = lightning_checkpoint(
            model, epoch=record.epoch, global_step=record.global_step, optimizer_state=state.optimizer_states()[0],
            scheduler_state=scheduler_state(run, args.max_epochs, record.epoch + 1), hyper_parameters=hyper)
        if files.save(checkpoint, val_loss, record.epoch):
            best_state["model"] = copy.deepcopy(model).cpu()
        for step in record.steps:
            log.log_step(step.step, record.epoch, {"train_loss_step": step.train_loss_step[0],
                                                   "train_acc_step": step.train_acc_step[0],
                                                   lr_tag: record.learning_rates[0]})
        log.log(record.global_step, record.epoch,
                {"val_acc_epoch": record.val_acc_epoch[0], "val_loss_epoch": val_loss},
                train_acc_step=record.train_acc_step[0], train_loss_step=record.train_loss_step[0],
                lr=record.learning_rates[0], seconds=record.seconds)
        if on_epoch is not None:
            on_epoch(record)

    try:
        result = train_ensemble(build, data, [run], group, on_epoch_end=save, progress=progress,
                                initial_models=initial, resume=resume)
        if result.diverged_at[0] is not None:
            raise TrainingDiverged(diverged_message(result.history[-1], files, run.learning_rate))
        best_model = best_state.get("model")
        if best_model is None:  # a resumed run that never beat the earlier best
            best_model = with_checkpoint(copy.deepcopy(result.models[0]), files.best, "pl") \
                if files.best.is_file() else result.models[0]
        (test_acc, test_loss), = evaluate_models([best_model], data.x_test, data.y_test)
        last = result.history[-1] if result.history else None
        log.log(last.global_step if last else 0, last.epoch if last else -1,
                {"test_acc_epoch": test_acc, "test_loss_epoch": test_loss})
    finally:
        log.close()
    return TrainingOutcome(
        history=result.history, software_dir=software_dir, best_checkpoint=files.best, last_checkpoint=files.last,
        best_epoch=files.best_epoch, best_val_loss=files.best_loss, test_acc_epoch=test_acc,
        test_loss_epoch=test_loss, tensorboard_dir=log.tensorboard_dir, metrics_csv=log.csv_path,
        path=result.path, version=version,
    )
