"""``profile_statistics_analysis_pass``: statistics of weights and activations into ``software`` metadata.

Weights are profiled once per parameter tensor. Activations (the tensor inputs ``data_in_i`` of the
target nodes) are profiled by running whole batches through an ``fx.Interpreter``; the statistics
are batch-updatable with per-sample semantics, so the numbers equal MASE's sample-by-sample
feeding while the graph runs once per batch. Exactly ``num_samples`` samples are used (the last
batch is cut). The model runs in eval mode without gradients: profiling must not move batch-norm
running statistics, and eval mode makes results independent of the batch size.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import torch
from torch import fx

from chop.errors import PassError, unknown
from chop.ir.graph.mase_graph import MaseGraph
from chop.ir.graph.mase_metadata import StatMeta
from chop.ir.graph.ops import argument_names
from chop.passes.graph.analysis.add_common_metadata import PARAMETER_NAMES
from chop.passes.graph.analysis.statistics import BatchViews, Statistic, make_statistic
from chop.passes.graph.pass_args import check_pass_args, require_metadata
from chop.passes.graph.pass_result import PassResult
from chop.tools.modes import eval_mode
from chop.tools.options import Option, Options

PASS = "profile_statistics_analysis_pass"
OPTIONS = Options(
    Option("by", default="type"), Option("target_weight_nodes"), Option("target_activation_nodes"),
    Option("weight_statistics"), Option("activation_statistics"), Option("input_generator"),
    Option("num_samples"), Option("plot_path"), Option("plot_max_values", default=200_000),
    Option("profile_output_activation",
           ignored="machop profiles the tensor inputs of the target nodes, not their outputs"),
)


def select_nodes(graph: MaseGraph, by: str, targets: Iterable[str], what: str) -> list[fx.Node]:
    """Nodes whose mase op (``by="type"``) or name (``by="name"``) is in ``targets``; each target must match."""
    nodes = list(graph.fx_graph.nodes)
    key = (lambda n: n.meta["mase"].parameters.common.mase_op) if by == "type" else (lambda n: n.name)
    targets = list(targets)
    for target in targets:
        if not any(key(n) == target for n in nodes):
            kind = "mase op" if by == "type" else "node name"
            raise PassError(f"{PASS}: {what} '{target}' matches no node by {by}: "
                            + unknown(kind, target, sorted({str(key(n)) for n in nodes})))
    return [n for n in nodes if key(n) in targets]


def node_parameters(graph: MaseGraph, node: fx.Node) -> dict[str, torch.Tensor]:
    """The parameters a node uses: a module's own, or functional ``weight``/``bias`` read with get_attr."""
    if node.op == "call_module":
        return dict(graph.model.get_submodule(str(node.target)).named_parameters())
    found = {}
    names = argument_names(node, node.meta["mase"].parameters.common.mase_op or "")
    for position, arg in enumerate(node.args):
        name = names[position] if position < len(names) else None
        if name in PARAMETER_NAMES and isinstance(arg, fx.Node) and arg.op == "get_attr":
            found[name] = _fetch_attr(graph, str(arg.target))
    for name, arg in node.kwargs.items():
        if name in PARAMETER_NAMES and isinstance(arg, fx.Node) and arg.op == "get_attr":
            found[name] = _fetch_attr(graph, str(arg.target))
    return found


def _fetch_attr(graph: MaseGraph, target: str) -> torch.Tensor:
    value: Any = graph.model
    for part in target.split("."):
        value = getattr(value, part)
    return value


def data_inputs(node: fx.Node, args: Sequence[Any], names: Sequence[str]) -> list[torch.Tensor]:
    """The tensors a node's ``data_in_0, data_in_1, ...`` describe, in order."""
    tensors: list[torch.Tensor] = []
    for position, value in enumerate(args):
        name = names[position] if position < len(names) else None
        if name is not None and (name.startswith("*") or name in PARAMETER_NAMES):
            continue
        if isinstance(value, torch.Tensor):
            tensors.append(value)
        elif isinstance(value, (list, tuple)) and value and all(isinstance(v, torch.Tensor) for v in value):
            tensors.extend(value)
    return tensors


class _ActivationProfiler(fx.Interpreter):
    """Runs batches through the graph and feeds the target nodes' inputs to their statistics."""

    def __init__(self, module: fx.GraphModule, collectors: dict[fx.Node, dict[str, dict[str, Statistic]]],
                 samples: dict[str, list[torch.Tensor]] | None) -> None:
        super().__init__(module)
        self.collectors = collectors
        self.samples = samples
        self.names = {node: ("input",) if node.op == "call_method" else
                      (argument_names(node, node.meta["mase"].parameters.common.mase_op or "")
                       if node.op == "call_function" else ()) for node in collectors}

    def run_node(self, node: fx.Node) -> Any:
        if node in self.collectors:
            args, _ = self.fetch_args_kwargs_from_env(node)
            for index, tensor in enumerate(data_inputs(node, args, self.names[node])):
                operand = f"data_in_{index}"
                views = BatchViews(tensor)
                for statistic in self.collectors[node].get(operand, {}).values():
                    statistic.update(tensor, views)
                if self.samples is not None and operand in self.collectors[node]:
                    self.samples.setdefault(f"{node.name}.{operand}", []).append(tensor.detach().flatten())
        return super().run_node(node)


def _statistics(spec: Any, what: str) -> dict[str, dict[str, Any]]:
    if spec is None:
        return {}
    if not isinstance(spec, dict):
        raise PassError(f"{PASS}: {what} must be a dict {{statistic name: {{options}}}}, got {type(spec).__name__}")
    for name, options in spec.items():
        make_statistic(name, options, f"{PASS} {what}")  # validate names and options up front
    return spec


