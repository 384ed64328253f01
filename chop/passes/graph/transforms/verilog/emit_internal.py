"""``emit_internal_rtl_transform_pass``: the shared components into ``{project_dir}/hardware/rtl/``.

machop's own components (``fixed_linear.sv``, ``fixed_requant.sv``...), one per op kind the
design uses plus the requantiser and the pipeline register: MASE's "internal" RTL library.
"""

from __future__ import annotations

from typing import Any

from chop.hardware.rtl.emit import write_sources
from chop.ir.graph.mase_graph import MaseGraph
from chop.passes.graph.pass_args import check_pass_args
from chop.passes.graph.pass_result import PassResult
from chop.passes.graph.transforms.verilog.common import PROJECT_OPTIONS, plan, rtl_dir

PASS = "emit_internal_rtl_transform_pass"


def emit_internal_rtl_transform_pass(graph: MaseGraph, pass_args: dict[str, Any] | None = None) -> PassResult:
    """Write the component files the design needs; ``info``: ``files``. Arguments: ``project_dir``, ``top_name``."""
    args = check_pass_args(PASS, pass_args, PROJECT_OPTIONS)
    files = write_sources(plan(graph, args).component_sources(), rtl_dir(args))
    return PassResult(graph, {"files": files})
