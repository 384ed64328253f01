"""Holds the stacked tensors of a fast-path ensemble and drives ``stacked.make_step`` over an epoch."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from chop.engine import stacked
from chop.engine.schedule import make_optimizer
from chop.engine.types import RunConfig


class StackedGroup:
    """K models of one Linear/BatchNorm1d/ReLU chain trained as stacked tensors."""

    path = "stacked"

    def __init__(self, plan: stacked.StackedPlan, models: Sequence[nn.Module], runs: Sequence[RunConfig],
                 device: torch.device, compile_step: bool,
                 optimizer_states: Sequence[dict[str, Any]] | None = None) -> None:
        self.plan, self.runs, self.device = plan, list(runs), device
        self.optimizer = runs[0].optimizer
        self.templates = [copy.deepcopy(model).cpu() for model in models]
        self.flat = stacked.flatten(plan, stacked.stack(models, plan.param_names, device))
        self.stats = stacked.stack(models, plan.stat_names, device)
        self.state = {slot: torch.zeros_like(self.flat) for slot in stacked.state_slots(self.optimizer)}
        if optimizer_states:
            stacked.optimizer_state_from_torch(plan, self.optimizer, optimizer_states, self.state)
        self.batches_tracked = 0
        step = stacked.make_step(plan, self.optimizer)
        self.step = _compiled(step) if compile_step else step
        self.weight_decays = [run.weight_decay for run in runs]
        self.lrs: list[float] = [run.learning_rate for run in runs]
        self.hp: Tensor | None = None

    def begin_epoch(self, lrs: Sequence[float], first_step: int, num_steps: int) -> None:
        self.lrs = list(lrs)
        self.hp = stacked.step_hyperparameters(self.optimizer, self.lrs, self.weight_decays, first_step,
                                               num_steps, self.device)

    def train_step(self, x_all: Tensor, y_all: Tensor, idx: Tensor, step_in_epoch: int) -> tuple[Tensor, Tensor]:
        assert self.hp is not None, "begin_epoch must run first"
        self.batches_tracked += 1
        with torch.no_grad():  # gradients are written out by hand: no autograd tape
            return self.step(self.flat, self.stats, self.state, x_all, y_all, idx, self.hp[step_in_epoch])

    def evaluate(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        return stacked.evaluate(self.plan, self.flat, self.stats, x, y)

    def modules(self) -> list[nn.Module]:
        """Fresh CPU modules holding the current weights and running statistics."""
        models = [copy.deepcopy(template) for template in self.templates]
        tensors = stacked.unflatten(self.plan, self.flat) | self.stats
        stacked.unstack_into(models, {name: t.cpu() for name, t in tensors.items()})
        with torch.no_grad():
            for model in models:
                for module in model.modules():
                    if isinstance(module, nn.BatchNorm1d):
                        module.num_batches_tracked += self.batches_tracked
        return models

    def optimizer_states(self, global_step: int) -> list[dict[str, Any]]:
        states = []
        for k, (run, lr) in enumerate(zip(self.runs, self.lrs)):
            group = make_optimizer(run, [nn.Parameter(torch.zeros(1))]).param_groups[0]
            group = {key: value for key, value in group.items() if key != "params"}
            group.update(lr=lr, initial_lr=run.learning_rate)
            states.append(stacked.optimizer_state_to_torch(self.plan, self.optimizer, self.state, k,
                                                           global_step, group))
        return states


# Every group's step shares one code object, so torch's compile cache sees each (K, batch, optimiser,
# last short batch) combination as a recompilation of the same function; past the default limit of
# 8 it would silently fall back to eager (a sweep runs many groups in one process).
RECOMPILE_LIMIT = 64


def _compiled(step: Callable[..., Any]) -> Callable[..., Any]:
    import torch._dynamo.config as dynamo_config

    dynamo_config.recompile_limit = max(dynamo_config.recompile_limit, RECOMPILE_LIMIT)
    return torch.compile(step, dynamic=False)
