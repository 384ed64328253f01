"""Determinism, resume, fine-tuning a GraphModule, max_steps, evaluation and refusals."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from chop.engine import GroupConfig, ResumeState, RunConfig, evaluate_models, train_ensemble
from chop.engine.batches import batch_bounds, epoch_permutation
from chop.engine.stacked import plan_for
from chop.errors import ConfigError
from chop.models import get_model
from conftest import BatchNormNet, reference_training, synthetic_splits

DATA = synthetic_splits(train=400, val=100, test=100, seed=3)


@given(rows=st.integers(1, 5000), batch=st.integers(1, 700))
def test_batches_cover_every_row_once_and_never_end_with_a_single_row(rows, batch):
    bounds = batch_bounds(rows, batch)
    covered = [i for start, stop in bounds for i in range(start, stop)]
    lone_tail = batch > 1 and rows > 1 and rows % batch == 1
    assert covered == list(range(rows - 1 if lone_tail else rows))
    assert all(stop - start <= batch for start, stop in bounds)
    assert len(bounds) == -(-rows // batch) - (1 if lone_tail else 0)


@given(rows=st.integers(1, 3000), seed=st.integers(0, 2**31), epoch=st.integers(0, 500))
def test_epoch_order_is_a_permutation_fixed_by_seed_and_epoch(rows, seed, epoch):
    perm = epoch_permutation(rows, seed, epoch)
    assert sorted(perm.tolist()) == list(range(rows))
    assert torch.equal(perm, epoch_permutation(rows, seed, epoch))


def test_full_size_epoch_has_the_spec_step_counts():
    assert len(batch_bounds(789_444, 256)) == 3_084
    assert len(batch_bounds(789_444, 128)) == 6_168


@pytest.mark.parametrize("path", ["stacked", "general"])
def test_same_seed_gives_identical_metrics_and_weights(path):
    runs = [RunConfig(5, 2e-3), RunConfig(6, 1e-3)]
    group = GroupConfig(batch_size=32, max_epochs=2, batch_order="per_model")
    a = train_ensemble(BatchNormNet, DATA, runs, group, progress=False, path=path)
    b = train_ensemble(BatchNormNet, DATA, runs, group, progress=False, path=path)
    assert [(r.train_loss_step, r.val_acc_epoch, r.val_loss_epoch) for r in a.history] == \
        [(r.train_loss_step, r.val_acc_epoch, r.val_loss_epoch) for r in b.history]
    for ma, mb in zip(a.models, b.models):
        for x, y in zip(ma.state_dict().values(), mb.state_dict().values()):
            assert torch.equal(x, y)


def test_different_seeds_initialise_differently_and_k1_matches_manual_seed():
    runs = [RunConfig(0, 1e-3), RunConfig(1, 1e-3)]
    result = train_ensemble(BatchNormNet, DATA, runs, GroupConfig(32, 1, max_steps=1), progress=False)
    torch.manual_seed(1)
    fresh = BatchNormNet()
    # one step of lr 1e-3 moves each weight by at most ~1e-3 (Adam's first step is lr * sign)
    w = result.models[1].seq_blocks[1].weight
    assert (w - fresh.seq_blocks[1].weight).abs().max() <= 1.01e-3
    assert not torch.allclose(result.models[0].seq_blocks[1].weight, w, atol=1e-2)


@pytest.mark.parametrize("path", ["stacked", "vmap", "general"])
@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_resume_from_epoch_handle_equals_an_uninterrupted_run(path, optimizer):
    runs = [RunConfig(0, 3e-3, optimizer), RunConfig(1, 1e-3, optimizer)]
    group = GroupConfig(batch_size=40, max_epochs=4)
    straight = train_ensemble(BatchNormNet, DATA, runs, group, progress=False, path=path)
    saved = {}

    def keep(record, state):
        if record.epoch == 1:
            saved.update(models=[copy.deepcopy(m) for m in state.models()], opt=state.optimizer_states(),
                         step=state.global_step)

    train_ensemble(BatchNormNet, DATA, runs, group, progress=False, path=path, on_epoch_end=keep)
    resumed = train_ensemble(BatchNormNet, DATA, runs, group, progress=False, path=path,
                             initial_models=saved["models"],
                             resume=ResumeState(next_epoch=2, global_step=saved["step"], optimizer_states=saved["opt"]))
    assert [r.epoch for r in resumed.history] == [2, 3]
    assert resumed.history[-1].val_loss_epoch == pytest.approx(straight.history[-1].val_loss_epoch, abs=1e-6)
    for ma, mb in zip(straight.models, resumed.models):
        for (name, x), y in zip(ma.state_dict().items(), mb.state_dict().values()):
            torch.testing.assert_close(x, y, rtol=1e-6, atol=1e-6, msg=name)


def test_optimizer_state_layout_is_torch_optim_and_loads_into_adam():
    result = train_ensemble(BatchNormNet, DATA, [RunConfig(0, 1e-3)], GroupConfig(32, 1), progress=False,
                            path="stacked")
    state = result.optimizer_states[0]
    model = BatchNormNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    optimizer.load_state_dict(state)
    assert float(state["state"][0]["step"]) == result.history[-1].global_step == 13
    assert state["param_groups"][0]["params"] == list(range(len(list(model.parameters()))))


def test_max_steps_stops_mid_epoch():
    result = train_ensemble(BatchNormNet, DATA, [RunConfig(0, 1e-3)], GroupConfig(32, 5, max_steps=20),
                            progress=False)
    assert [r.global_step for r in result.history] == [13, 20]
    bn = result.models[0].seq_blocks[0]
    assert int(bn.num_batches_tracked) == 20


class STEQuantLinear(nn.Linear):
    """A fake-quantised Linear with a straight-through gradient, like the quantisers' modules."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        def q(t):
            return t + (torch.round(t * 16) / 16 - t).detach()

        return F.linear(q(x), q(self.weight), q(self.bias))


