"""``verify_common_metadata_analysis_pass``: is every node's ``common`` metadata complete and consistent?

Metadata goes stale when a lab's own transform pass swaps modules without re-running
``add_common_metadata_analysis_pass``; later passes would then read wrong shapes silently. This
pass checks, for every node: the MASE type and op are set and fit the fx op; each tensor
description has a type, a precision and a shape (and a stored value of that shape); a module's
``weight``/``bias`` entries match the live module's parameters; and each tensor input has the
shape and dtype its producer's ``data_out_0`` says. The first problem is a one-line ``PassError``
naming the node and the field.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
from torch import fx

from chop.errors import PassError
from chop.ir.graph.mase_graph import MaseGraph
from chop.ir.graph.mase_metadata import CommonMeta, TensorMeta
from chop.ir.graph.ops import BUILTIN, IMPLICIT, MODULE, MODULE_RELATED
from chop.passes.graph.pass_args import check_pass_args
from chop.passes.graph.pass_result import PassResult
from chop.tools.options import Options

PASS = "verify_common_metadata_analysis_pass"
MASE_TYPES = (MODULE_RELATED, MODULE, BUILTIN, IMPLICIT, "placeholder", "get_attr", "output")
SAME_AS_FX_OP = ("placeholder", "output")  # fx ops whose mase_type and mase_op are the fx op itself


def _fail(node: fx.Node, field: str, problem: str) -> PassError:
    return PassError(f"{PASS}: node '{node.name}' {field}: {problem}")


def _common(node: fx.Node) -> CommonMeta:
    if "mase" not in node.meta:
        raise _fail(node, "metadata", "missing; run init_metadata_analysis_pass and add_common_metadata_analysis_pass")
    return node.meta["mase"].parameters.common


def _check_kind(node: fx.Node, common: CommonMeta) -> None:
    for field in ("mase_type", "mase_op"):
        if common[field] is None:
            raise _fail(node, f"common.{field}", "not set; run add_common_metadata_analysis_pass first")
    if common.mase_type not in MASE_TYPES:
        raise _fail(node, "common.mase_type", f"'{common.mase_type}' is not one of {', '.join(MASE_TYPES)}")
    if node.op in SAME_AS_FX_OP and (common.mase_type, common.mase_op) != (node.op, node.op):
        raise _fail(node, "common.mase_type", f"a {node.op} node must have mase_type and mase_op '{node.op}', "
                                              f"got '{common.mase_type}' / '{common.mase_op}'")


def _tensors(entries: dict[str, Any]) -> Iterator[tuple[str, TensorMeta]]:
    for name, entry in entries.items():
        if isinstance(entry, TensorMeta) and entry.torch_dtype is not None:
            yield name, entry


def _check_tensor(node: fx.Node, field: str, entry: TensorMeta) -> None:
    if not isinstance(entry.type, str) or not entry.type:
        raise _fail(node, f"{field}.type", f"expected a type name such as 'float', got {entry.type!r}")
    if not entry.precision or not all(isinstance(p, int) and p > 0 for p in entry.precision):
        raise _fail(node, f"{field}.precision", f"expected a list of positive bit widths, got {entry.precision!r}")
    if not all(isinstance(s, int) and s >= 0 for s in entry.shape):
        raise _fail(node, f"{field}.shape", f"expected a list of sizes, got {entry.shape!r}")
    if isinstance(entry.value, torch.Tensor) and list(entry.value.shape) != list(entry.shape):
        raise _fail(node, f"{field}.value", f"has shape {list(entry.value.shape)} but shape says {entry.shape}")


def _check_sections(node: fx.Node, common: CommonMeta) -> None:
    if node.op == "output" and common.results:
        raise _fail(node, "common.results", f"an output node has no results, got {', '.join(common.results)}")
    if node.op != "output" and "data_out_0" not in common.results:
        raise _fail(node, "common.results.data_out_0", "missing")
    for section in ("args", "results"):
        for name, entry in _tensors(common[section]):
            _check_tensor(node, f"common.{section}.{name}", entry)


def _check_parameters(graph: MaseGraph, node: fx.Node, common: CommonMeta) -> None:
    """A module's parameter entries describe the module the node calls now."""
    if node.op != "call_module":
        return
    for name, parameter in graph.model.get_submodule(str(node.target)).named_parameters():
        entry = common.args.get(name)
        if not isinstance(entry, TensorMeta):
            raise _fail(node, f"common.args.{name}", "missing for a parameter of the module")
        if list(entry.shape) != list(parameter.shape):
            raise _fail(node, f"common.args.{name}.shape",
                        f"is {entry.shape} but the module's {name} is {list(parameter.shape)}; "
                        "re-run add_common_metadata_analysis_pass")


def _tensor_out(source: fx.Node) -> TensorMeta | None:
    """The tensor a node produces (its ``data_out_0``), or None when it produces something else."""
    if "mase" not in source.meta:
        return None
    produced = source.meta["mase"].parameters.common.results.get("data_out_0")
    return produced if isinstance(produced, TensorMeta) and produced.torch_dtype is not None else None


def _flat_nodes(value: Any) -> list[fx.Node]:
    if isinstance(value, fx.Node):
        return [value]
    if isinstance(value, (list, tuple)):
        return [n for item in value for n in _flat_nodes(item)]
    return []


def _producers(node: fx.Node, count: int) -> list[fx.Node] | None:
    """The nodes feeding ``data_in_0 .. data_in_{count-1}``, when that pairing is unambiguous."""
    inputs = [source for source in _flat_nodes(node.args) if _tensor_out(source) is not None]
    if len(inputs) != count:
        inputs = [source for source in inputs if source.op != "get_attr"]  # parameters of functional ops
    return inputs if len(inputs) == count else None


def _check_edges(node: fx.Node, common: CommonMeta) -> None:
    data_in = [(name, entry) for name, entry in _tensors(common.args) if name.startswith("data_in_")]
    producers = _producers(node, len(data_in))
    for (name, entry), source in zip(data_in, producers or ()):
        produced = _tensor_out(source)
        if list(entry.shape) != list(produced.shape) or entry.torch_dtype != produced.torch_dtype:
            raise _fail(node, f"common.args.{name}",
                        f"is {entry.shape} {entry.torch_dtype} but its input '{source.name}' produces "
                        f"{produced.shape} {produced.torch_dtype}")


def verify_common_metadata_analysis_pass(graph: MaseGraph,
                                         pass_args: dict[str, Any] | None = None) -> PassResult:
    """Check every node's common metadata (takes no arguments); ``info["nodes"]`` counts the nodes checked."""
    check_pass_args(PASS, pass_args, Options())
    nodes = list(graph.fx_graph.nodes)
    for node in nodes:
        common = _common(node)
        _check_kind(node, common)
        _check_sections(node, common)
        _check_parameters(graph, node, common)
    for node in nodes:
        _check_edges(node, node.meta["mase"].parameters.common)
    return PassResult(graph, {"nodes": len(nodes)})
