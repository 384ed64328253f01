"""``emit_verilog_top_transform_pass``: ``{project_dir}/hardware/rtl/top.sv`` and the layer modules.

The first of MASE's emit passes: it starts a new hardware output, so an earlier
``{project_dir}/hardware`` is moved aside to ``hardware-vN`` (never overwritten). ``top.sv``
instantiates one module per layer (``{node}_{op}.sv``, holding the layer's constants); the
components they use come from ``emit_internal_rtl_transform_pass``.
"""

from __future__ import annotations

from typing import Any

from chop.hardware.rtl.emit import write_sources
from chop.ir.graph.mase_graph import MaseGraph
from chop.passes.graph.pass_args import check_pass_args
from chop.passes.graph.pass_result import PassResult
from chop.passes.graph.transforms.verilog.common import PROJECT_OPTIONS, hardware_dir, plan, rtl_dir
from chop.tools.options import Option, Options
from chop.tools.versions import keep_earlier_run

PASS = "emit_verilog_top_transform_pass"
OPTIONS = PROJECT_OPTIONS + Options(
    Option("pipeline", str, "layer"),
    Option("products", str, "shared"),
    Option("linear_impl", str, "machop"),
)


def emit_verilog_top_transform_pass(graph: MaseGraph, pass_args: dict[str, Any] | None = None) -> PassResult:
    """Write ``top.sv`` and the layer modules; ``info``: ``rtl_dir``, ``files``, ``design`` (an ``RtlDesign``).

    Arguments: ``project_dir`` (default ``"top"``), ``top_name`` (``"top"``), ``pipeline``
    (``"layer"``: a register after each layer; ``"none"``; ``"split"``), ``products`` (``"shared"``:
    shift-and-add trees with sums shared across rows; ``"csd"``: one tree per row; or ``"multiply"``), ``linear_impl`` (``"machop"``, or ``"da4ml"``: linear
    layers' row sums from da4ml's adder graphs; give ``emit_verilog_tb_transform_pass`` the same).
    """
    args = check_pass_args(PASS, pass_args, OPTIONS)
    design_plan = plan(graph, args, pipeline=args["pipeline"], products=args["products"],
                       linear_impl=args["linear_impl"])
    keep_earlier_run(hardware_dir(args))
    files = write_sources(design_plan.top_sources(), rtl_dir(args))
    return PassResult(graph, {"rtl_dir": rtl_dir(args), "files": files, "design": design_plan.design(rtl_dir(args))})
