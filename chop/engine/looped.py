"""The general path: any ``nn.Module`` (user models, Conv1d, fx GraphModules with quantised modules).

Each of the K models keeps its own ``torch.optim`` optimiser and is stepped in a loop on the same
device-resident batches the fast path would see. This is correct for every module by
construction (straight-through quantisers included) and is what the fast path is tested against.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from chop.engine.schedule import make_optimizer
from chop.engine.types import RunConfig
from chop.models.input_shape import input_shape_of
from chop.tools.modes import eval_mode


class LoopedGroup:
    """K independent modules with their own optimisers, trained one after the other per step."""

    path = "general"

    def __init__(self, models: Sequence[nn.Module], runs: Sequence[RunConfig], device: torch.device,
                 num_features: int, optimizer_states: Sequence[dict[str, Any]] | None = None) -> None:
        self.models = [model.to(device) for model in models]
        self.shapes = [input_shape_of(model, num_features) for model in models]
        self.optimizers = [make_optimizer(run, model.parameters()) for run, model in zip(runs, models)]
        for optimizer, saved in zip(self.optimizers, optimizer_states or ()):
            optimizer.load_state_dict(saved)
        self.device = device
        self.bounds: list[tuple[int, int]] = []
        self.order = torch.zeros(1, 0, dtype=torch.int64)

    def begin_epoch(self, lrs: Sequence[float], first_step: int, bounds: Sequence[tuple[int, int]],
                    order: Tensor) -> None:
        for optimizer, lr in zip(self.optimizers, lrs):
            for group in optimizer.param_groups:
                group["lr"] = lr
        self.bounds, self.order = list(bounds), order

    def train_range(self, x_all: Tensor, y_all: Tensor, start: int, stop: int) -> tuple[Tensor, Tensor]:
        """Steps ``start .. stop-1`` of the epoch; the last step's per-model (loss, accuracy)."""
        loss = acc = torch.zeros(0)
        for step in range(start, stop):
            first, last = self.bounds[step]
            loss, acc = self.train_step(x_all, y_all, self.order[:, first:last])
        return loss, acc

    def train_step(self, x_all: Tensor, y_all: Tensor, idx: Tensor) -> tuple[Tensor, Tensor]:
        losses, accs = [], []
        for k, (model, optimizer) in enumerate(zip(self.models, self.optimizers)):
            rows = idx[k if idx.shape[0] > 1 else 0]
            x, y = x_all[rows].view(-1, *self.shapes[k]), y_all[rows]
            model.train()
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(loss.detach())
            accs.append((logits.detach().argmax(-1) == y).float().mean())
        return torch.stack(losses), torch.stack(accs)

    def evaluate(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        results = evaluate_on_device(self.models, x, y, self.shapes)
        return torch.tensor([r[0] for r in results]), torch.tensor([r[1] for r in results])

    def modules(self) -> list[nn.Module]:
        return self.models

    def optimizer_states(self, global_step: int) -> list[dict[str, Any]]:
        return [copy.deepcopy(optimizer.state_dict()) for optimizer in self.optimizers]


@torch.no_grad()
def evaluate_on_device(models: Sequence[nn.Module], x: Tensor, y: Tensor, shapes: Sequence[tuple[int, ...]],
                       chunk: int = 8192) -> list[tuple[float, float]]:
    """(accuracy, mean cross-entropy) of each model in eval mode; the train/eval mode is restored."""
    results = []
    for model, shape in zip(models, shapes):
        correct = torch.zeros((), dtype=torch.float64, device=x.device)
        loss = torch.zeros((), dtype=torch.float64, device=x.device)
        with eval_mode(model):
            for start in range(0, x.shape[0], chunk):
                xb, yb = x[start:start + chunk].view(-1, *shape), y[start:start + chunk]
                logits = model(xb)
                loss += F.cross_entropy(logits, yb, reduction="sum").double()
                correct += (logits.argmax(-1) == yb).double().sum()
        rows = max(x.shape[0], 1)
        results.append((float(correct) / rows, float(loss) / rows))
    return results
