"""Checkpoints in Lightning's layout, written atomically under versioned names.

A ``.ckpt`` holds ``state_dict`` (keys prefixed ``model.``), ``epoch``, ``global_step``,
``optimizer_states``, ``lr_schedulers``, ``callbacks``, ``hyper_parameters``, ``loops`` and
``pytorch-lightning_version``, so Lightning's ``load_from_checkpoint`` layout, MASE's
``load_model`` and ``--load-type pl`` all read it. Like Lightning's ``ModelCheckpoint``, a second
run in the same directory writes ``best-v1.ckpt`` / ``last-v1.ckpt`` instead of overwriting.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from chop.tools.atomic import atomic_torch_save
from chop.tools.versions import versioned_name, versions

LIGHTNING_VERSION = "2.4.0"  # the layout version written (machop does not need Lightning installed)


def lightning_checkpoint(model: nn.Module, *, epoch: int, global_step: int, optimizer_state: dict[str, Any],
                         scheduler_state: dict[str, Any], hyper_parameters: dict[str, Any],
                         callbacks: dict[str, Any] | None = None) -> dict[str, Any]:
    """The dict Lightning's ``trainer.save_checkpoint`` would write for a ``model`` attribute."""
    state = {f"model.{name}": tensor.detach().cpu().clone() for name, tensor in model.state_dict().items()}
    return {
        "epoch": epoch,
        "global_step": global_step,
        "pytorch-lightning_version": LIGHTNING_VERSION,
        "state_dict": state,
        "loops": {},
        "callbacks": callbacks or {},
        "optimizer_states": [optimizer_state],
        "lr_schedulers": [scheduler_state],
        "hparams_name": "kwargs",
        "hyper_parameters": hyper_parameters,
    }


def next_version(directory: Path) -> int:
    """0 when no ``best``/``last`` checkpoint exists yet, else one more than the highest version."""
    return max(versions(directory, "best", ".ckpt") + versions(directory, "last", ".ckpt"), default=-1) + 1


def latest_version(directory: Path) -> int | None:
    """The highest version that has a ``last`` checkpoint (what ``--resume`` continues from)."""
    return max(versions(directory, "last", ".ckpt"), default=None)


def versioned(directory: Path, stem: str, version: int) -> Path:
    return directory / versioned_name(stem, version, ".ckpt")


@dataclass
class CheckpointFiles:
    """``best`` (lowest ``val_loss_epoch`` so far) and ``last`` of one run, saved atomically."""

    directory: Path
    version: int
    best_loss: float = float("inf")
    best_epoch: int = -1

    @property
    def best(self) -> Path:
        return versioned(self.directory, "best", self.version)

    @property
    def last(self) -> Path:
        return versioned(self.directory, "last", self.version)

    def callbacks_state(self) -> dict[str, Any]:
        return {"ModelCheckpoint{'monitor': 'val_loss_epoch', 'mode': 'min'}": {
            "monitor": "val_loss_epoch", "best_model_score": self.best_loss,
            "best_model_path": str(self.best), "last_model_path": str(self.last)}}

    def save(self, checkpoint: dict[str, Any], val_loss: float, epoch: int) -> bool:
        """Write ``last`` always and ``best`` when ``val_loss`` improves; True if ``best`` was written."""
        improved = val_loss < self.best_loss
        if improved:
            self.best_loss, self.best_epoch = val_loss, epoch
        checkpoint["callbacks"] = self.callbacks_state()
        if improved:
            atomic_torch_save(checkpoint, self.best)
        atomic_torch_save(checkpoint, self.last)
        return improved
