"""``add_common_metadata_analysis_pass``: what each node computes, from one run on a dummy input.

The graph runs once, node by node (an ``fx.Interpreter``), in eval mode and without gradients
so batch-norm running statistics are left untouched and a batch of one works. Each node gets
``mase_type`` / ``mase_op`` (``chop.ir.graph.ops``), ``args`` (tensor inputs as ``data_in_i``,
module or functional parameters as ``weight`` / ``bias`` with ``"from": None``, other arguments
under their own names) and ``results`` (``data_out_i``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import fx

from chop.errors import PassError
from chop.ir.graph.mase_graph import MaseGraph
from chop.ir.graph.mase_metadata import TensorMeta
from chop.ir.graph.ops import argument_names, classify
from chop.models.input_shape import example_batch
from chop.passes.graph.pass_args import FORCE_DEVICE_META, check_pass_args, require_metadata
from chop.passes.graph.pass_result import PassResult
from chop.quantized import arg_formats
from chop.tools.modes import eval_mode
from chop.tools.options import Option, Options

PARAMETER_NAMES = ("weight", "bias")


class _Recorder(fx.Interpreter):
    """Runs the graph and keeps every node's concrete inputs and output."""

    def __init__(self, module: fx.GraphModule) -> None:
        super().__init__(module)
        self.seen: dict[fx.Node, tuple[tuple[Any, ...], dict[str, Any], Any]] = {}
        self.last_node: fx.Node | None = None

    def run_node(self, node: fx.Node) -> Any:
        self.last_node = node
        args, kwargs = self.fetch_args_kwargs_from_env(node)
        result = super().run_node(node)
        self.seen[node] = (args, kwargs, result)
        return result


def tensor_meta(value: Any, add_value: bool, is_parameter: bool = False) -> TensorMeta:
    """Describe a tensor (float32 → ``float``/``[32]``) or, for other results, a Python value."""
    if isinstance(value, torch.Tensor):
        kind = "float" if value.is_floating_point() else str(value.dtype).replace("torch.", "")
        precision = [torch.finfo(value.dtype).bits if value.is_floating_point() else
                     (torch.iinfo(value.dtype).bits if value.dtype != torch.bool else 1)]
        return TensorMeta(type=kind, precision=precision, shape=list(value.shape), torch_dtype=value.dtype,
                          value=value.detach().clone() if add_value else None, is_parameter=is_parameter)
    shape = [len(value)] if isinstance(value, (list, tuple, torch.Size)) else []
    return TensorMeta(type=type(value).__name__, precision=[], shape=shape, torch_dtype=None,
                      value=value if add_value else None, is_parameter=is_parameter)


def _tensors(value: Any) -> list[torch.Tensor] | None:
    """The tensors of a tensor or a list/tuple of tensors; None for anything else."""
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, torch.Tensor) for v in value):
        return list(value)
    return None


def describe_args(node: fx.Node, args: Sequence[Any], kwargs: dict[str, Any], names: Sequence[str],
                  add_value: bool) -> dict[str, Any]:
    """MASE ``args`` for a call: tensors as ``data_in_i`` (parameters by name), the rest by name."""
    entries: dict[str, Any] = {}
    data_index = 0
    position = 0
    while position < len(args):
        value = args[position]
        name = names[position] if position < len(names) else None
        if name is not None and name.startswith("*"):
            rest = list(args[position:])
            value = rest[0] if len(rest) == 1 and isinstance(rest[0], (list, tuple, torch.Size)) else rest
            entries[name[1:]] = list(value)
            break
        tensors = _tensors(value)
        if tensors is not None and name in PARAMETER_NAMES:
            entries[name] = tensor_meta(tensors[0], add_value, is_parameter=True)
        elif tensors is not None:
            for tensor in tensors:
                entries[f"data_in_{data_index}"] = tensor_meta(tensor, add_value)
                data_index += 1
        else:
            entries[name or f"arg_{position}"] = value
        position += 1
    for key, value in kwargs.items():
        if isinstance(value, torch.Tensor):
            entries[key] = tensor_meta(value, add_value, is_parameter=key in PARAMETER_NAMES)
        else:
            entries[key] = value
    return entries