def _target_list(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise PassError(f"{PASS}: {what} must be a list of mase ops or node names, got {value!r}")
    return list(value)


def _batches(generator: Any, num_samples: int) -> Iterable[dict[str, Any]]:
    """Batches from the generator, the last one cut so exactly ``num_samples`` samples are seen."""
    try:
        iterator = iter(generator)
    except TypeError:
        raise PassError(f"{PASS}: input_generator must be an iterable of {{'x': batch}} dicts, "
                        f"got {type(generator).__name__}") from None
    seen = 0
    while seen < num_samples:
        try:
            batch = next(iterator)
        except StopIteration:
            raise PassError(f"{PASS}: input_generator ran dry after {seen} of {num_samples} samples; "
                            "lower num_samples or use a larger dataset") from None
        if not isinstance(batch, dict) or not batch:
            raise PassError(f"{PASS}: input_generator must yield {{'x': batch}} dicts, got {type(batch).__name__}")
        size = len(next(iter(batch.values())))
        if size == 0:
            continue
        take = min(size, num_samples - seen)
        yield {k: v[:take] if isinstance(v, torch.Tensor) else v for k, v in batch.items()}
        seen += take


def _run_inputs(graph: MaseGraph, batch: dict[str, Any]) -> list[Any]:
    inputs = []
    for node in graph.fx_graph.nodes:
        if node.op != "placeholder":
            continue
        if node.name in batch or str(node.target) in batch:
            inputs.append(batch.get(node.name, batch.get(str(node.target))))
        elif node.args:
            inputs.append(node.args[0])
        else:
            raise PassError(f"{PASS}: the input generator's batches have no '{node.target}' "
                            f"(keys: {', '.join(map(str, batch))})")
    return inputs


def _store(node: fx.Node, operand: str, name: str, result: dict[str, Any]) -> None:
    software = node.meta["mase"].parameters.software
    software.args.setdefault(operand, StatMeta()).stat[name] = result


def profile_statistics_analysis_pass(graph: MaseGraph, pass_args: dict[str, Any] | None = None) -> PassResult:
    """Profile weights and activations (arguments: lab-api §5; ``plot_path`` also draws box plots).

    ``info`` holds ``{"weights": {node: {param: {stat: result}}}, "activations": {...}}`` and, with
    ``plot_path``, the path of the PNG written.
    """
    args = check_pass_args(PASS, pass_args, OPTIONS)
    require_metadata(PASS, graph)
    by = args["by"]
    if by not in ("type", "name"):
        raise PassError(f"{PASS}: by must be 'type' or 'name', got {by!r}")
    weight_stats = _statistics(args["weight_statistics"], "weight_statistics")
    act_stats = _statistics(args["activation_statistics"], "activation_statistics")
    weight_nodes = select_nodes(graph, by, _target_list(args["target_weight_nodes"], "target_weight_nodes"),
                                "target_weight_nodes entry")
    act_nodes = select_nodes(graph, by, _target_list(args["target_activation_nodes"], "target_activation_nodes"),
                             "target_activation_nodes entry")
    plot_path = args["plot_path"]
    plot_weights: dict[str, torch.Tensor] = {}
    plot_acts: dict[str, list[torch.Tensor]] | None = {} if plot_path else None

    info: dict[str, Any] = {"weights": {}, "activations": {}}
    if weight_stats:
        for node in weight_nodes:
            for param_name, tensor in node_parameters(graph, node).items():
                sample = tensor.detach().unsqueeze(0)
                views = BatchViews(sample)
                for stat_name, options in weight_stats.items():
                    statistic = make_statistic(stat_name, options, PASS)
                    statistic.update(sample, views)
                    result = statistic.compute()
                    _store(node, param_name, stat_name, result)
                    info["weights"].setdefault(node.name, {}).setdefault(param_name, {})[stat_name] = result
                if plot_path:
                    plot_weights[f"{node.name}.{param_name}"] = tensor.detach().flatten()

    if act_stats and act_nodes:
        num_samples = args["num_samples"]
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples < 1:
            raise PassError(f"{PASS}: num_samples must be a positive integer, got {num_samples!r}")
        if args["input_generator"] is None:
            raise PassError(f"{PASS}: activation statistics need an input_generator (an iterable of {{'x': batch}})")
        collectors = _collectors(act_nodes, act_stats)
        profiler = _ActivationProfiler(graph.model, collectors, plot_acts)
        with eval_mode(graph.model), torch.no_grad():
            for batch in _batches(args["input_generator"], num_samples):
                profiler.run(*_run_inputs(graph, batch))
        for node, operands in collectors.items():
            for operand, statistics in operands.items():
                for stat_name, statistic in statistics.items():
                    result = statistic.compute()
                    _store(node, operand, stat_name, result)
                    info["activations"].setdefault(node.name, {}).setdefault(operand, {})[stat_name] = result

    if plot_path:
        from chop.passes.graph.analysis.profile_plot import plot_profile

        activations = {k: torch.cat(v) for k, v in (plot_acts or {}).items()}
        info["plot_path"] = str(plot_profile(plot_weights, activations, plot_path,
                                             max_values=int(args["plot_max_values"])))
    return PassResult(graph, info)


def _collectors(nodes: list[fx.Node], act_stats: dict[str, Any]) -> dict[fx.Node, dict[str, dict[str, Statistic]]]:
    """One set of statistics per tensor input of each target node (known from the common metadata)."""
    return {node: {operand: {name: make_statistic(name, options, PASS) for name, options in act_stats.items()}
                   for operand in node.meta["mase"].parameters.common.args if operand.startswith("data_in_")}
            for node in nodes}
