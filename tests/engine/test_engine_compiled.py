"""The compiled stacked path (``GroupConfig(compile=True)``) trains exactly what the eager one does."""

from __future__ import annotations

import pytest
import torch
from torch._dynamo.utils import counters

from chop.engine import GroupConfig, RunConfig, train_ensemble
from chop.models import get_model
from conftest import synthetic_splits

# 620 rows at batch 50: 12 full batches run in the compiled loop, a short one of 20 runs eagerly.
DATA = synthetic_splits(train=620, val=100, test=10)
RUNS = [RunConfig(0, 2e-3, "adamw", 0.01), RunConfig(5, 5e-3, "adamw", 0.0)]
TOL = 1e-5


@pytest.mark.parametrize("batch_order", ["shared", "per_model"])  # contiguous blocks / gathered rows
def test_compiled_stacked_ensemble_equals_the_eager_one(batch_order):
    build = lambda: get_model("jsc-tiny")  # noqa: E731
    group = dict(batch_size=50, max_epochs=3, batch_order=batch_order)
    graphs_before = counters["stats"]["unique_graphs"]
    compiled = train_ensemble(build, DATA, RUNS, GroupConfig(**group, compile=True), progress=False)
    assert counters["stats"]["unique_graphs"] > graphs_before, "torch.compile produced no graph"
    eager = train_ensemble(build, DATA, RUNS, GroupConfig(**group), progress=False)
    assert compiled.path == eager.path == "stacked"
    for k, (fast, slow) in enumerate(zip(compiled.models, eager.models, strict=True)):
        ours, theirs = fast.state_dict(), slow.state_dict()
        assert ours.keys() == theirs.keys()
        for name, value in theirs.items():
            if value.dtype == torch.int64:  # num_batches_tracked: 13 steps x 3 epochs
                assert int(ours[name]) == int(value) == 39, name
            else:
                torch.testing.assert_close(ours[name], value, rtol=TOL, atol=TOL, msg=f"model {k} {name}")
    assert [r.global_step for r in compiled.history] == [13, 26, 39]
    for fast, slow in zip(compiled.history, eager.history, strict=True):
        assert fast.train_acc_step == pytest.approx(slow.train_acc_step, abs=1e-6)
        assert fast.train_loss_step == pytest.approx(slow.train_loss_step, abs=TOL)
        assert fast.val_acc_epoch == pytest.approx(slow.val_acc_epoch, abs=1e-6)
        assert fast.val_loss_epoch == pytest.approx(slow.val_loss_epoch, abs=TOL)
    for fast, slow in zip(compiled.optimizer_states, eager.optimizer_states, strict=True):
        for index, entry in slow["state"].items():
            for slot in ("exp_avg", "exp_avg_sq"):
                torch.testing.assert_close(fast["state"][index][slot], entry[slot], rtol=TOL, atol=1e-7)
