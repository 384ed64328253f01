"""``quantize_transform_pass``: swap modules and functions for quantised twins (lab-api §6).

``pass_args = {"by": "type" | "name" | "regex_name", "default": {"config": {...}}, KEY: {"config": {...}}}``
picks each node's config by its mase op, its node name, or the first regex (in the order given)
that fully matches its name; ``default`` covers the quantisable nodes no key names.
``name = None`` / ``"NA"`` leaves a node alone. Every config is checked before the graph is touched,
so a bad key leaves the graph as it was; the caller's dict is never modified.

MASE's own test configs also carry ``report`` and ``baseline_weight_path``, which MASE's pass
ignores; so does this one. A node name used as a key under ``by = "type"`` (MASE's
``ternary_scaled.toml`` has one) is ignored with a warning, as MASE ignores it.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from torch import fx

from chop.errors import PassError, did_you_mean, unknown
from chop.passes.graph.pass_args import require_metadata
from chop.passes.graph.pass_result import PassResult
from chop.quantized.call_config import QuantizedCallConfig
from chop.quantized.functions import FUNCTION_OPS, REPLACEABLE_TARGETS, quantized_function
from chop.quantized.graph_formats import arg_formats, quantized_op
from chop.quantized.modules import MODULE_BASES, quantized_module_class
from chop.quantized.node_config import QUANTIZABLE_OPS, NodeQuantConfig, is_skip, parse_node_config
from chop.tools.logger import get_logger

log = get_logger(__name__)
PASS = "quantize_transform_pass"
BY = ("type", "name", "regex_name")
IGNORED_ARGS = ("report", "baseline_weight_path")  # MASE's pass reads neither
SUPPORTED = f"modules {', '.join(MODULE_BASES)} and functions/methods {', '.join(FUNCTION_OPS)}"


def _entry_config(key: str, entry: Any) -> Mapping[str, Any]:
    if not isinstance(entry, Mapping) or "config" not in entry:
        raise PassError(f"{PASS}: entry '{key}' must be a table with a 'config' table, e.g. "
                        f"{{'{key}': {{'config': {{'name': 'integer', ...}}}}}}, got {entry!r}")
    return entry["config"]


def _mase_op(node: fx.Node) -> str | None:
    return node.meta["mase"]["common"]["mase_op"]


def _replaceable(graph: Any, node: fx.Node) -> bool:
    """Whether the pass knows how to quantise this node (its op and its fx form)."""
    op = _mase_op(node)
    if op not in QUANTIZABLE_OPS:
        return False
    if node.op == "call_module":
        return op in MODULE_BASES and isinstance(graph.modules[str(node.target)], MODULE_BASES[op])
    if node.op in ("call_function", "call_method"):
        try:
            known = REPLACEABLE_TARGETS.get(node.target) or quantized_op(node.target)  # re-quantising is fine
            return known == op and op in FUNCTION_OPS
        except TypeError:
            return False
    return False


def quantizable_nodes(graph: Any) -> list[fx.Node]:
    """The nodes this pass can quantise, in graph order (what a quantisation search may vary)."""
    require_metadata(PASS, graph)
    return [node for node in graph.nodes if _replaceable(graph, node)]


def _stats(node: fx.Node) -> Mapping[str, Any]:
    """The node's profiled statistics per operand (``software.args``), where ternary "NA" stats are read."""
    return node.meta["mase"]["software"]["args"]


def check_node_config(graph: Any, node: fx.Node, config: Mapping[str, Any]) -> NodeQuantConfig:
    """Parse one node's config exactly as the pass would; a ``PassError`` says why it cannot be used."""
    return parse_node_config(node.name, _mase_op(node), config, _operands(graph, node), _stats(node))


