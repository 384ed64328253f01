"""Training: many independent models of one architecture in a single vectorised program."""

from chop.engine.trainer import EnsembleState, ResumeState, evaluate_models, train_ensemble
from chop.engine.types import EnsembleResult, EpochRecord, GroupConfig, RunConfig

__all__ = ["EnsembleResult", "EnsembleState", "EpochRecord", "GroupConfig", "ResumeState", "RunConfig",
           "evaluate_models", "train_ensemble"]
