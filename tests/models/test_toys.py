"""MASE's toy models: ``toy`` (ToyNet) and ``toy_custom_fn`` (ToyCustomFnNet), layer for layer."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from chop.dataset import get_dataset_info
from chop.models import get_model, get_model_info
from chop.models.summary import trainable_parameters
from chop.models.toys import ToyCustomFnNet, ToyNet


def test_toy_is_registered_with_mase_input_shape_and_dataset_classes() -> None:
    assert get_model_info("toy").input_shape == (1, 2, 2)
    model = get_model("toy", dataset_info=get_dataset_info("toy_tiny"))
    assert isinstance(model, ToyNet)
    assert [type(m).__name__ for m in model.seq_blocks] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert [(m.in_features, m.out_features) for m in model.seq_blocks if isinstance(m, nn.Linear)] == [
        (4, 8), (8, 8), (8, 2)]
    assert trainable_parameters(model) == (4 * 8 + 8) + (8 * 8 + 8) + (8 * 2 + 2)
    assert get_model("toy", dataset_info=get_dataset_info("jsc")).seq_blocks[4].out_features == 5


def test_toy_flattens_its_input_and_keeps_mase_node_names() -> None:
    torch.manual_seed(0)
    model = get_model("toy")
    x = torch.randn(3, 1, 2, 2)
    a, b, c = (m for m in model.seq_blocks if isinstance(m, nn.Linear))
    expected = c(F.relu(b(F.relu(a(x.reshape(3, 4))))))
    assert torch.equal(model(x), expected)
    names = [n.name for n in torch.fx.symbolic_trace(model).graph.nodes]
    assert names == ["x", "flatten", "seq_blocks_0", "seq_blocks_1", "seq_blocks_2", "seq_blocks_3",
                     "seq_blocks_4", "output"]


def test_toy_custom_fn_has_mase_layers_and_runs_any_batch() -> None:
    assert get_model_info("toy_custom_fn").input_shape == (1, 2, 2)
    model = get_model("toy_custom_fn")
    assert isinstance(model, ToyCustomFnNet)
    assert [type(m).__name__ for m in model.seq_blocks] == ["Linear", "ReLU"]
    assert (model.seq_blocks[0].in_features, model.seq_blocks[0].out_features) == (4, 100)
    assert (model.conv2d.in_channels, model.conv2d.out_channels, model.conv2d.kernel_size) == (1, 100, (3, 3))
    assert (model.conv1d.in_channels, model.conv1d.out_channels, model.conv1d.kernel_size) == (1, 100, (1,))
    for batch in (1, 8):
        x = torch.randn(batch, 1, 2, 2)
        h = F.relu(F.relu(model.seq_blocks[0](x.reshape(batch, 4))))
        h = (h + h + 2) ** 2 * 2
        h = torch.full_like(h, -2.0)  # x - x - 2
        pooled = h.reshape(batch, 1, 10, 10).mean(dim=(2, 3)).reshape(batch, 1, 1)
        h = model.conv1d(pooled).reshape(batch, 100)
        h = torch.ones(100, batch) @ h
        assert torch.allclose(model(x), torch.bmm(h[None], h[None]))
    ops = {n.target for n in torch.fx.symbolic_trace(model).graph.nodes if n.op == "call_module"}
    assert {"seq_blocks.0", "seq_blocks.1", "conv2d", "conv1d", "adaptive_pool"} <= ops
