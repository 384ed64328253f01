"""``init_metadata_analysis_pass``: give every node an empty ``node.meta["mase"]``."""

from __future__ import annotations

from typing import Any

from chop.ir.graph.mase_graph import MaseGraph, attach_metadata
from chop.passes.graph.pass_args import check_pass_args
from chop.passes.graph.pass_result import PassResult
from chop.tools.options import Options


def init_metadata_analysis_pass(graph: MaseGraph, pass_args: dict[str, Any] | None = None) -> PassResult:
    """Attach fresh metadata records to every node (MASE's first pass; takes no arguments)."""
    check_pass_args("init_metadata_analysis_pass", pass_args, Options())
    attach_metadata(graph)
    return PassResult(graph, {})
