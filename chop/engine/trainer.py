"""``train_ensemble``: K models of one architecture, trained together, equal to K plain loops.

The whole dataset lives on the device; each epoch draws one seeded permutation (shared by the K
models, or one per model) and slices it into batches, so there is no DataLoader on the hot path.
Models made only of Linear / BatchNorm1d / ReLU take the stacked fast path (``stacked.py``); other
models train through ``torch.func.vmap`` when K > 1 (``vmapped.py``), or else in a plain loop
(``looped.py``: K = 1, or a model vmap cannot trace). Metrics stay on the device and are read
once per epoch, plus every ``sync_every`` steps for the progress bar.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from chop.dataset.splits import DatasetSplits
from chop.engine.batches import batch_bounds, epoch_order
from chop.engine.looped import LoopedGroup, evaluate_on_device, input_shape_of
from chop.engine.progress import EpochProgress
from chop.engine.schedule import check_run, epoch_learning_rates
from chop.engine.stacked import plan_for
from chop.engine.stacked_group import StackedGroup
from chop.engine.vmapped import vmapped_group
from chop.engine.types import BATCH_ORDERS, EnsembleResult, EpochRecord, GroupConfig, RunConfig
from chop.errors import ConfigError

PATHS = ("auto", "stacked", "vmap", "general")


@dataclass(frozen=True)
class ResumeState:
    """Where a resumed run continues: the next epoch, the global step and each model's optimiser state."""

    next_epoch: int
    global_step: int
    optimizer_states: Sequence[dict[str, Any]] | None = None


class EnsembleState:
    """Handle given to ``on_epoch_end``: the current models and optimiser state (for checkpoints)."""

    def __init__(self, group: Any, runs: Sequence[RunConfig], config: GroupConfig) -> None:
        self._group, self.runs, self.config = group, list(runs), config
        self.epoch = -1
        self.global_step = 0

    @property
    def path(self) -> str:
        return self._group.path

    def models(self) -> list[nn.Module]:
        """The K models with their current weights (the live modules on the general path)."""
        return self._group.modules()

    def state_dicts(self) -> list[dict[str, Tensor]]:
        return [{k: v.detach().cpu().clone() for k, v in m.state_dict().items()} for m in self.models()]

    def optimizer_states(self) -> list[dict[str, Any]]:
        """Each model's optimiser state in ``torch.optim.Optimizer.state_dict()`` layout."""
        return self._group.optimizer_states(self.global_step)


def _check(runs: Sequence[RunConfig], group: GroupConfig, data: DatasetSplits) -> torch.device:
    if not runs:
        raise ConfigError("train_ensemble needs at least one RunConfig")
    for run in runs:
        check_run(run)
    if group.batch_size <= 0:
        raise ConfigError(f"batch_size must be a positive integer, got {group.batch_size}")
    if group.max_epochs <= 0:
        raise ConfigError(f"max_epochs must be at least 1, got {group.max_epochs}")
    if group.batch_order not in BATCH_ORDERS:
        raise ConfigError(f"batch_order '{group.batch_order}' is not one of {', '.join(BATCH_ORDERS)}")
    if len(data.x_train) < 2:
        raise ConfigError(f"dataset '{data.name}' has {len(data.x_train)} training rows; at least 2 are needed")
    if group.device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was asked for but torch sees no CUDA GPU; use cpu")
    return torch.device(group.device)


def _initial_models(build_model: Callable[[], nn.Module], runs: Sequence[RunConfig],
                    initial_models: Sequence[nn.Module] | None) -> list[nn.Module]:
    """Model k is built right after ``torch.manual_seed(runs[k].seed)``, or copied from ``initial_models``."""
    if initial_models is not None:
        if len(initial_models) not in (1, len(runs)):
            raise ConfigError(f"initial_models has {len(initial_models)} models for {len(runs)} runs")
        sources = list(initial_models) * (len(runs) if len(initial_models) == 1 else 1)
        return [copy.deepcopy(model).float() for model in sources]
    models = []
    for run in runs:
        torch.manual_seed(run.seed)
        models.append(build_model())
    return models


def _tensor(array: np.ndarray, dtype: torch.dtype, device: torch.device) -> Tensor:
    return torch.as_tensor(np.ascontiguousarray(array)).to(device=device, dtype=dtype)


def make_group(models: list[nn.Module], runs: Sequence[RunConfig], group: GroupConfig, device: torch.device,
               num_features: int, optimizer_states: Sequence[dict[str, Any]] | None, path: str):
    """Pick the fast path when the model and optimisers allow it (or when ``path`` forces it)."""
    if path not in PATHS:
        raise ConfigError(f"path '{path}' is not one of {', '.join(PATHS)}")
    same_optimizer = len({run.optimizer for run in runs}) == 1
    plan = plan_for(models[0]) if path in ("auto", "stacked") and same_optimizer else None
    if plan is not None and input_shape_of(models[0], num_features) != (num_features,):
        plan = None
    if path == "stacked" and plan is None:
        raise ConfigError("this model/optimiser mix cannot take the stacked path "
                          "(needs a Linear/BatchNorm1d/ReLU chain and one optimiser)")
    if plan is not None:
        return StackedGroup(plan, models, runs, device, group.compile, optimizer_states)
    if path == "vmap" or (path == "auto" and len(models) > 1 and same_optimizer):
        vectorised = vmapped_group(models, runs, device, num_features, optimizer_states) if same_optimizer else None
        if vectorised is not None:
            return vectorised
        if path == "vmap":
            raise ConfigError("this model/optimiser mix cannot take the vmap path (needs one optimiser and a "
                              "forward that torch.func.vmap can trace)")
    return LoopedGroup(models, runs, device, num_features, optimizer_states)


