"""Every engine path (stacked, vmap, general) equals K plain single-model torch.optim loops on the same batches."""

from __future__ import annotations

import pytest
import torch

from chop.engine import GroupConfig, RunConfig, train_ensemble
from chop.engine.batches import epoch_permutation
from chop.errors import ConfigError
from chop.models import get_model
from conftest import BatchNormNet, reference_training, synthetic_splits

DATA = synthetic_splits()
EPOCHS, BATCH = 3, 50
RUNS = {
    "adam": [RunConfig(0, 1e-3), RunConfig(1, 3e-3), RunConfig(7, 2e-3)],
    "adamw": [RunConfig(0, 1e-3, "adamw", 0.0), RunConfig(1, 3e-3, "adamw", 0.05), RunConfig(2, 2e-3, "adamw", 0.01)],
    "sgd": [RunConfig(3, 1e-2, "sgd", 0.0), RunConfig(4, 3e-2, "sgd", 1e-3), RunConfig(5, 5e-3, "sgd", 0.0)],
}
TOL = 2e-5


def _orders(run: RunConfig, batch_order: str, order_seed: int) -> list[torch.Tensor]:
    seed = order_seed if batch_order == "shared" else run.seed
    return [epoch_permutation(len(DATA.x_train), seed, epoch) for epoch in range(EPOCHS)]


def _assert_matches_reference(result, runs, batch_order, build, order_seed=0):
    for k, run in enumerate(runs):
        ref_model, ref_history = reference_training(build, DATA, run.seed, run.learning_rate, run.optimizer,
                                                    run.weight_decay, EPOCHS, BATCH, _orders(run, batch_order, order_seed))
        ours = result.models[k].state_dict()
        for name, expected in ref_model.state_dict().items():
            if expected.dtype == torch.int64:  # num_batches_tracked
                assert int(ours[name]) == int(expected), name
            else:
                torch.testing.assert_close(ours[name], expected, rtol=TOL, atol=TOL, msg=f"model {k} {name}")
        for record, (acc, loss, val_acc, val_loss) in zip(result.history, ref_history, strict=True):
            assert record.train_acc_step[k] == pytest.approx(acc, abs=1e-6)
            assert record.train_loss_step[k] == pytest.approx(loss, abs=TOL)
            assert record.val_acc_epoch[k] == pytest.approx(val_acc, abs=1e-6)
            assert record.val_loss_epoch[k] == pytest.approx(val_loss, abs=TOL)


@pytest.mark.parametrize("path", ["stacked", "vmap", "general"])
@pytest.mark.parametrize("optimizer", ["adam", "adamw", "sgd"])
@pytest.mark.parametrize("batch_order", ["shared", "per_model"])
def test_both_paths_equal_plain_torch_loops(path, optimizer, batch_order):
    runs = RUNS[optimizer]
    group = GroupConfig(batch_size=BATCH, max_epochs=EPOCHS, batch_order=batch_order, order_seed=11)
    result = train_ensemble(BatchNormNet, DATA, runs, group, progress=False, path=path)
    assert result.path == path
    assert len(result.history) == EPOCHS
    _assert_matches_reference(result, runs, batch_order, BatchNormNet, order_seed=11)


def test_jsc_tiny_takes_the_fast_path_and_matches_reference():
    runs = RUNS["adam"]
    result = train_ensemble(lambda: get_model("jsc-tiny"), DATA, runs, GroupConfig(BATCH, EPOCHS), progress=False)
    assert result.path == "stacked"
    _assert_matches_reference(result, runs, "shared", lambda: get_model("jsc-tiny"))


@pytest.mark.parametrize("runs, path", [
    (RUNS["sgd"], "vmap"),          # K > 1: vectorised (SGD: its convolutions' biases feed BatchNorm, see jsc-toy)
    ([RunConfig(0, 2e-3)], "general"),  # K = 1: an ordinary loop
])
def test_conv_residual_model_trains_with_its_input_shape(runs, path):
    build = lambda: get_model("jsc-conv-res")  # noqa: E731
    result = train_ensemble(build, DATA, runs, GroupConfig(BATCH, EPOCHS), progress=False)
    assert result.path == path
    _assert_matches_reference(result, runs, "shared", build)


def test_a_model_vmap_cannot_trace_trains_in_the_loop():
    """Python control flow on a per-model value (``if h.sum() > 0``) cannot be vmapped: auto falls back, vmap refuses."""

    class Branchy(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = torch.nn.Linear(16, 5)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h = self.linear(x)
            return h if h.sum() > 0 else -h

    runs = RUNS["adam"]
    result = train_ensemble(Branchy, DATA, runs, GroupConfig(BATCH, EPOCHS), progress=False)
    assert result.path == "general"
    _assert_matches_reference(result, runs, "shared", Branchy)
    with pytest.raises(ConfigError, match="cannot take the vmap path"):
        train_ensemble(Branchy, DATA, runs, GroupConfig(BATCH, EPOCHS), progress=False, path="vmap")


def test_stacked_and_general_paths_agree_with_each_other_on_jsc_toy_sgd():
    # jsc-toy has a Linear bias before BatchNorm (zero true gradient); SGD keeps its noise tiny.
    runs = RUNS["sgd"]
    group = GroupConfig(batch_size=BATCH, max_epochs=EPOCHS)
    fast = train_ensemble(lambda: get_model("jsc-toy"), DATA, runs, group, progress=False, path="stacked")
    slow = train_ensemble(lambda: get_model("jsc-toy"), DATA, runs, group, progress=False, path="general")
    for a, b in zip(fast.models, slow.models):
        for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
            torch.testing.assert_close(x, y, rtol=TOL, atol=TOL, msg=name)
    for ra, rb in zip(fast.history, slow.history):
        assert ra.val_acc_epoch == pytest.approx(rb.val_acc_epoch, abs=1e-6)
        assert ra.val_loss_epoch == pytest.approx(rb.val_loss_epoch, abs=TOL)
