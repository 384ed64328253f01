"""``add_hardware_metadata_analysis_pass``: MASE's hardware fields with real values.

MASE's flow runs it right after the common metadata, before quantisation: each node then gets the
component that will implement it (``linear`` -> ``fixed_linear``, ``relu`` -> ``fixed_relu``,
``batch_norm1d`` -> ``fixed_affine``, ``add`` -> ``fixed_add``), toolchain ``"INTERNAL"``, its
component files, on-chip storage for its constants, and ``verilog_param`` from the shapes and
precisions known so far. On a prepared graph (``prepare_hardware_transform_pass`` runs it) the
twins give their exact formats, accumulators included. The field meanings are in
:mod:`chop.hardware.prepare.metadata`.
"""

from __future__ import annotations

from typing import Any

from chop.hardware.prepare.metadata import TOOLCHAIN, hardware_meta
from chop.ir.graph.mase_graph import MaseGraph
from chop.passes.graph.pass_args import COMMON_METADATA_OPTIONS, check_pass_args, require_metadata
from chop.passes.graph.pass_result import PassResult
from chop.quantized import node_quantizers
from chop.tools.options import Option, Options

OPTIONS = Options(Option("toolchain", default=TOOLCHAIN)) + COMMON_METADATA_OPTIONS


def add_hardware_metadata_analysis_pass(graph: MaseGraph, pass_args: dict[str, Any] | None = None) -> PassResult:
    """Fill ``hardware`` for every node.

    ``is_implicit`` marks nodes that need no hardware block (input, output, shape plumbing); an op
    with no hardware twin gets toolchain ``"UNSUPPORTED"`` and no module. Argument: ``toolchain``
    (default ``"INTERNAL"``) for the ops machop emits; the common pass's arguments (``dummy_in``...),
    which MASE code also hands this pass, are ignored with a warning.
    """
    args = check_pass_args("add_hardware_metadata_analysis_pass", pass_args, OPTIONS)
    require_metadata("add_hardware_metadata_analysis_pass", graph)
    toolchain = str(args["toolchain"])
    modules = graph.modules
    for node in graph.fx_graph.nodes:
        parameters = node.meta["mase"].parameters
        module = modules.get(str(node.target)) if node.op == "call_module" else None
        parameters.hardware = hardware_meta(parameters.common, module, node_quantizers(graph.model, node), toolchain)
    return PassResult(graph, {})
