"""``redefine_linear_transform_pass``: resize linear layers by channel multipliers (MASE's lab 4).

``pass_args = {"config": {"by": "name", "default": {"config": {"name": None}},
NODE: {"config": {"name": "output_only" | "both" | "input_only", "channel_multiplier": k}}}}``,
as the lab writes it. ``output_only`` multiplies a linear's ``out_features`` by ``k``, ``input_only``
its ``in_features``, ``both`` both; ``both`` also takes ``input_multiplier`` / ``output_multiplier``
for different factors on each side (lab 4 Q3's 16 -> 32 -> 64 -> 5 needs ``both`` with 2 in and 4 out).
A factor may be any positive number whose product with the width is a whole number (0.5 halves).

Where MASE's pass only swaps the linears, this one keeps the rest of the graph consistent, as the lab
asks the student to do by hand: a BatchNorm1d after a resized linear is rebuilt at the new width
(width-agnostic ops such as ReLU pass it on), and a width that no longer fits is an error naming
both layers, before anything changes: a linear whose input no longer matches what flows into it,
an add of two different widths, a module with parameters that would have to change size, and a
graph output whose width changes (it is the number of classes). Resized modules are freshly
initialised (from torch's global generator, as ``nn.Linear`` does): a new architecture is
retrained. The result is a new graph with the metadata the input graph had (common metadata is
rebuilt from one dummy sample); the input graph and the caller's dict are left as they were.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from torch import fx, nn

from chop.errors import PassError, unknown
from chop.ir.graph.mase_graph import MaseGraph
from chop.passes.graph.analysis.init_metadata import init_metadata_analysis_pass
from chop.passes.graph.pass_args import check_pass_args
from chop.passes.graph.pass_result import PassResult
from chop.passes.graph.transforms.hardware.graph_metadata import dummy_sample, with_metadata
from chop.tools.options import Option, Options

PASS = "redefine_linear_transform_pass"
SIDES = {"output_only": ("output",), "both": ("input", "output"), "input_only": ("input",)}
OPTIONS = Options(Option("config", dict, default=None))
ENTRY_KEYS = ("name", "channel_multiplier", "input_multiplier", "output_multiplier")


@dataclass(frozen=True)
class Resize:
    """The factors of one linear (1 where a side keeps its width)."""

    input: float = 1
    output: float = 1


@dataclass(frozen=True)
class Width:
    """A feature width that changed, and the linear whose resize changed it (named in errors)."""

    features: int
    origin: str


def _factor(value: Any, key: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise PassError(f"{where}: {key} = {value!r}: expected a number > 0")
    return value


def parse_resize(key: str, entry: Any) -> Resize | None:
    """One entry of the config (``{"config": {...}}``) as factors; None when ``name`` is None."""
    where = f"{PASS}: entry '{key}'"
    if not isinstance(entry, Mapping) or not isinstance(entry.get("config"), Mapping):
        raise PassError(f"{where} must be a table with a 'config' table, e.g. "
                        f"{{'config': {{'name': 'both', 'channel_multiplier': 2}}}}, got {entry!r}")
    config = entry["config"]
    for name in config:
        if name not in ENTRY_KEYS:
            raise PassError(f"{where}: {unknown('key', name, ENTRY_KEYS)}")
    name = config.get("name")
    if name is None:
        return None
    if name not in SIDES:
        raise PassError(f"{where}: {unknown('name', name, tuple(SIDES))}")
    factors = {}
    for side in ("input", "output"):
        given = config.get(f"{side}_multiplier", config.get("channel_multiplier"))
        if side in SIDES[name]:
            if given is None:
                raise PassError(f"{where}: name = {name!r} needs channel_multiplier (a number > 0)")
            factors[side] = _factor(given, f"{side}_multiplier" if f"{side}_multiplier" in config
                                    else "channel_multiplier", where)
        elif f"{side}_multiplier" in config:
            raise PassError(f"{where}: {side}_multiplier does not apply to name = {name!r}; use name = 'both'")
    return Resize(**factors)


def _resizes(graph: MaseGraph, config: Mapping[str, Any]) -> dict[str, Resize]:
    """Each linear node's factors, from its own entry or the default."""
    by = config.get("by", "name")
    if by != "name":
        raise PassError(f"{PASS}: by = {by!r}: only 'name' is supported (layers are resized one by one; "
                        "use channel_multiplier_config for a uniform multiplier)")
    if "default" not in config:
        raise PassError(f"{PASS}: the config needs a 'default' entry, e.g. {{'config': {{'name': None}}}}")
    linears = {node.name for node in graph.fx_graph.nodes
               if node.op == "call_module" and isinstance(graph.modules[str(node.target)], nn.Linear)}
    for key in config:
        if key not in ("by", "default") and key not in linears:
            raise PassError(f"{PASS}: {unknown('linear node', key, tuple(sorted(linears)))}")
    default = parse_resize("default", config["default"])
    found = {name: parse_resize(name, config[name]) if name in config else default for name in linears}
    return {name: resize for name, resize in found.items() if resize is not None}


def _scaled(features: int, factor: float, node: str, side: str) -> int:
    scaled = features * factor
    if not math.isclose(scaled, round(scaled)) or round(scaled) < 1:
        raise PassError(f"{PASS}: node '{node}': {side} width {features} x {factor:g} = {scaled:g} "
                        "is not a whole number of features >= 1")
    return round(scaled)


