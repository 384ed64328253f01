"""Synthetic JSC-shaped splits and a jsc-toy model for the search tests."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from chop.dataset.splits import DatasetInfo, DatasetSplits
from chop.models import get_model


@pytest.fixture(scope="session")
def splits() -> DatasetSplits:
    """Five separable-ish classes, standardised-looking features; 600 / 300 / 300 rows."""
    rng = np.random.default_rng(0)

    def part(rows: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, 5, rows)
        x = (rng.normal(size=(rows, 16)) + 0.8 * y[:, None] * rng.choice([-1, 1], 16)).astype(np.float32)
        return x, y.astype(np.int64)

    (x_train, y_train), (x_val, y_val), (x_test, y_test) = part(600), part(300), part(300)
    return DatasetSplits(DatasetInfo("jsc"), x_train, y_train, x_val, y_val, x_test, y_test)


@pytest.fixture
def toy_model() -> nn.Module:
    """jsc-toy (three linear layers: 16x8, 8x8, 8x5 weights) with fixed random weights and BN statistics."""
    torch.manual_seed(0)
    model = get_model("jsc-toy")
    for module in model.modules():
        if isinstance(module, nn.BatchNorm1d):
            module.running_mean.normal_(0, 0.3)
            module.running_var.uniform_(0.5, 2.0)
    return model.eval()
