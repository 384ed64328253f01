"""Batch size 1, a lone last row, max_steps, non-finite settings, divergence and per-step metrics."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from chop.engine import GroupConfig, RunConfig, train_ensemble
from chop.engine.batches import epoch_permutation
from chop.errors import ConfigError
from conftest import BatchNormNet, synthetic_splits

DATA = synthetic_splits(train=60, val=40, test=20, seed=5)
PATHS = ["stacked", "vmap", "general"]


def plain_chain() -> nn.Module:
    """A Linear / ReLU chain without BatchNorm: every path can train it on single rows."""
    return nn.Sequential(nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 5))


def _row_by_row_adam(seed: int, lr: float, rows: torch.Tensor) -> nn.Module:
    """Reference: one torch.optim.Adam step per training row, in ``rows`` order."""
    torch.manual_seed(seed)
    model = plain_chain()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    x, y = torch.from_numpy(DATA.x_train), torch.from_numpy(DATA.y_train)
    for row in rows.tolist():
        loss = F.cross_entropy(model(x[row:row + 1]), y[row:row + 1])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model


@pytest.mark.parametrize("path", PATHS)
def test_batch_size_one_trains_a_model_without_batchnorm_like_a_row_by_row_loop(path):
    runs = [RunConfig(0, 1e-3), RunConfig(1, 2e-3)]
    result = train_ensemble(plain_chain, DATA, runs, GroupConfig(batch_size=1, max_epochs=1), progress=False,
                            path=path)
    assert result.history[-1].global_step == len(DATA.x_train)
    rows = epoch_permutation(len(DATA.x_train), 0, 0)
    for run, model in zip(runs, result.models):
        reference = _row_by_row_adam(run.seed, run.learning_rate, rows)
        for (name, ours), theirs in zip(model.state_dict().items(), reference.state_dict().values()):
            torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6, msg=name)


@pytest.mark.parametrize("path", PATHS)
def test_batch_size_one_with_batchnorm_is_refused_naming_the_layer(path):
    with pytest.raises(ConfigError, match=r"batch_size 1 cannot train BatchNorm1d 'seq_blocks.0'.*2 or more"):
        train_ensemble(BatchNormNet, DATA, [RunConfig(0, 1e-3), RunConfig(1, 1e-3)], GroupConfig(1, 1),
                       progress=False, path=path)


@pytest.mark.parametrize("path", PATHS)
def test_a_lone_last_row_is_dropped_on_every_path(path):
    data = synthetic_splits(train=41, val=20, test=10, seed=2)  # 41 = 4 x 10 + 1
    result = train_ensemble(BatchNormNet, data, [RunConfig(0, 1e-3), RunConfig(1, 1e-3)], GroupConfig(10, 2),
                            progress=False, path=path)
    assert [r.global_step for r in result.history] == [4, 8]
    assert all(math.isfinite(v) for r in result.history for v in r.train_loss_step + r.val_loss_epoch)
    assert int(result.models[0].seq_blocks[0].num_batches_tracked) == 8


@pytest.mark.parametrize("group, message", [
    (GroupConfig(8, 1, max_steps=0), "max_steps must be a positive integer, or -1 for no limit, got 0"),
    (GroupConfig(8, 1, max_steps=-5), "got -5"),
    (GroupConfig(8, 1, log_every_n_steps=-1), "log_every_n_steps must be >= 0"),
])
def test_bad_step_settings_are_refused(group, message):
    with pytest.raises(ConfigError, match=message):
        train_ensemble(BatchNormNet, DATA, [RunConfig(0, 1e-3)], group, progress=False)


@pytest.mark.parametrize("rate", [math.inf, math.nan, -math.inf])
def test_non_finite_learning_rates_are_refused(rate):
    with pytest.raises(ConfigError, match=f"learning_rate must be a positive finite number, got {rate}"):
        train_ensemble(BatchNormNet, DATA, [RunConfig(0, rate)], GroupConfig(8, 1), progress=False)


DIVERGING = 1e30  # Adam's first steps move each weight by ~lr: the activations overflow to inf, then NaN


@pytest.mark.parametrize("path", PATHS)
def test_a_diverged_model_is_marked_and_the_others_train_as_without_it(path):
    group = GroupConfig(batch_size=16, max_epochs=3)
    healthy = [RunConfig(0, 1e-3), RunConfig(2, 3e-3)]
    alone = train_ensemble(BatchNormNet, DATA, healthy, group, progress=False, path=path)
    mixed = train_ensemble(BatchNormNet, DATA, [healthy[0], RunConfig(1, DIVERGING), healthy[1]], group,
                           progress=False, path=path)
    assert mixed.diverged_at == (None, 0, None) and alone.diverged_at == (None, None)
    assert [r.diverged for r in mixed.history] == [(False, True, False)] * 3
    assert not math.isfinite(mixed.history[0].val_loss_epoch[1])
    for a, m in zip(alone.history, mixed.history):
        assert (a.train_loss_step, a.val_loss_epoch, a.val_acc_epoch) == \
            ((m.train_loss_step[0], m.train_loss_step[2]), (m.val_loss_epoch[0], m.val_loss_epoch[2]),
             (m.val_acc_epoch[0], m.val_acc_epoch[2]))
    for ours, theirs in zip([mixed.models[0], mixed.models[2]], alone.models):
        for (name, x), y in zip(ours.state_dict().items(), theirs.state_dict().values()):
            assert torch.equal(x, y), name


def test_when_every_model_diverges_the_run_stops_before_the_epoch_callback():
    seen = []
    result = train_ensemble(BatchNormNet, DATA, [RunConfig(0, DIVERGING)], GroupConfig(16, 5), progress=False,
                            on_epoch_end=lambda record, state: seen.append(record.epoch))
    assert result.diverged_at == (0,) and seen == [] and [r.epoch for r in result.history] == [0]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("progress", [False, True])
def test_logged_steps_hold_the_loss_of_exactly_that_step(path, progress):
    runs = [RunConfig(0, 1e-3), RunConfig(1, 2e-3)]
    group = GroupConfig(batch_size=16, max_epochs=2, log_every_n_steps=3)  # 4 steps per epoch
    result = train_ensemble(BatchNormNet, DATA, runs, group, progress=progress, path=path)
    logged = [s for r in result.history for s in r.steps]
    assert [s.step for s in logged] == [3, 6]
    for s in logged:  # the same run stopped after s.step steps ends on that batch
        stopped = train_ensemble(BatchNormNet, DATA, runs, GroupConfig(16, 2, max_steps=s.step), progress=False,
                                 path=path)
        assert s.train_loss_step == stopped.history[-1].train_loss_step
        assert s.train_acc_step == stopped.history[-1].train_acc_step