def _quantised_graph_module() -> torch.fx.GraphModule:
    torch.manual_seed(4)
    model = get_model("jsc-tiny")
    graph_module = torch.fx.symbolic_trace(model)
    new = STEQuantLinear(16, 5)
    new.load_state_dict(graph_module.get_submodule("seq_blocks.2").state_dict())
    setattr(graph_module.seq_blocks, "2", new)
    return graph_module


def test_general_path_fine_tunes_a_quantised_graph_module_like_a_plain_loop():
    graph_module = _quantised_graph_module()
    assert plan_for(graph_module) is None
    run = RunConfig(9, 2e-3)
    result = train_ensemble(lambda: None, DATA, [run], GroupConfig(32, 2), progress=False,
                            initial_models=[graph_module])
    assert result.path == "general"
    assert isinstance(result.models[0], torch.fx.GraphModule)
    orders = [epoch_permutation(len(DATA.x_train), 0, e) for e in range(2)]
    reference, history = reference_training(None, DATA, run.seed, run.learning_rate, "adam", 0.0, 2, 32, orders,
                                            initial=copy.deepcopy(graph_module))
    for (name, x), y in zip(result.models[0].state_dict().items(), reference.state_dict().values()):
        torch.testing.assert_close(x, y, rtol=1e-5, atol=1e-5, msg=name)
    assert result.history[-1].val_acc_epoch[0] == pytest.approx(history[-1][2], abs=1e-6)
    # the caller's module is not trained in place
    fresh = _quantised_graph_module()
    assert torch.equal(graph_module.get_submodule("seq_blocks.2").weight, fresh.get_submodule("seq_blocks.2").weight)


