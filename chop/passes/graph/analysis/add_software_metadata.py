"""``add_software_metadata_analysis_pass``: empty statistics slots for every tensor operand."""

from __future__ import annotations

from typing import Any

from chop.ir.graph.mase_graph import MaseGraph
from chop.ir.graph.mase_metadata import StatMeta, TensorMeta
from chop.passes.graph.pass_args import COMMON_METADATA_OPTIONS, check_pass_args, require_metadata
from chop.passes.graph.pass_result import PassResult


def add_software_metadata_analysis_pass(graph: MaseGraph, pass_args: dict[str, Any] | None = None) -> PassResult:
    """``software = {"args": {name: {"stat": {}}}, "results": {"data_out_i": {"stat": {}}}}`` per node.

    Only tensor operands get a slot (the profiler fills them); plain arguments such as ``dim`` do not.
    MASE code hands this pass the common pass's arguments (``dummy_in``...): they are ignored, with a warning.
    """
    check_pass_args("add_software_metadata_analysis_pass", pass_args, COMMON_METADATA_OPTIONS)
    require_metadata("add_software_metadata_analysis_pass", graph)
    for node in graph.fx_graph.nodes:
        parameters = node.meta["mase"].parameters
        software = parameters.software
        software.args = {name: StatMeta() for name, entry in parameters.common.args.items()
                         if isinstance(entry, TensorMeta) and entry.torch_dtype is not None}
        software.results = {name: StatMeta() for name, entry in parameters.common.results.items()
                            if isinstance(entry, TensorMeta) and entry.torch_dtype is not None}
    return PassResult(graph, {})
