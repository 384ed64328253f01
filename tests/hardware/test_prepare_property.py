"""Random small MLPs, random formats: the prepared graph always equals its integer reference.

Widths 1..12, one to three linear layers (with or without bias), batch norms before the first
linear and after any linear (folded, or affine where ``fold_batchnorm`` is off or a ReLU follows),
ReLUs anywhere, and every node's data_in / weight / bias format drawn on its own (fraction bits
from -2 to the width; data and weights signed or not). Without batch norms preparation changes
nothing, so the prepared graph must also equal the user's fake-quantised model exactly (it does
whenever float32, in which that model computes, holds every accumulator: 23 bits and less).
"""

from __future__ import annotations

from typing import Any

import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from prepare_helpers import graph_of
from torch import nn

from chop.hardware.ops import FixedAdd, FixedAffine, FixedLinear
from chop.hardware.prepare import prepare
from chop.hardware.reference import integer_reference, output_format
from chop.passes.graph.transforms import quantize_transform_pass

FLOAT32_EXACT_WIDTH = 23


@st.composite
def operand(draw: Any, name: str, widths: tuple[int, int]) -> dict[str, Any]:
    width = draw(st.integers(*widths))
    return {f"{name}_width": width, f"{name}_frac_width": draw(st.integers(-2, width))}


@st.composite
def node_config(draw: Any) -> dict[str, Any]:
    return {"name": "integer", **draw(operand("data_in", (2, 10))), **draw(operand("weight", (2, 8))),
            **draw(operand("bias", (2, 10))), "data_in_signed": draw(st.booleans()),
            "weight_signed": draw(st.booleans())}


def _batch_norm(channels: int, generator: torch.Generator) -> nn.BatchNorm1d:
    bn = nn.BatchNorm1d(channels)
    bn.running_mean.copy_(torch.randn(channels, generator=generator))
    bn.running_var.copy_(torch.rand(channels, generator=generator) * 2 + 0.1)
    bn.weight.data.copy_(torch.randn(channels, generator=generator))
    bn.bias.data.copy_(torch.randn(channels, generator=generator))
    return bn


@st.composite
def mlps(draw: Any) -> tuple[nn.Module, int]:
    generator = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    torch.manual_seed(draw(st.integers(0, 2**16)))  # the biases' default initialisation
    layers = draw(st.integers(1, 3))
    widths = [draw(st.integers(1, 12)) for _ in range(layers + 1)]
    batch_norms = draw(st.booleans())
    blocks: list[nn.Module] = []
    if batch_norms and draw(st.booleans()):
        blocks.append(_batch_norm(widths[0], generator))
        if draw(st.booleans()):
            blocks.append(nn.ReLU())
    for i in range(layers):
        linear = nn.Linear(widths[i], widths[i + 1], bias=draw(st.booleans()))
        linear.weight.data.copy_(torch.randn(linear.weight.shape, generator=generator))  # weights of order 1
        blocks.append(linear)
        if batch_norms and draw(st.booleans()):
            blocks.append(_batch_norm(widths[i + 1], generator))
        if draw(st.booleans()):
            blocks.append(nn.ReLU())
    return nn.Sequential(*blocks).eval(), widths[0]


@settings(max_examples=60)
@given(mlp=mlps(), data=st.data(), fold=st.booleans(), scale=st.floats(0.05, 1))
def test_random_mlp_prepared_equals_integer_reference(mlp, data, fold, scale) -> None:
    model, features = mlp
    graph = graph_of(model, torch.randn(2, features))
    configs = {node.name: {"config": data.draw(node_config())} for node in graph.nodes
               if node.op == "call_module"}
    graph, _ = quantize_transform_pass(graph, {"by": "name", **configs})
    prepared = prepare(graph.model, fold_batchnorm=fold).module
    first = prepared.get_submodule("fixed_input").out_format
    x = torch.randn(64, features) * scale * first.hi * first.step  # inputs across the input format's range
    codes = integer_reference(prepared, x)
    with torch.no_grad():
        reals = prepared(x)
    assert torch.equal(reals * 2.0 ** output_format(prepared).frac, codes.to(torch.float64))
    twins = [m for m in prepared.modules() if isinstance(m, (FixedLinear, FixedAffine, FixedAdd))]
    has_batch_norm = any(isinstance(m, nn.BatchNorm1d) for m in model.modules())
    if not has_batch_norm and all(t.acc_format.width <= FLOAT32_EXACT_WIDTH for t in twins):
        with torch.no_grad():
            assert torch.equal(graph.model(x).to(torch.float64), reals)
