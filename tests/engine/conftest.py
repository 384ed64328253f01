"""Small synthetic datasets, an independent single-model reference loop and the engine's log lines, for the engine tests."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from chop.dataset.splits import DatasetInfo, DatasetSplits


def synthetic_splits(train: int = 600, val: int = 150, test: int = 150, seed: int = 0) -> DatasetSplits:
    """Gaussian features whose label is the arg-max of five of them: learnable, not trivial."""
    rng = np.random.default_rng(seed)

    def split(rows: int) -> tuple[np.ndarray, np.ndarray]:
        x = rng.normal(size=(rows, 16)).astype(np.float32)
        y = (x[:, :5] + 0.5 * rng.normal(size=(rows, 5))).argmax(1).astype(np.int64)
        return x, y

    (xt, yt), (xv, yv), (xs, ys) = split(train), split(val), split(test)
    return DatasetSplits(DatasetInfo("synthetic"), xt, yt, xv, yv, xs, ys)


class BatchNormNet(nn.Module):
    """Linear / ReLU / BatchNorm chain (fast-path eligible) whose every gradient is well conditioned.

    A Linear bias straight before a BatchNorm has a mathematically zero gradient; Adam turns its
    rounding noise into full-size steps, so no two implementations agree on it. This net avoids that.
    """

    def __init__(self) -> None:
        super().__init__()
        self.seq_blocks = nn.Sequential(nn.BatchNorm1d(16), nn.Linear(16, 8), nn.ReLU(), nn.BatchNorm1d(8),
                                        nn.Linear(8, 5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.seq_blocks(x)


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def reference_training(build, data: DatasetSplits, seed: int, lr: float, optimizer: str, weight_decay: float,
                       epochs: int, batch_size: int, orders: list[torch.Tensor], initial: nn.Module | None = None):
    """The straightforward way: one nn.Module, torch.optim, CosineAnnealingLR stepped per epoch.

    ``orders[e]`` is the row order of epoch ``e``. Returns the model and per-epoch
    ``(train_acc_step, train_loss_step, val_acc, val_loss)``.
    """
    torch.manual_seed(seed)
    model = build() if initial is None else initial
    if optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    elif optimizer == "adamw":
        opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs, eta_min=0.0 if optimizer == "sgd" else 1e-6)
    x, y = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
    shape = tuple(getattr(model, "input_shape", (16,)))
    history = []
    for epoch in range(epochs):
        model.train()
        order = orders[epoch]
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            if len(rows) == 1:
                continue
            logits = model(x[rows].view(-1, *shape))
            loss = F.cross_entropy(logits, y[rows])
            opt.zero_grad()
            loss.backward()
            opt.step()
            acc = (logits.argmax(1) == y[rows]).float().mean().item()
        sched.step()
        model.eval()
        with torch.no_grad():
            xv, yv = torch.from_numpy(data.x_val), torch.from_numpy(data.y_val)
            logits = model(xv.view(-1, *shape))
            val_loss = F.cross_entropy(logits, yv).item()
            val_acc = (logits.argmax(1) == yv).float().mean().item()
        history.append((acc, loss.item(), val_acc, val_loss))
    return model, history


@pytest.fixture
def engine_log(log_lines):
    """Info lines logged by the engine."""
    return log_lines("chop.engine", logging.INFO)