def _sync_every(steps: int) -> int:
    return max(1, steps // 20)


def train_ensemble(build_model: Callable[[], nn.Module], data: DatasetSplits, runs: Sequence[RunConfig],
                   group: GroupConfig, *, on_epoch_end: Callable[[EpochRecord, EnsembleState], None] | None = None,
                   progress: bool = True, initial_models: Sequence[nn.Module] | None = None,
                   resume: ResumeState | None = None, path: str = "auto") -> EnsembleResult:
    """Train one model per ``RunConfig`` in a single vectorised program (see the module docstring).

    K=1 with seed s initialises exactly like ``torch.manual_seed(s); build_model()``.
    ``initial_models`` starts from given weights (fine-tuning, QAT of a loaded GraphModule);
    ``resume`` continues a run at ``next_epoch`` with saved optimiser states. ``path`` forces
    ``"stacked"``, ``"vmap"`` or ``"general"`` (tests); ``"auto"`` picks the fastest that fits.
    """
    device = _check(runs, group, data)
    started = time.perf_counter()
    models = _initial_models(build_model, runs, initial_models)
    num_features = int(np.prod(data.x_train.shape[1:]))
    engine = make_group(models, runs, group, device, num_features,
                        resume.optimizer_states if resume else None, path)
    state = EnsembleState(engine, runs, group)
    x_train, y_train = _tensor(data.x_train, torch.float32, device), _tensor(data.y_train, torch.int64, device)
    x_val, y_val = _tensor(data.x_val, torch.float32, device), _tensor(data.y_val, torch.int64, device)
    x_train = x_train.reshape(len(x_train), -1)
    x_val = x_val.reshape(len(x_val), -1)
    schedules = [epoch_learning_rates(run, group.max_epochs) for run in runs]
    bounds = batch_bounds(len(x_train), group.batch_size)
    seeds = [run.seed for run in runs]
    global_step = resume.global_step if resume else 0
    history: list[EpochRecord] = []
    with EpochProgress(progress) as bar:
        for epoch in range(resume.next_epoch if resume else 0, group.max_epochs):
            if 0 < group.max_steps <= global_step:
                break
            epoch_start = time.perf_counter()
            steps = len(bounds) if group.max_steps <= 0 else min(len(bounds), group.max_steps - global_step)
            order = epoch_order(len(x_train), seeds, group.batch_order == "shared", group.order_seed, epoch, device)
            lrs = [schedule[epoch] for schedule in schedules]
            engine.begin_epoch(lrs, global_step + 1, bounds, order)
            bar.start_epoch(epoch, steps)
            every = _sync_every(steps) if progress else steps  # each range is one call into the engine
            loss = acc = torch.zeros(len(runs))
            for start in range(0, steps, every):
                stop = min(start + every, steps)
                loss, acc = engine.train_range(x_train, y_train, start, stop)
                if progress:
                    bar.update(stop, {"train_acc_step": float(acc.mean())})
            global_step += steps
            val_acc, val_loss = engine.evaluate(x_val, y_val)
            record = EpochRecord(
                epoch=epoch, train_acc_step=tuple(acc.tolist()), train_loss_step=tuple(loss.tolist()),
                val_acc_epoch=tuple(val_acc.tolist()), val_loss_epoch=tuple(val_loss.tolist()),
                seconds=time.perf_counter() - epoch_start, global_step=global_step, learning_rates=tuple(lrs),
            )
            bar.update(steps, {"val_acc_epoch": float(val_acc.mean()), "val_loss_epoch": float(val_loss.mean())})
            history.append(record)
            state.epoch, state.global_step = epoch, global_step
            if on_epoch_end is not None:
                on_epoch_end(record, state)
    state.global_step = global_step
    final = [model.cpu().eval() for model in engine.modules()]
    return EnsembleResult(models=final, history=history, wall_seconds=time.perf_counter() - started,
                          path=engine.path, optimizer_states=state.optimizer_states())


def evaluate_models(models: Sequence[nn.Module], x: Any, y: Any, *, batch_size: int = 8192,
                    device: str = "cpu") -> list[tuple[float, float]]:
    """(accuracy, mean cross-entropy) of each model on ``x``/``y`` in eval mode, inputs reshaped
    to each model's ``input_shape``."""
    dev = torch.device(device)
    xt = torch.as_tensor(np.asarray(x) if not isinstance(x, Tensor) else x).to(dev, torch.float32)
    yt = torch.as_tensor(np.asarray(y) if not isinstance(y, Tensor) else y).to(dev, torch.int64)
    xt = xt.reshape(len(xt), -1)
    shapes = [input_shape_of(model, xt.shape[1]) for model in models]
    moved = [model.to(dev) for model in models]
    return evaluate_on_device(moved, xt, yt, shapes, chunk=batch_size)
