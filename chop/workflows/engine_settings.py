"""MaseArgs → engine settings: the one translation ``ch train`` and ``ch sweep run`` share.

The engine knows nothing of MASE's argument names; this is where ``accelerator``,
``training_optimizer`` and friends become a ``RunConfig`` and a ``GroupConfig``.
"""

from __future__ import annotations

import torch

from chop.config.mase_args import MaseArgs
from chop.engine.types import GroupConfig, RunConfig
from chop.errors import ConfigError


def resolve_device(accelerator: str) -> str:
    """``auto`` → cuda when torch sees a GPU, else cpu; ``gpu`` without one is an error."""
    if accelerator == "gpu":
        if not torch.cuda.is_available():
            raise ConfigError("accelerator 'gpu' was asked for but torch sees no CUDA GPU; use --accelerator cpu")
        return "cuda"
    if accelerator == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return "cpu"


def run_config(args: MaseArgs, seed: int | None = None) -> RunConfig:
    """One model's settings; ``seed`` (a sweep repeat's) replaces ``args.seed`` when given."""
    return RunConfig(seed=args.seed if seed is None else seed, learning_rate=args.learning_rate,
                     optimizer=args.training_optimizer, weight_decay=args.weight_decay)


def group_config(args: MaseArgs, log_steps: bool = True) -> GroupConfig:
    """The settings every model of one group shares; ``log_steps=False`` drops the per-step metrics."""
    return GroupConfig(batch_size=args.batch_size, max_epochs=args.max_epochs, max_steps=args.max_steps,
                       batch_order=args.batch_order, order_seed=args.seed, device=resolve_device(args.accelerator),
                       compile=args.compile, log_every_n_steps=args.log_every_n_steps if log_steps else 0)