def _incoming(node: fx.Node, widths: Mapping[fx.Node, Width]) -> Width | None:
    """The changed width flowing into ``node`` (None: unchanged); two different ones are an error."""
    changed = {arg: widths[arg] for arg in node.all_input_nodes if arg in widths}
    distinct = {width.features for width in changed.values()}
    unchanged = [arg for arg in node.all_input_nodes if arg not in widths and arg.op != "get_attr"]
    if len(distinct) > 1 or (changed and unchanged):
        parts = [f"'{w.origin}' gives {w.features}" for w in changed.values()]
        parts += [f"'{arg.name}' keeps its width" for arg in unchanged]
        raise PassError(f"{PASS}: node '{node.name}' would combine different widths: {'; '.join(parts)}")
    return next(iter(changed.values()), None)


def _plan(graph: MaseGraph, resizes: Mapping[str, Resize]) -> dict[str, nn.Module]:
    """The new module of every node that changes, after checking that every width fits."""
    widths: dict[fx.Node, Width] = {}
    modules: dict[str, nn.Module] = {}
    for node in graph.fx_graph.nodes:
        incoming = _incoming(node, widths) if node.op != "placeholder" else None
        module = graph.modules.get(str(node.target)) if node.op == "call_module" else None
        if isinstance(module, nn.Linear):
            resize = resizes.get(node.name, Resize())
            expected = _scaled(module.in_features, resize.input, node.name, "input")
            arriving = incoming.features if incoming is not None else module.in_features
            if expected != arriving:
                source = (f"'{incoming.origin}' now gives {arriving}" if incoming is not None
                          else f"its input keeps {arriving}")
                raise PassError(f"{PASS}: node '{node.name}' would expect {expected} input features but {source}; "
                                f"give both layers multipliers that agree")
            out = _scaled(module.out_features, resize.output, node.name, "output")
            if (expected, out) != (module.in_features, module.out_features):
                modules[node.name] = nn.Linear(expected, out, bias=module.bias is not None,
                                               dtype=module.weight.dtype)
            if out != module.out_features:
                widths[node] = Width(out, node.name)
        elif node.op == "output":
            if incoming is not None:
                raise PassError(f"{PASS}: the graph output would have {incoming.features} features instead of its "
                                f"original width ('{incoming.origin}'); keep the last linear's output "
                                "(use input_only there)")
        elif incoming is not None:
            if isinstance(module, nn.BatchNorm1d):
                modules[node.name] = _batch_norm(module, incoming.features)
            elif module is not None and any(True for _ in module.parameters()):
                raise PassError(f"{PASS}: node '{node.name}' ({type(module).__name__}) has parameters sized for the "
                                f"old width; '{incoming.origin}' now gives {incoming.features}")
            widths[node] = incoming
    return modules


def _batch_norm(old: nn.BatchNorm1d, features: int) -> nn.BatchNorm1d:
    return nn.BatchNorm1d(features, eps=old.eps, momentum=old.momentum, affine=old.affine,
                          track_running_stats=old.track_running_stats)


def redefine_linear_transform_pass(graph: MaseGraph, pass_args: dict[str, Any] | None = None) -> PassResult:
    """``PassResult(resized graph, {"resized": {node: [in, out] or [features]}})``; see the module docstring."""
    config = check_pass_args(PASS, pass_args, OPTIONS)["config"]
    if config is None:
        raise PassError(f"{PASS}: pass_args needs 'config', e.g. {{'config': {{'by': 'name', 'default': "
                        "{'config': {'name': None}}, 'seq_blocks_2': {'config': {'name': 'output_only', "
                        "'channel_multiplier': 2}}}}")
    new_modules = _plan(graph, _resizes(graph, config))
    module = copy.deepcopy(graph.model)
    targets = {node.name: str(node.target) for node in module.graph.nodes}
    for name, new in new_modules.items():
        parent, _, child = targets[name].rpartition(".")
        setattr(module.get_submodule(parent) if parent else module, child, new)
    placeholder = next(node for node in graph.fx_graph.nodes if node.op == "placeholder")
    if placeholder.meta.get("mase") is not None and placeholder.meta["mase"]["common"]["mase_op"] is not None:
        resized = with_metadata(module, dummy_sample(PASS, graph), hardware=False)
    else:
        resized, _ = init_metadata_analysis_pass(MaseGraph(module))
    info = {name: [m.in_features, m.out_features] if isinstance(m, nn.Linear) else [m.num_features]
            for name, m in new_modules.items()}
    return PassResult(resized, {"resized": info})


def channel_multiplier_config(graph: MaseGraph, multipliers: float | Mapping[str, float]) -> dict[str, Any]:
    """The pass config that scales hidden widths consistently: each linear's output by its multiplier.

    ``multipliers`` is one factor for every hidden linear (lab 4 Q1: all layers doubled) or one per
    linear node (lab 4 Q3); the last linear keeps its output (the classes), and each linear's input
    follows the output of the linear before it.
    """
    linears = [node.name for node in graph.fx_graph.nodes
               if node.op == "call_module" and isinstance(graph.modules[str(node.target)], nn.Linear)]
    if not linears:
        raise PassError(f"{PASS}: the graph has no linear layer to resize")
    if isinstance(multipliers, Mapping):
        for name in multipliers:
            if name not in linears[:-1]:
                raise PassError(f"{PASS}: {unknown('hidden linear node', name, tuple(linears[:-1]))}")
        factors = {name: multipliers.get(name, 1) for name in linears[:-1]}
    else:
        factors = dict.fromkeys(linears[:-1], multipliers)
    config: dict[str, Any] = {"by": "name", "default": {"config": {"name": None}}}
    before = 1
    for name in linears:
        after = factors.get(name, 1)
        entry = {"name": "both", "input_multiplier": before, "output_multiplier": after}
        if (before, after) != (1, 1):
            config[name] = {"config": entry}
        before = after
    return config
