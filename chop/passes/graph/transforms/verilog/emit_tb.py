"""``emit_verilog_tb_transform_pass``: the Verilator testbench in ``{project_dir}/hardware/sim/``.

Writes the C++ harness, ``build.sh`` (builds ``obj_dir/V{top}``), the test inputs as codes
(``inputs.txt``: the graph's ``FixedInput`` quantises ``test_inputs``), the integer reference's
output codes (``expected.txt``) and ``run.sh``, which builds, runs the inputs through the RTL and
exits non-zero when any row differs from the reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from chop.errors import PassError
from chop.hardware.ops import FixedInput
from chop.hardware.reference import integer_reference
from chop.hardware.rtl import plan_rtl
from chop.hardware.simulate import write_testbench
from chop.ir.graph.mase_graph import MaseGraph
from chop.passes.graph.pass_args import check_pass_args
from chop.passes.graph.pass_result import PassResult
from chop.passes.graph.transforms.verilog.common import PROJECT_OPTIONS, prepared_module, rtl_dir, sim_dir
from chop.tools.options import Option, Options

PASS = "emit_verilog_tb_transform_pass"
OPTIONS = PROJECT_OPTIONS + Options(
    Option("test_inputs", (list, tuple)),
    Option("trans_num", int, 1),
    Option("linear_impl", str, "machop"),
)


def _inputs(test_inputs: Sequence[Any] | None, trans_num: int) -> Tensor:
    """The first ``trans_num`` batches of ``test_inputs``, as one batch of real inputs."""
    if not test_inputs:
        raise PassError(f"{PASS}: give test_inputs, a list of input batches, e.g. {{'test_inputs': [x]}}")
    if not 1 <= trans_num <= len(test_inputs):
        raise PassError(f"{PASS}: trans_num = {trans_num}, but test_inputs holds {len(test_inputs)} batches")
    return torch.cat([torch.as_tensor(batch) for batch in test_inputs[:trans_num]])


def emit_verilog_tb_transform_pass(graph: MaseGraph, pass_args: dict[str, Any] | None = None) -> PassResult:
    """Write the testbench; ``info``: ``sim_dir``, ``files``, ``rows``.

    Arguments: ``test_inputs`` (a list of input batches, real values), ``trans_num`` (how many of
    them, default 1), ``project_dir``, ``top_name``, ``linear_impl`` (as given to
    ``emit_verilog_top_transform_pass``: the build then lists da4ml's files).
    """
    args = check_pass_args(PASS, pass_args, OPTIONS)
    x = _inputs(args["test_inputs"], args["trans_num"])
    prepared = prepared_module(graph)
    design = plan_rtl(prepared, top_name=args["top_name"], linear_impl=args["linear_impl"]).design(rtl_dir(args))
    first = next(m for m in prepared.modules() if isinstance(m, FixedInput))
    files = write_testbench(design, sim_dir(args), first.integer_forward(x), integer_reference(prepared, x))
    return PassResult(graph, {"sim_dir": sim_dir(args), "files": files, "rows": len(x)})
