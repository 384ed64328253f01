"""The engine's public records: what one model and one group are told, and what comes back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names below are read by the CLI's argument parser, which must not import torch
    from torch import nn

OPTIMIZERS = ("adam", "adamw", "sgd")
BATCH_ORDERS = ("shared", "per_model")


@dataclass(frozen=True)
class RunConfig:
    """One model of an ensemble: its initialisation seed and optimiser settings.

    ``seed`` also drives the model's own batch order when the group uses ``batch_order="per_model"``.
    """

    seed: int
    learning_rate: float
    optimizer: str = "adam"
    weight_decay: float = 0.0


@dataclass(frozen=True)
class GroupConfig:
    """Settings shared by every model trained in one vectorised program."""

    batch_size: int
    max_epochs: int
    max_steps: int = -1
    batch_order: str = "shared"
    order_seed: int = 0
    device: str = "cpu"
    compile: bool = False
    log_every_n_steps: int = 0   # per-step metrics every n optimiser steps, as Lightning logs them; 0: none


@dataclass(frozen=True)
class StepMetrics:
    """Per-model loss and accuracy of the batch of optimiser step ``step`` (1-based, counted over the run)."""

    step: int
    train_loss_step: tuple[float, ...]
    train_acc_step: tuple[float, ...]


@dataclass(frozen=True)
class EpochRecord:
    """Per-model metrics of one epoch (0-based), synchronised from the device once.

    ``diverged[k]`` is True once model k's training loss or validation loss has been NaN or
    infinite at the end of this or an earlier epoch; ``steps`` holds the steps logged every
    ``GroupConfig.log_every_n_steps``.
    """

    epoch: int
    train_acc_step: tuple[float, ...]
    train_loss_step: tuple[float, ...]
    val_acc_epoch: tuple[float, ...]
    val_loss_epoch: tuple[float, ...]
    seconds: float
    global_step: int = 0
    learning_rates: tuple[float, ...] = ()
    diverged: tuple[bool, ...] = ()
    steps: tuple[StepMetrics, ...] = ()


@dataclass
class EnsembleResult:
    """Trained modules (CPU, eval mode, in ``runs`` order), the epoch history and the wall time.

    A diverged model's module holds its last (non-finite) weights; ``diverged_at`` says which.
    """

    models: list[nn.Module]
    history: list[EpochRecord]
    wall_seconds: float
    path: str = "general"
    optimizer_states: list[dict[str, Any]] = field(default_factory=list)
    diverged_at: tuple[int | None, ...] = ()   # per model: the epoch its loss first became NaN/inf, or None