def _select(graph: Any, args: dict[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Node name -> raw config for every node the pass will quantise."""
    by = args.get("by")
    if by not in BY:
        raise PassError(f"{PASS}: 'by' must be one of {', '.join(BY)}, got {by!r}")
    default = _entry_config("default", args["default"]) if "default" in args else None
    keys = {key: _entry_config(key, entry) for key, entry in args.items()
            if key not in ("by", "default", *IGNORED_ARGS)}
    nodes = graph.nodes
    names = {node.name: node for node in nodes}
    if by == "type":
        for key in list(keys):
            if key in QUANTIZABLE_OPS:
                continue
            if key not in names:
                raise PassError(f"{PASS}: {unknown('quantisable op', key, QUANTIZABLE_OPS)}")
            log.warning("%s: '%s' is a node name, not a mase op, so by = \"type\" ignores it "
                        "(use by = \"name\" to configure that node)", PASS, key)
            del keys[key]
    elif by == "name":
        for key in keys:
            if key not in names:
                raise PassError(f"{PASS}: no node named '{key}'{did_you_mean(key, names)}")
            if not _replaceable(graph, names[key]):
                raise PassError(f"{PASS}: node {key} ({_mase_op(names[key])}, {names[key].op}) cannot be quantised; "
                                f"quantisable: {SUPPORTED}")
    else:
        patterns = []
        for key in keys:
            try:
                patterns.append((re.compile(key), keys[key]))
            except re.error as error:
                raise PassError(f"{PASS}: regex_name key '{key}' is not a valid regular expression: {error}") from None
    chosen: dict[str, Mapping[str, Any]] = {}
    for node in nodes:
        if not _replaceable(graph, node):
            if by == "type" and _mase_op(node) in keys and not is_skip(keys[_mase_op(node)]):
                log.warning("%s: node %s (%s, %s) is left in float: only %s are quantised", PASS, node.name,
                            _mase_op(node), node.op, SUPPORTED)
            continue
        if by == "type":
            config = keys.get(_mase_op(node), default)
        elif by == "name":
            config = keys.get(node.name, default)
        else:
            config = next((c for p, c in patterns if p.fullmatch(node.name)), default)
        if config is not None and not is_skip(config):
            chosen[node.name] = config
    return chosen


def _operands(graph: Any, node: fx.Node) -> tuple[str, ...]:
    operands = QUANTIZABLE_OPS[_mase_op(node)]
    if node.op == "call_module" and getattr(graph.modules[str(node.target)], "bias", None) is None:
        operands = tuple(o for o in operands if o != "bias")
    return operands


def _record_precision(graph: Any, node: fx.Node) -> None:
    """``common.args.<arg>.type/precision`` = the quantiser's name and precision list."""
    args = node.meta["mase"]["common"]["args"]
    tensors = [arg for arg, meta in args.items() if hasattr(meta, "keys") and "precision" in meta.keys()]
    for arg, (kind, precision) in arg_formats(graph.model, node, tensors).items():
        args[arg]["type"] = kind
        args[arg]["precision"] = precision


def _replace_module(graph: Any, node: fx.Node, config: NodeQuantConfig) -> None:
    target = str(node.target)
    parent_name, _, child = target.rpartition(".")
    parent = graph.model.get_submodule(parent_name) if parent_name else graph.model
    twin = quantized_module_class(_mase_op(node), config.name).from_module(getattr(parent, child), config)
    setattr(parent, child, twin)


def _replace_function(node: fx.Node, config: NodeQuantConfig) -> None:
    if node.op == "call_method":  # x.add(y) -> add_integer(x, y, config=...)
        node.op = "call_function"
    node.target = quantized_function(_mase_op(node), config.name)
    node.kwargs = {**node.kwargs, "config": QuantizedCallConfig.of(_mase_op(node), config)}


def quantize_transform_pass(graph: Any, pass_args: Mapping[str, Any] | None = None) -> PassResult:
    """Quantise ``graph`` in place as ``pass_args`` says; returns ``PassResult(graph, {"quantized_nodes": [...]})``."""
    require_metadata(PASS, graph)
    if pass_args is None:
        raise PassError(f"{PASS}: pass_args are required, e.g. {{'by': 'type', 'default': {{'config': {{'name': None}}}}}}")
    args = copy.deepcopy(dict(pass_args))
    selected = _select(graph, args)
    nodes = {node.name: node for node in graph.nodes}
    parsed = {name: check_node_config(graph, nodes[name], config) for name, config in selected.items()}
    retargeted = False
    for name, config in parsed.items():
        node = nodes[name]
        if node.op == "call_module":
            _replace_module(graph, node, config)
        else:
            _replace_function(node, config)
            retargeted = True
    if retargeted:  # swapped modules are looked up when the code runs; new call targets need new code
        graph.model.graph.lint()
        graph.model.recompile()
    for name in parsed:
        _record_precision(graph, nodes[name])
    return PassResult(graph, {"quantized_nodes": list(parsed)})
