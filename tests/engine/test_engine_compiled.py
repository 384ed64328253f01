"""The compiled stacked path (``GroupConfig(compile=True)``) trains exactly what the eager one does, and its
private torch APIs stay inside the compiled calls."""

from __future__ import annotations

import sys

import pytest
import torch
import torch._dynamo.config as dynamo_config
from torch._dynamo.utils import counters

from chop.engine import GroupConfig, RunConfig, train_ensemble
from chop.engine.stacked_loop import RECOMPILE_LIMIT, under_recompile_limit
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


def test_compiled_training_leaves_the_process_recompile_limit_as_it_was():
    before = dynamo_config.recompile_limit
    train_ensemble(lambda: get_model("jsc-tiny"), DATA, RUNS[:1], GroupConfig(batch_size=50, max_epochs=1, compile=True),
                   progress=False)
    assert dynamo_config.recompile_limit == before


def test_the_recompile_limit_is_raised_only_during_a_compiled_call():
    before = dynamo_config.recompile_limit
    seen = under_recompile_limit(lambda: dynamo_config.recompile_limit)()
    assert seen == max(before, RECOMPILE_LIMIT)
    assert dynamo_config.recompile_limit == before


def test_the_eager_stacked_path_needs_no_private_torch_operator(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch._higher_order_ops", None)  # importing it now fails
    result = train_ensemble(lambda: get_model("jsc-tiny"), DATA, RUNS, GroupConfig(batch_size=50, max_epochs=1),
                            progress=False)
    assert result.path == "stacked"
