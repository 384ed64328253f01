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
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

from chop.dataset.splits import DatasetSplits
from chop.engine.batches import batch_bounds, epoch_order
from chop.engine.group import EnsembleGroup
from chop.engine.looped import LoopedGroup, evaluate_on_device
from chop.engine.progress import EpochProgress
from chop.engine.schedule import check_run, epoch_learning_rates
from chop.engine.stacked import plan_for
from chop.engine.stacked_group import StackedGroup
from chop.engine.vmapped import vmapped_group
from chop.engine.types import BATCH_ORDERS, EnsembleResult, EpochRecord, GroupConfig, RunConfig, StepMetrics
from chop.errors import ConfigError
from chop.models.input_shape import input_shape_of

PATHS = ("auto", "stacked", "vmap", "general")


@dataclass(frozen=True)
class ResumeState:
    """Where a resumed run continues: the next epoch, the global step and each model's optimiser state."""

    next_epoch: int
    global_step: int
    optimizer_states: Sequence[dict[str, Any]] | None = None


class EnsembleState:
    """Handle given to ``on_epoch_end``: the current models and optimiser state (for checkpoints)."""

    def __init__(self, group: EnsembleGroup, runs: Sequence[RunConfig], config: GroupConfig) -> None:
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


def check_settings(runs: Sequence[RunConfig], group: GroupConfig) -> None:
    """Refuse settings no training can use, naming the value (callers run it before writing files)."""
    if not runs:
        raise ConfigError("train_ensemble needs at least one RunConfig")
    for run in runs:
        check_run(run)
    if group.batch_size <= 0:
        raise ConfigError(f"batch_size must be a positive integer, got {group.batch_size}")
    if group.max_epochs <= 0:
        raise ConfigError(f"max_epochs must be at least 1, got {group.max_epochs}")
    if group.max_steps == 0 or group.max_steps < -1:
        raise ConfigError(f"max_steps must be a positive integer, or -1 for no limit, got {group.max_steps}")
    if group.log_every_n_steps < 0:
        raise ConfigError(f"log_every_n_steps must be >= 0 (0: no per-step logs), got {group.log_every_n_steps}")
    if group.batch_order not in BATCH_ORDERS:
        raise ConfigError(f"batch_order '{group.batch_order}' is not one of {', '.join(BATCH_ORDERS)}")


def _check(runs: Sequence[RunConfig], group: GroupConfig, data: DatasetSplits) -> torch.device:
    check_settings(runs, group)
    if len(data.x_train) < 2:
        raise ConfigError(f"dataset '{data.name}' has {len(data.x_train)} training rows; at least 2 are needed")
    if group.device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was asked for but torch sees no CUDA GPU; use cpu")
    return torch.device(group.device)


def check_batch_norm(model: nn.Module, batch_size: int) -> None:
    """Batches of one row cannot train BatchNorm (its batch variance is undefined): refuse, naming the layer."""
    if batch_size != 1:
        return
    for name, module in model.named_modules():
        if isinstance(module, _BatchNorm):
            raise ConfigError(f"batch_size 1 cannot train {type(module).__name__} '{name}' (the variance of one "
                              "row is undefined); use a batch_size of 2 or more")


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


def program_of(model: nn.Module) -> tuple[str, str | None, tuple[tuple[str, tuple[int, ...]], ...]]:
    """What a model computes, less its parameter values: the module tree as ``repr`` prints it (types,
    sizes, each quantiser's format), a GraphModule's code, and every parameter's and buffer's shape."""
    shapes = tuple((name, tuple(t.shape)) for name, t in (*model.named_parameters(), *model.named_buffers()))
    return repr(model), getattr(model, "code", None), shapes


def one_program(models: Sequence[nn.Module]) -> bool:
    """Whether every model computes what the first does: the condition of the stacked and vmap paths.

    Models built by one factory always are; ``initial_models`` need not be (QAT candidates of one
    architecture with different quantisers), and stacking those would train each with the first's.
    """
    first = program_of(models[0])
    return all(program_of(model) == first for model in models[1:])


def make_group(models: list[nn.Module], runs: Sequence[RunConfig], group: GroupConfig, device: torch.device,
               num_features: int, optimizer_states: Sequence[dict[str, Any]] | None, path: str) -> EnsembleGroup:
    """Pick the fast path when the model and optimisers allow it (or when ``path`` forces it)."""
    if path not in PATHS:
        raise ConfigError(f"path '{path}' is not one of {', '.join(PATHS)}")
    same_optimizer = len({run.optimizer for run in runs}) == 1
    if path in ("stacked", "vmap") and not one_program(models):
        raise ConfigError(f"the {path} path runs one forward for every model, but these models differ in structure "
                          "or quantisation; use path 'general' (or 'auto')")
    if not one_program(models):  # the fast paths run models[0]'s forward with every model's parameters
        return LoopedGroup(models, runs, device, num_features, optimizer_states)
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