def test_evaluate_models_matches_a_direct_computation():
    torch.manual_seed(0)
    models = [get_model("jsc-tiny"), get_model("jsc-conv-res")]
    results = evaluate_models(models, DATA.x_test, DATA.y_test, batch_size=37)
    x, y = torch.from_numpy(DATA.x_test), torch.from_numpy(DATA.y_test)
    for model, (acc, loss), shape in zip(models, results, [(16,), (1, 16)]):
        with torch.no_grad():
            logits = model.eval()(x.view(-1, *shape))
        assert acc == pytest.approx((logits.argmax(1) == y).double().mean().item(), abs=1e-12)
        assert loss == pytest.approx(F.cross_entropy(logits, y).item(), rel=1e-5)


def test_fast_path_is_chosen_exactly_for_plain_chains():
    assert all(plan_for(get_model(name)) is not None for name in ("jsc-tiny", "jsc-toy", "jsc-s", "jsc-three-linear"))
    assert plan_for(get_model("jsc-conv-res")) is None
    assert plan_for(nn.Sequential(nn.Linear(16, 5), nn.ReLU(inplace=True))) is None


@pytest.mark.parametrize("run, group, message", [
    (RunConfig(0, 1e-3), GroupConfig(0, 1), "batch_size"),
    (RunConfig(0, 0.0), GroupConfig(8, 1), "learning_rate"),
    (RunConfig(0, 1e-3, "rmsprop"), GroupConfig(8, 1), "rmsprop"),
    (RunConfig(0, 1e-3), GroupConfig(8, 1, batch_order="random"), "batch_order"),
])
def test_bad_settings_are_refused_by_name(run, group, message):
    with pytest.raises(ConfigError, match=message):
        train_ensemble(BatchNormNet, DATA, [run], group, progress=False)


def test_forcing_the_stacked_path_on_a_conv_model_is_refused():
    with pytest.raises(ConfigError, match="stacked"):
        train_ensemble(lambda: get_model("jsc-conv-res"), DATA, [RunConfig(0, 1e-3)], GroupConfig(8, 1),
                       progress=False, path="stacked")


def test_inputs_can_be_numpy_or_tensors_in_evaluate_models():
    model = get_model("jsc-tiny")
    a = evaluate_models([model], DATA.x_val, DATA.y_val)
    b = evaluate_models([model], torch.from_numpy(DATA.x_val), torch.from_numpy(np.asarray(DATA.y_val)))
    assert a == b


def _quantised_tiny(weight_width: int) -> torch.fx.GraphModule:
    from chop.passes.graph.transforms import quantize_transform_pass
    from chop.workflows.transform import graph_with_metadata

    torch.manual_seed(4)
    graph = graph_with_metadata(get_model("jsc-tiny"), torch.randn(8, 16))
    config = {"name": "integer", "data_in_width": 8, "data_in_frac_width": 4, "weight_width": weight_width,
              "weight_frac_width": weight_width // 2, "bias_width": 8, "bias_frac_width": 4}
    return quantize_transform_pass(graph, {"by": "type", "default": {"config": config}})[0].model


def test_models_that_quantise_differently_train_each_with_its_own_quantisers():
    """QAT candidates of one architecture: the fast paths run one forward for all, so they must not be taken."""
    wide, narrow = _quantised_tiny(8), _quantised_tiny(2)
    runs = [RunConfig(1, 1e-2), RunConfig(1, 1e-2)]
    group = GroupConfig(batch_size=32, max_epochs=1)
    together = train_ensemble(lambda: None, DATA, runs, group, progress=False, initial_models=[wide, narrow])
    assert together.path == "general"
    for k, model in enumerate((wide, narrow)):
        alone = train_ensemble(lambda: None, DATA, runs[:1], group, progress=False, initial_models=[model])
        assert together.history[-1].val_loss_epoch[k] == pytest.approx(alone.history[-1].val_loss_epoch[0], abs=1e-6)
    assert together.history[-1].val_loss_epoch[0] != together.history[-1].val_loss_epoch[1]
    with pytest.raises(ConfigError, match="the vmap path runs one forward for every model, but these models differ"):
        train_ensemble(lambda: None, DATA, runs, group, progress=False, initial_models=[wide, narrow], path="vmap")
