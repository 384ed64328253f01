"""``add_hardware_metadata_analysis_pass``: placeholder hardware fields (no hardware generation yet)."""

from __future__ import annotations

from typing import Any

from chop.ir.graph.mase_graph import MaseGraph
from chop.ir.graph.mase_metadata import HardwareMeta, TensorMeta
from chop.passes.graph.pass_args import COMMON_METADATA_OPTIONS, check_pass_args, require_metadata
from chop.passes.graph.pass_result import PassResult
from chop.tools.options import Option, Options

IMPLICIT_TYPES = ("implicit_func", "placeholder", "get_attr", "output")


OPTIONS = Options(Option("toolchain", default="INTERNAL_RTL")) + COMMON_METADATA_OPTIONS


def add_hardware_metadata_analysis_pass(graph: MaseGraph, pass_args: dict[str, Any] | None = None) -> PassResult:
    """Fill ``hardware`` with MASE's default fields.

    ``is_implicit`` marks nodes that need no hardware block; ``toolchain`` is MASE's internal RTL
    library; ``interface`` and ``parallelism`` hold one entry per tensor operand (on-chip storage,
    not transposed; fully parallel over the last dimension), which a hardware flow would refine.
    Argument: ``toolchain`` (default ``"INTERNAL_RTL"``); the common pass's arguments (``dummy_in``...),
    which MASE code also hands this pass, are ignored with a warning.
    """
    args = check_pass_args("add_hardware_metadata_analysis_pass", pass_args, OPTIONS)
    require_metadata("add_hardware_metadata_analysis_pass", graph)
    toolchain = str(args["toolchain"])
    for node in graph.fx_graph.nodes:
        parameters = node.meta["mase"].parameters
        common = parameters.common
        implicit = common.mase_type in IMPLICIT_TYPES
        tensors = {name: entry for name, entry in {**common.args, **common.results}.items()
                   if isinstance(entry, TensorMeta) and entry.torch_dtype is not None}
        parameters.hardware = HardwareMeta(
            is_implicit=implicit,
            toolchain=None if implicit else toolchain,
            module=None if implicit else common.mase_op,
            device_id=-1,
            interface={name: {"storage": "BRAM", "transpose": False} for name, e in tensors.items() if e.is_parameter},
            parallelism={name: list(e.shape[-1:]) for name, e in tensors.items()},
        )
    return PassResult(graph, {})
