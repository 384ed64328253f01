"""``load_qonnx_graph(path)`` (``MaseGraph.from_qonnx``): a QONNX MLP as a quantised MaseGraph.

The file's layers (``qonnx_layers`` says what is read and what is an error) become torch modules in
an fx graph: a linear ``nn.Linear``, an affine ``nn.BatchNorm1d`` with running mean 0, variance 1
and ``eps`` 0 (so its scale is its gamma and its shift its beta, exactly), ``nn.ReLU``, and a
residual add ``operator.add``; each node keeps the layer's name (the exporter's node names come
back). Then machop's own passes run on it: metadata, and ``quantize_transform_pass`` by name with
one ``integer`` config per node (``data_in``, ``weight``, ``bias``: width, frac_width and signed),
so the metadata is what that pass gives a graph quantised so.

What the file computes, the graph computes: ``data_in`` of each op is the ``Quant`` format of what
it reads, so ``prepare`` puts the same requantisations on the same edges, and the integer
reference gives qonnx's output codes. Two things to know:

- a constant's format whose fraction bits exceed its bits (``fixed<8,10>``, which machop's
  ``integer`` quantiser does not take) is read as ``fixed<10,10>``: the same codes, one format up;
- an affine right after or before a linear folds into it where ``prepare`` folds batch norms
  (``fold_batchnorm``); a file that rounds between the two (a ``Quant`` between ``MatMul`` and ``Mul``)
  is computed as it says only with ``fold_batchnorm = False``. machop's own exports never have such
  a pair (the preparation folded them).
"""

from __future__ import annotations

import operator
from pathlib import Path
from typing import Any

import torch
from torch import fx, nn

from chop.errors import ModelError
from chop.hardware.fixed import FixedFormat
from chop.ir.graph.mase_graph import MaseGraph
from chop.passes.graph.analysis.add_common_metadata import add_common_metadata_analysis_pass
from chop.passes.graph.analysis.init_metadata import init_metadata_analysis_pass
from chop.passes.graph.interface.qonnx_layers import QonnxLayer, QonnxMlp, QuantConstant, Value, read_qonnx_mlp
from chop.passes.graph.transforms.quantize import quantize_transform_pass

INPUT = "x"
INSTALL = "reading QONNX needs qonnx (and onnx): pip install 'machop[export]'"


def _wrapper(path: str | Path) -> Any:
    """qonnx's ``ModelWrapper`` of the file; a missing or unreadable file is one line."""
    try:
        from qonnx.core.modelwrapper import ModelWrapper
    except ImportError:
        raise ModelError(INSTALL) from None
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"no QONNX file at {path}")
    try:
        return ModelWrapper(str(path))
    except Exception as error:  # protobuf's DecodeError and friends: say which file, in one line
        raise ModelError(f"cannot read {path} as an ONNX model: {type(error).__name__}: {error}") from None


def _reals(constant: QuantConstant) -> torch.Tensor:
    """The constant's values in float32, exact: the file held them as float32 initializers."""
    return (constant.codes.to(torch.float64) * constant.fmt.step).to(torch.float32)


def _module(layer: QonnxLayer) -> nn.Module:
    if layer.kind == "relu":
        return nn.ReLU()
    assert layer.weight is not None
    if layer.kind == "linear":
        out_features, in_features = layer.weight.codes.shape
        linear = nn.Linear(in_features, out_features, bias=layer.bias is not None)
        with torch.no_grad():
            linear.weight.copy_(_reals(layer.weight))
            if layer.bias is not None:
                linear.bias.copy_(_reals(layer.bias))
        return linear
    channels = len(layer.weight.codes)
    affine = nn.BatchNorm1d(channels, eps=0.0)  # running mean 0, variance 1: scale * x + shift, exactly
    with torch.no_grad():
        affine.weight.copy_(_reals(layer.weight))
        affine.bias.copy_(_reals(layer.bias) if layer.bias is not None else torch.zeros(channels))
    return affine.eval()


def _operand(operand: str, fmt: FixedFormat) -> dict[str, Any]:
    return {f"{operand}_width": fmt.width, f"{operand}_frac_width": fmt.frac, f"{operand}_signed": fmt.signed}


def _config(layer: QonnxLayer) -> dict[str, Any]:
    """The node's ``integer`` config: ``data_in`` from the Quant it reads, ``weight``/``bias`` from the constants'."""
    config = {"name": "integer", **_operand("data_in", layer.data_in)}
    if layer.weight is not None:
        config.update(_operand("weight", layer.weight.fmt))
        # a batch norm without an Add has a zero shift: any format holds it, the scale's is at hand
        config.update(_operand("bias", (layer.bias or layer.weight).fmt))
    return config


def _graph_module(mlp: QonnxMlp) -> fx.GraphModule:
    """The layers as an fx graph of torch modules (an add as ``operator.add``), in the file's order."""
    root, graph = nn.Module(), fx.Graph()
    nodes: dict[str | None, fx.Node] = {None: graph.placeholder(INPUT)}

    def arg(value: Value) -> fx.Node:
        return nodes[value.layer]

    for layer in mlp.layers:
        args = tuple(arg(value) for value in layer.inputs)
        if layer.kind == "add":
            nodes[layer.name] = graph.create_node("call_function", operator.add, args, name=layer.name)
        else:
            root.add_module(layer.name, _module(layer))
            nodes[layer.name] = graph.create_node("call_module", layer.name, args, name=layer.name)
    assert mlp.output is not None
    graph.output(arg(mlp.output))
    module = fx.GraphModule(root, graph, "QonnxMlp")
    module.input_shape = mlp.input_shape
    return module.eval()


def load_qonnx_graph(path: str | Path) -> MaseGraph:
    """The QONNX MLP at ``path`` as a MaseGraph quantised by ``quantize_transform_pass`` (see the module docstring)."""
    mlp = read_qonnx_mlp(_wrapper(path))
    graph = MaseGraph(_graph_module(mlp))
    graph, _ = init_metadata_analysis_pass(graph, None)
    sample = torch.randn((1, *mlp.input_shape), generator=torch.Generator().manual_seed(0))
    graph, _ = add_common_metadata_analysis_pass(graph, {"dummy_in": {INPUT: sample}, "add_value": False})
    configs = {layer.name: {"config": _config(layer)} for layer in mlp.layers}
    graph, _ = quantize_transform_pass(graph, {"by": "name", **configs})
    return graph