def _range_stops(steps: int, every: int, done: int, log_every: int) -> list[int]:
    """Where the epoch's step ranges end: every ``every`` steps, and at each step that is logged
    (global step count a multiple of ``log_every``), so its loss is the range's returned value."""
    stops = set(range(every, steps, every)) | {steps}
    if log_every > 0:
        stops |= set(range(log_every - done % log_every, steps + 1, log_every))
    return sorted(stops)


def _finite(*values: float) -> bool:
    return all(math.isfinite(value) for value in values)


def _stacked_steps(logged: list[tuple[int, Tensor, Tensor]]) -> tuple[StepMetrics, ...]:
    """The logged steps' metrics read from the device in one transfer."""
    if not logged:
        return ()
    values = torch.stack([torch.stack([loss, acc]) for _, loss, acc in logged]).tolist()
    return tuple(StepMetrics(step, tuple(loss), tuple(acc)) for (step, _, _), (loss, acc) in zip(logged, values))


def train_ensemble(build_model: Callable[[], nn.Module], data: DatasetSplits, runs: Sequence[RunConfig],
                   group: GroupConfig, *, on_epoch_end: Callable[[EpochRecord, EnsembleState], None] | None = None,
                   progress: bool = True, initial_models: Sequence[nn.Module] | None = None,
                   resume: ResumeState | None = None, path: str = "auto") -> EnsembleResult:
    """Train one model per ``RunConfig`` in a single vectorised program (see the module docstring).

    K=1 with seed s initialises exactly like ``torch.manual_seed(s); build_model()``.
    ``initial_models`` starts from given weights (fine-tuning, QAT of a loaded GraphModule);
    ``resume`` continues a run at ``next_epoch`` with saved optimiser states. ``path`` forces
    ``"stacked"``, ``"vmap"`` or ``"general"`` (tests); ``"auto"`` picks the fastest that fits.

    Divergence is checked once per epoch, on the metrics already read: a model whose training or
    validation loss is NaN/inf is marked in ``EpochRecord.diverged`` and ``diverged_at``; the
    others train on unchanged (each model's arithmetic is its own). When every model has
    diverged the run stops before ``on_epoch_end``, so no checkpoint of that epoch is written.
    """
    device = _check(runs, group, data)
    started = time.perf_counter()
    models = _initial_models(build_model, runs, initial_models)
    check_batch_norm(models[0], group.batch_size)
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
    diverged_at: list[int | None] = [None] * len(runs)
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
            logged: list[tuple[int, Tensor, Tensor]] = []
            start = 0
            for stop in _range_stops(steps, every, global_step, group.log_every_n_steps):
                loss, acc = engine.train_range(x_train, y_train, start, stop)
                if group.log_every_n_steps and (global_step + stop) % group.log_every_n_steps == 0:
                    logged.append((global_step + stop, loss, acc))
                if progress and (stop % every == 0 or stop == steps):
                    bar.update(stop, {"train_acc_step": float(acc.mean())})
                start = stop
            global_step += steps
            val_acc, val_loss = engine.evaluate(x_val, y_val)
            train_loss, val_losses = loss.tolist(), val_loss.tolist()
            for k, (train_value, val_value) in enumerate(zip(train_loss, val_losses)):
                if diverged_at[k] is None and not _finite(train_value, val_value):
                    diverged_at[k] = epoch
            record = EpochRecord(
                epoch=epoch, train_acc_step=tuple(acc.tolist()), train_loss_step=tuple(train_loss),
                val_acc_epoch=tuple(val_acc.tolist()), val_loss_epoch=tuple(val_losses),
                seconds=time.perf_counter() - epoch_start, global_step=global_step, learning_rates=tuple(lrs),
                diverged=tuple(at is not None for at in diverged_at), steps=_stacked_steps(logged),
            )
            bar.update(steps, {"val_acc_epoch": float(val_acc.mean()), "val_loss_epoch": float(val_loss.mean())})
            history.append(record)
            if all(record.diverged):
                break
            state.epoch, state.global_step = epoch, global_step
            if on_epoch_end is not None:
                on_epoch_end(record, state)
    state.global_step = global_step
    final = [model.cpu().eval() for model in engine.modules()]
    return EnsembleResult(models=final, history=history, wall_seconds=time.perf_counter() - started,
                          path=engine.path, optimizer_states=state.optimizer_states(),
                          diverged_at=tuple(diverged_at))


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