def describe_results(result: Any, add_value: bool) -> dict[str, TensorMeta]:
    """``data_out_i`` for a tensor, each tensor of a tuple, or a plain value."""
    tensors = _tensors(result) if isinstance(result, (list, tuple)) else None
    outputs = tensors if tensors is not None else [result]
    return {f"data_out_{i}": tensor_meta(value, add_value) for i, value in enumerate(outputs)}


def _dummy_inputs(graph: MaseGraph, dummy_in: dict[str, Any] | None) -> list[Any]:
    placeholders = [n for n in graph.fx_graph.nodes if n.op == "placeholder"]
    if dummy_in is None:
        batch = example_batch(graph.model)
        if batch is None or len(placeholders) != 1:
            raise PassError("add_common_metadata_analysis_pass needs pass_args['dummy_in'] = {'x': tensor} "
                            "(one entry per model input)")
        dummy_in = {placeholders[0].name: batch}
    inputs = []
    for node in placeholders:
        if node.name in dummy_in or str(node.target) in dummy_in:
            inputs.append(dummy_in.get(node.name, dummy_in.get(str(node.target))))
        elif node.args:  # a default value in the forward signature
            inputs.append(node.args[0])
        else:
            raise PassError(f"add_common_metadata_analysis_pass: dummy_in has no entry for model input "
                            f"'{node.target}'; got {', '.join(map(str, dummy_in)) or 'nothing'}")
    return inputs


def run_recorded(graph: MaseGraph, inputs: list[Any]) -> dict[fx.Node, tuple[tuple[Any, ...], dict[str, Any], Any]]:
    """Run the graph once in eval mode without gradients; restore the training flag afterwards."""
    recorder = _Recorder(graph.model)
    try:
        with eval_mode(graph.model), torch.no_grad():
            recorder.run(*inputs)
    except PassError:
        raise
    except Exception as error:
        node = recorder.last_node
        where = f" at node '{node.name}'" if node is not None else ""
        raise PassError(f"add_common_metadata_analysis_pass: the dummy input failed{where}: "
                        f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}") from error
    return recorder.seen


OPTIONS = Options(Option("dummy_in"), Option("add_value", default=True), FORCE_DEVICE_META)


def add_common_metadata_analysis_pass(graph: MaseGraph, pass_args: dict[str, Any] | None = None) -> PassResult:
    """Fill ``common`` for every node. Arguments: ``dummy_in`` ({input name: tensor}), ``add_value`` (default True).

    Without ``dummy_in`` a registered model's ``input_shape`` gives a seeded random batch of one.
    """
    args = check_pass_args("add_common_metadata_analysis_pass", pass_args, OPTIONS)
    require_metadata("add_common_metadata_analysis_pass", graph, common=False)
    add_value = bool(args["add_value"])
    seen = run_recorded(graph, _dummy_inputs(graph, args["dummy_in"]))
    modules = graph.modules
    for node in graph.fx_graph.nodes:
        mase_type, mase_op = classify(node, modules)
        common = node.meta["mase"].parameters.common
        common.mase_type, common.mase_op = mase_type, mase_op
        node_args, node_kwargs, result = seen[node]
        if node.op == "placeholder":
            common.args, common.results = {}, describe_results(result, add_value)
        elif node.op == "output":
            common.args, common.results = describe_args(node, node_args, {}, (), add_value), {}
        elif node.op == "get_attr":
            common.args = {}
            common.results = {"data_out_0": tensor_meta(result, add_value, is_parameter=True)}
        elif node.op == "call_module":
            common.args = describe_args(node, node_args, node_kwargs, (), add_value)
            for name, parameter in modules[str(node.target)].named_parameters():
                common.args[name] = tensor_meta(parameter, add_value, is_parameter=True)
            common.results = describe_results(result, add_value)
        else:
            common.args = describe_args(node, node_args, node_kwargs, argument_names(node, mase_op), add_value)
            common.results = describe_results(result, add_value)
        _record_quantized_formats(graph, node, common.args)
    return PassResult(graph, {})


def _record_quantized_formats(graph: MaseGraph, node: fx.Node, args: dict[str, Any]) -> None:
    """A quantised module or function keeps its number formats; re-analysis must not reset them to float."""

    tensors = [name for name, value in args.items() if isinstance(value, TensorMeta)]
    for name, (kind, precision) in arg_formats(graph.model, node, tensors).items():
        args[name].type, args[name].precision = kind, list(precision)
