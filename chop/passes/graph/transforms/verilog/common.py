"""What MASE's four emit passes share: their options, where they write, and the prepared graph.

MASE's passes write ``{project_dir}/hardware/rtl/`` (the design) and ``{project_dir}/hardware/sim/``
(the testbench). Each pass takes either a prepared graph (every module a hardware twin, as
``prepare_hardware_transform_pass`` returns it) or a quantised graph, which it prepares itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import fx

from chop.hardware.ops import FixedInput, HardwareOp
from chop.hardware.rtl import RtlPlan, plan_rtl
from chop.ir.graph.mase_graph import MaseGraph
from chop.tools.options import Option, Options

PROJECT_OPTIONS = Options(
    Option("project_dir", (str, Path), "top"),
    Option("top_name", str, "top"),
)
"""``project_dir`` (outputs go to ``{project_dir}/hardware/``) and ``top_name`` (the top module's name)."""


def hardware_dir(args: dict[str, Any]) -> Path:
    return Path(args["project_dir"]) / "hardware"


def rtl_dir(args: dict[str, Any]) -> Path:
    return hardware_dir(args) / "rtl"


def sim_dir(args: dict[str, Any]) -> Path:
    return hardware_dir(args) / "sim"


def is_prepared(graph_module: fx.GraphModule) -> bool:
    """Whether every called module is a hardware twin and the input goes through a ``FixedInput``."""
    modules = [graph_module.get_submodule(str(n.target)) for n in graph_module.graph.nodes if n.op == "call_module"]
    return any(isinstance(m, FixedInput) for m in modules) and all(isinstance(m, HardwareOp) for m in modules)


def prepared_module(graph: MaseGraph) -> fx.GraphModule:
    """The prepared GraphModule of ``graph``: itself when already prepared, else what preparation makes."""
    if is_prepared(graph.model):
        return graph.model
    from chop.passes.graph.transforms.hardware import prepare_hardware_transform_pass

    prepared, _ = prepare_hardware_transform_pass(graph)
    return prepared.model


def plan(graph: MaseGraph, args: dict[str, Any], **options: Any) -> RtlPlan:
    """The design of ``graph`` (prepared when it is not yet) under the passes' ``top_name``."""
    return plan_rtl(prepared_module(graph), top_name=args["top_name"], **options)
