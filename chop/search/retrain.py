"""Retraining candidates of an architecture search: one engine ensemble per architecture (lab 4).

A candidate is an architecture (each hidden linear's channel multiplier, applied to a freshly built
model by ``redefine_linear_transform_pass``) and a training run (seed, learning rate). Candidates
of one architecture train together as one ensemble of the engine (K models in one vectorised
program), so K seeds of one architecture cost about one run; different architectures are separate
groups, one after another or ``jobs`` at a time in worker processes (one thread each, as ``ch sweep``
runs its groups). The basic_train runner (MASE's ``sw_runner.basic_train``) trains every model for
``max_epochs`` epochs on the training split and reports each one's accuracy and loss on the
validation split after the last epoch.

A model is built, resized and initialised inside the engine's ``build_model`` call, after the engine
seeds torch's generator with the run's seed: the same (architecture, seed) gives the same weights
in one ensemble or another, in this process or a worker.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from chop.engine import GroupConfig, RunConfig, evaluate_models, train_ensemble
from chop.ir.graph.mase_graph import MaseGraph
from chop.passes.graph.analysis.init_metadata import init_metadata_analysis_pass
from chop.passes.graph.transforms.architecture import channel_multiplier_config, redefine_linear_transform_pass
from chop.tools.runtime import configure_threads

Architecture = tuple[tuple[str, float], ...]
"""Each resized hidden linear node and its multiplier, sorted by name (hashable: the group key)."""


def architecture(multipliers: Mapping[str, float]) -> Architecture:
    """The group key of a multiplier dict; factors of 1 are dropped, so ``{"a": 1}`` is the original model."""
    return tuple(sorted((name, factor) for name, factor in multipliers.items() if factor != 1))


@dataclass(frozen=True)
class TrainSettings:
    """``[search.strategy.sw_runner.basic_train]``: how every candidate is trained."""

    max_epochs: int = 1
    batch_size: int = 256
    optimizer: str = "adam"
    weight_decay: float = 0.0
    device: str = "cpu"

    def group(self) -> GroupConfig:
        return GroupConfig(batch_size=self.batch_size, max_epochs=self.max_epochs, device=self.device)


@dataclass(frozen=True)
class Candidate:
    """One model to train: its architecture and run."""

    architecture: Architecture
    seed: int
    learning_rate: float


@dataclass(frozen=True)
class Trained:
    """A trained candidate: validation metrics after the last epoch and the module (eval mode, CPU)."""

    candidate: Candidate
    accuracy: float
    loss: float
    model: nn.Module = field(repr=False)


@dataclass(frozen=True)
class ResizedBuilder:
    """A picklable zero-argument factory: the base model freshly built, then resized to ``architecture``."""

    build: Callable[[], nn.Module]
    architecture: Architecture

    def __call__(self) -> nn.Module:
        model = self.build()
        if not self.architecture:
            return model
        graph, _ = init_metadata_analysis_pass(MaseGraph(model))
        config = channel_multiplier_config(graph, dict(self.architecture))
        return redefine_linear_transform_pass(graph, {"config": config}).graph.model


def _train_group(build: Callable[[], nn.Module], members: Sequence[Candidate], data: Any,
                 settings: TrainSettings) -> list[Trained]:
    configure_threads()
    runs = [RunConfig(seed=c.seed, learning_rate=c.learning_rate, optimizer=settings.optimizer,
                      weight_decay=settings.weight_decay) for c in members]
    result = train_ensemble(ResizedBuilder(build, members[0].architecture), data, runs, settings.group(),
                            progress=False)
    scores = evaluate_models(result.models, data.x_val, data.y_val, device=settings.device)
    return [Trained(c, accuracy, loss, model) for c, (accuracy, loss), model in zip(members, scores, result.models)]


_WORKER_DATA: Any = None


def _worker_init(data: Any) -> None:
    """Receive the dataset once per worker process, not once per group."""
    global _WORKER_DATA
    _WORKER_DATA = data


def _worker_train(build: Callable[[], nn.Module], members: Sequence[Candidate], settings: TrainSettings) -> list[Trained]:
    return _train_group(build, members, _WORKER_DATA, settings)


def train_candidates(build: Callable[[], nn.Module], candidates: Sequence[Candidate], data: Any,
                     settings: TrainSettings, jobs: int = 1) -> list[Trained]:
    """Train every candidate (``build``: a picklable factory of the base model); results in ``candidates`` order.

    Candidates that repeat an (architecture, seed, learning rate) are trained once.
    """
    groups: dict[Architecture, list[Candidate]] = {}
    for candidate in dict.fromkeys(candidates):
        groups.setdefault(candidate.architecture, []).append(candidate)
    trained: dict[Candidate, Trained] = {}
    if jobs <= 1 or len(groups) == 1:
        for members in groups.values():
            trained.update((t.candidate, t) for t in _train_group(build, members, data, settings))
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(min(jobs, len(groups)), mp_context=context, initializer=_worker_init,
                                 initargs=(data,)) as pool:
            futures = [pool.submit(_worker_train, build, members, settings) for members in groups.values()]
            for future in futures:
                trained.update((t.candidate, t) for t in future.result())
    return [trained[candidate] for candidate in candidates]
