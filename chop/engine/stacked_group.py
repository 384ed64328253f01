"""Holds the stacked tensors of a fast-path ensemble and drives a ``stacked_loop`` runner over an epoch."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from chop.engine import flat_optimizer, stacked_layers, stacked_loop
from chop.engine.flat_params import flatten, stack, unflatten, unstack_into
from chop.engine.stacked import StackedPlan
from chop.engine.types import RunConfig


@dataclass(frozen=True)
class _Epoch:
    """One epoch's batch plan: ``batches`` is ``(full, 1 or K, B)`` row indices of the full batches."""

    bounds: list[tuple[int, int]]
    order: Tensor
    batches: Tensor
    hp: Tensor
    full: int


class StackedGroup:
    """K models of one Linear/BatchNorm1d/ReLU chain trained as stacked tensors."""

    path = "stacked"

    def __init__(self, plan: StackedPlan, models: Sequence[nn.Module], runs: Sequence[RunConfig],
                 device: torch.device, compile_step: bool,
                 optimizer_states: Sequence[dict[str, Any]] | None = None) -> None:
        self.plan, self.runs, self.device = plan, list(runs), device
        self.optimizer = runs[0].optimizer
        self.templates = [copy.deepcopy(model).cpu() for model in models]
        self.flat = flatten(plan, stack(models, plan.param_names, device))
        self.stats = stack(models, plan.stat_names, device)
        self.state = {slot: torch.zeros_like(self.flat) for slot in flat_optimizer.state_slots(self.optimizer)}
        if optimizer_states:
            flat_optimizer.optimizer_state_from_torch(plan, self.optimizer, optimizer_states, self.state)
        self.batches_tracked = 0
        self.run_eager = stacked_loop.eager_runner(plan, self.optimizer)
        self.run = stacked_loop.compiled_runner(plan, self.optimizer) if compile_step else self.run_eager
        self.weight_decays = [run.weight_decay for run in runs]
        self.lrs: list[float] = [run.learning_rate for run in runs]
        self.epoch: _Epoch | None = None
        self.epoch_data: tuple[Tensor, Tensor] | None = None

    def begin_epoch(self, lrs: Sequence[float], first_step: int, bounds: Sequence[tuple[int, int]],
                    order: Tensor) -> None:
        """Prepare the epoch whose batches are ``order[:, start:stop]`` for each of ``bounds``.

        ``bounds`` is the whole epoch even when ``max_steps`` ends it early, so every epoch of a run
        has the same tensor shapes and the compiled loop is built once.
        """
        self.lrs = list(lrs)
        hp = flat_optimizer.step_hyperparameters(self.optimizer, self.lrs, self.weight_decays, first_step,
                                                 len(bounds), self.device)
        size = bounds[0][1] - bounds[0][0]
        full = sum(1 for start, stop in bounds if stop - start == size)  # only the last batch can be short
        batches = order[:, :full * size].reshape(order.shape[0], full, size).transpose(0, 1).contiguous()
        self.epoch = _Epoch(list(bounds), order, batches, hp, full)
        self.epoch_data = None

    def train_range(self, x_all: Tensor, y_all: Tensor, start: int, stop: int) -> tuple[Tensor, Tensor]:
        """Steps ``start .. stop-1`` of the epoch; the last step's per-model (loss, accuracy).

        The full batches go to one (compiled) loop call; a short last batch, once per epoch, runs
        eagerly rather than costing a second compilation for its shape.
        """
        epoch = self.epoch
        assert epoch is not None, "begin_epoch must run first"
        loss = acc = torch.zeros(0)
        with torch.no_grad():  # gradients are written out by hand: no autograd tape
            if start < min(stop, epoch.full):
                x, y = self._epoch_data(x_all, y_all)
                loss, acc = self.run(self.flat, self.stats, self.state, x, y, epoch.batches, epoch.hp,
                                     self._index(start), self._index(min(stop, epoch.full)))
            for step in range(max(start, epoch.full), stop):
                first, last = epoch.bounds[step]
                rows = epoch.order[:, first:last].unsqueeze(0)
                loss, acc = self.run_eager(self.flat, self.stats, self.state, x_all, y_all, rows,
                                           epoch.hp[step:step + 1], self._index(0), self._index(1))
        self.batches_tracked += stop - start
        return loss, acc

    def _epoch_data(self, x_all: Tensor, y_all: Tensor) -> tuple[Tensor, Tensor]:
        """A shared order's full batches copied once into batch order, features-major ``(T, 1, F, B)``,
        so each step reads a contiguous block instead of gathering rows (one copy of the data per
        epoch); per-model orders gather."""
        epoch = self.epoch
        assert epoch is not None
        if epoch.batches.shape[1] != 1:
            return x_all, y_all
        if self.epoch_data is None:
            rows = epoch.batches.reshape(-1)
            x = x_all.index_select(0, rows).view(*epoch.batches.shape, x_all.shape[1])
            self.epoch_data = (x.transpose(2, 3).contiguous(), y_all.index_select(0, rows).view(epoch.batches.shape))
        return self.epoch_data

    def _index(self, value: int) -> Tensor:
        return torch.tensor(value, dtype=torch.int64, device=self.device)

    def evaluate(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        return stacked_layers.evaluate(self.plan, self.flat, self.stats, x, y)

    def modules(self) -> list[nn.Module]:
        """Fresh CPU modules holding the current weights and running statistics."""
        models = [copy.deepcopy(template) for template in self.templates]
        tensors = unflatten(self.plan, self.flat) | self.stats
        unstack_into(models, {name: t.cpu() for name, t in tensors.items()})
        with torch.no_grad():
            for model in models:
                for module in model.modules():
                    if isinstance(module, nn.BatchNorm1d):
                        module.num_batches_tracked += self.batches_tracked
        return models

    def optimizer_states(self, global_step: int) -> list[dict[str, Any]]:
        return flat_optimizer.torch_optimizer_states(self.plan, self.optimizer, self.state, self.runs, self.lrs,
                                                     global_step)

