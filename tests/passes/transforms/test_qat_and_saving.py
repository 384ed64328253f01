"""Quantised graphs survive .mz save/load and train (QAT) through the engine, several seeds at once."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from quantize_helpers import SPEC_ARGS, FunctionalNet, graph_of, hand_quantize

from chop.dataset.splits import DatasetInfo, DatasetSplits
from chop.engine import GroupConfig, RunConfig, train_ensemble
from chop.models import get_model
from chop.passes.graph.interface import load_mase_graph_interface_pass, save_mase_graph_interface_pass
from chop.passes.graph.interface.load_mase_graph import load_graph_module
from chop.quantized.graph_formats import arg_formats, node_quantizers
from chop.passes.graph.transforms import quantize_transform_pass


def _splits(rows: int = 256) -> DatasetSplits:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 5, rows * 3)
    x = (rng.normal(size=(rows * 3, 16)) + y[:, None]).astype(np.float32)
    return DatasetSplits(DatasetInfo("synthetic"), x[:rows], y[:rows], x[rows:2 * rows], y[rows:2 * rows],
                         x[2 * rows:], y[2 * rows:])


def test_mz_round_trip_keeps_quantised_modules_and_functions(tmp_path) -> None:  # noqa: ANN001
    torch.manual_seed(3)
    x = torch.randn(6, 4)
    graph = graph_of(FunctionalNet(), x)
    config = {"name": "integer", "data_in_width": 6, "data_in_frac_width": 3, "weight_width": 6, "bias_width": 6}
    graph, _ = quantize_transform_pass(graph, {"by": "type", "default": {"config": config}})
    save_mase_graph_interface_pass(graph, {"save_dir": tmp_path})
    loaded, _ = load_mase_graph_interface_pass(None, {"load_dir": tmp_path})
    with torch.no_grad():
        assert torch.equal(loaded.model(x), graph.model(x))
    assert type(loaded.model.fc).__name__ == "LinearInteger"
    assert "add_integer" in loaded.model.code
    assert loaded.node("fc").meta["mase"]["common"]["args"]["weight"]["precision"] == [6, 3]
    # without the metadata file the formats are still readable from the modules and calls themselves
    bare = load_graph_module(tmp_path / "graph_module.mz")
    nodes = {node.name: node for node in bare.graph.nodes}
    assert arg_formats(bare, nodes["fc"], ["data_in_0", "weight", "bias"]) == {
        "data_in_0": ("integer", [6, 3]), "weight": ("integer", [6, 3]), "bias": ("integer", [6, 3])}
    assert arg_formats(bare, nodes["relu"], ["data_in_0"]) == {"data_in_0": ("integer", [6, 3])}
    assert node_quantizers(bare, nodes["relu"])["data_in"].signed is False
    assert arg_formats(bare, nodes["unsqueeze"], ["data_in_0"]) == {}


def test_qat_trains_float_masters_of_several_models_at_once() -> None:
    torch.manual_seed(0)
    data = _splits()
    model = get_model("jsc-tiny")
    graph = graph_of(model.eval(), torch.as_tensor(data.x_train[:32]))
    graph, _ = quantize_transform_pass(graph, SPEC_ARGS)
    start = copy.deepcopy(graph.model)
    runs = [RunConfig(seed=0, learning_rate=1e-2), RunConfig(seed=1, learning_rate=3e-3)]
    result = train_ensemble(lambda: copy.deepcopy(start), data, runs, GroupConfig(batch_size=64, max_epochs=2),
                            progress=False, initial_models=[start])
    first, second = result.models
    assert type(first.get_submodule("seq_blocks.2")).__name__ == "LinearInteger"
    w0 = start.get_submodule("seq_blocks.2").weight
    w1, w2 = first.get_submodule("seq_blocks.2").weight, second.get_submodule("seq_blocks.2").weight
    assert not torch.equal(w1, w0) and not torch.equal(w1, w2)
    # the trained model still computes with quantised operands of its float master weights
    x = torch.as_tensor(data.x_test[:50])
    linear = first.get_submodule("seq_blocks.2")
    hidden = F.relu(first.get_submodule("seq_blocks.0")(x))
    expected = F.relu(F.linear(hand_quantize(hidden, 8, 4), hand_quantize(linear.weight, 8, 4),
                               hand_quantize(linear.bias, 8, 4)))
    with torch.no_grad():
        assert torch.equal(first(x), expected)



def test_qat_of_several_models_is_vectorised_and_equals_the_loop() -> None:
    """K > 1 quantised GraphModules take the vmap path (straight-through quantisers included) and
    end where K separate torch.optim loops end."""
    torch.manual_seed(0)
    data = _splits()
    graph = graph_of(get_model("jsc-tiny").eval(), torch.as_tensor(data.x_train[:32]))
    graph, _ = quantize_transform_pass(graph, SPEC_ARGS)
    start = graph.model
    runs = [RunConfig(seed=0, learning_rate=1e-2), RunConfig(seed=1, learning_rate=3e-3)]
    results = {path: train_ensemble(lambda: copy.deepcopy(start), data, runs, GroupConfig(64, 2), progress=False,
                                    initial_models=[start], path=path) for path in ("auto", "general")}
    assert results["auto"].path == "vmap"
    for vectorised, looped in zip(results["auto"].models, results["general"].models, strict=True):
        for (name, a), b in zip(vectorised.state_dict().items(), looped.state_dict().values(), strict=True):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5, msg=name)
    for a, b in zip(results["auto"].history, results["general"].history, strict=True):
        assert a.val_acc_epoch == pytest.approx(b.val_acc_epoch, abs=1e-6)
