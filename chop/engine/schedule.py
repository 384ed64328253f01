"""Optimisers and learning-rate schedules exactly as the MASE labs use them (lab-api §1).

Adam / AdamW: ``CosineAnnealingLR(T_max=max_epochs, eta_min=1e-6)``; SGD: momentum 0.9, Nesterov,
cosine to 0. The schedule is stepped once per epoch. Learning rates are taken from torch's own
scheduler (stepped on a dummy parameter) so both engine paths use bit-identical values.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import nn

from chop.engine.types import OPTIMIZERS, RunConfig
from chop.errors import ConfigError

ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
SGD_MOMENTUM = 0.9
COSINE_ETA_MIN = {"adam": 1e-6, "adamw": 1e-6, "sgd": 0.0}


def check_run(run: RunConfig) -> None:
    """Refuse settings no optimiser can use, naming the bad value."""
    if run.optimizer not in OPTIMIZERS:
        raise ConfigError(f"optimizer '{run.optimizer}' is not one of {', '.join(OPTIMIZERS)}")
    if not 0 < run.learning_rate < math.inf:
        raise ConfigError(f"learning_rate must be a positive finite number, got {run.learning_rate}")
    if not 0 <= run.weight_decay < math.inf:
        raise ConfigError(f"weight_decay must be a finite number >= 0, got {run.weight_decay}")


def make_optimizer(run: RunConfig, params: Iterable[nn.Parameter]) -> torch.optim.Optimizer:
    """The torch.optim optimiser MASE would build for ``run`` (the general path and the reference)."""
    params = list(params)
    if run.optimizer == "adam":
        return torch.optim.Adam(params, lr=run.learning_rate, betas=ADAM_BETAS, eps=ADAM_EPS,
                                weight_decay=run.weight_decay)
    if run.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=run.learning_rate, betas=ADAM_BETAS, eps=ADAM_EPS,
                                 weight_decay=run.weight_decay)
    return torch.optim.SGD(params, lr=run.learning_rate, momentum=SGD_MOMENTUM, nesterov=True,
                           weight_decay=run.weight_decay)


def make_scheduler(run: RunConfig, optimizer: torch.optim.Optimizer, max_epochs: int):
    """``CosineAnnealingLR(T_max=max_epochs)`` with the optimiser's floor (1e-6 for Adam/AdamW, 0 for SGD)."""
    return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max_epochs,
                                                      eta_min=COSINE_ETA_MIN[run.optimizer])


def epoch_learning_rates(run: RunConfig, max_epochs: int) -> list[float]:
    """Learning rate in force during each epoch ``0 .. max_epochs-1``, from torch's scheduler itself."""
    dummy = nn.Parameter(torch.zeros(1))
    optimizer = make_optimizer(run, [dummy])
    scheduler = make_scheduler(run, optimizer, max_epochs)
    rates = []
    for _ in range(max_epochs):
        rates.append(float(optimizer.param_groups[0]["lr"]))
        optimizer.step()  # keeps torch from warning about the call order; the gradient is None
        scheduler.step()
    return rates


def scheduler_state(run: RunConfig, max_epochs: int, epochs_done: int) -> dict:
    """``CosineAnnealingLR.state_dict()`` after ``epochs_done`` epochs (for Lightning-style checkpoints)."""
    dummy = nn.Parameter(torch.zeros(1))
    optimizer = make_optimizer(run, [dummy])
    scheduler = make_scheduler(run, optimizer, max_epochs)
    for _ in range(epochs_done):
        optimizer.step()
        scheduler.step()
    return scheduler.state_dict()
