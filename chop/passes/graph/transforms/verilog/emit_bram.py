"""``emit_bram_transform_pass``: each layer's constants as a ``.mem`` file in ``{project_dir}/hardware/rtl/``.

MASE kept weights in block RAMs and wrote one memory file per parameter. machop's design is
fully parallel, so its constants live in the layer modules' logic; the files document the
same numbers (``$readmemh`` hex, one row per line) as ``{node}_weight.mem``, ``{node}_bias.mem``,
``{node}_scale.mem``, ``{node}_shift.mem``.
"""

from __future__ import annotations

from typing import Any

from chop.hardware.rtl.emit import write_sources
from chop.ir.graph.mase_graph import MaseGraph
from chop.passes.graph.pass_args import check_pass_args
from chop.passes.graph.pass_result import PassResult
from chop.passes.graph.transforms.verilog.common import PROJECT_OPTIONS, plan, rtl_dir

PASS = "emit_bram_transform_pass"


def emit_bram_transform_pass(graph: MaseGraph, pass_args: dict[str, Any] | None = None) -> PassResult:
    """Write one memory file per constant parameter; ``info``: ``files``. Arguments: ``project_dir``, ``top_name``."""
    args = check_pass_args(PASS, pass_args, PROJECT_OPTIONS)
    files = write_sources(plan(graph, args).memory_sources(), rtl_dir(args))
    return PassResult(graph, {"files": files})
