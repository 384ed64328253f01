"""Training: many independent models of one architecture in a single vectorised program.

The names are imported on first use, so ``chop.engine.types`` (read by the CLI's argument
parser for its choices) can be imported without importing torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "EnsembleState": "chop.engine.trainer", "ResumeState": "chop.engine.trainer",
    "evaluate_models": "chop.engine.trainer", "train_ensemble": "chop.engine.trainer",
    "EnsembleResult": "chop.engine.types", "EpochRecord": "chop.engine.types",
    "GroupConfig": "chop.engine.types", "RunConfig": "chop.engine.types",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'chop.engine' has no attribute '{name}'")
    return getattr(importlib.import_module(_HOMES[name]), name)
