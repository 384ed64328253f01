"""``report_node_meta_param_analysis_pass``: a grid table of the chosen metadata sections per node."""

from __future__ import annotations

from collections.abc import Sequence
from pprint import pformat
from typing import Any

from tabulate import tabulate

from chop.errors import PassError
from chop.ir.graph.mase_graph import MaseGraph
from chop.ir.graph.mase_metadata import to_plain
from chop.passes.graph.pass_args import check_pass_args, require_metadata
from chop.passes.graph.pass_result import PassResult
from chop.tools.atomic import atomic_write_text
from chop.tools.options import Option, Options

SECTIONS = {"common": "Common Param", "hardware": "Hardware Param", "software": "Software Param"}


def _without_values(value: Any) -> Any:
    """Metadata for display: tensor ``value`` entries are dropped (they would swamp the table)."""
    if isinstance(value, dict):
        return {k: _without_values(v) for k, v in value.items() if k != "value"}
    if isinstance(value, list):
        return [_without_values(v) for v in value]
    return value


def _sections(which: Sequence[str]) -> list[str]:
    if isinstance(which, str) or not isinstance(which, (list, tuple)):
        raise PassError(f"report_node_meta_param_analysis_pass: 'which' must be a tuple or list such as "
                        f"('software',), got {which!r}")
    for name in which:
        if name not in ("all", *SECTIONS):
            raise PassError(f"report_node_meta_param_analysis_pass: unknown section '{name}' in 'which'; "
                            "choose from all, common, hardware, software")
    return [s for s in SECTIONS if s in which or "all" in which]


OPTIONS = Options(Option("which", default=("all",)), Option("save_path"))


def report_node_meta_param_analysis_pass(graph: MaseGraph, pass_args: dict[str, Any] | None = None) -> PassResult:
    """Print the table (and write it to ``save_path`` if given). ``which`` ⊆ {all, common, hardware, software}."""
    args = check_pass_args("report_node_meta_param_analysis_pass", pass_args, OPTIONS)
    require_metadata("report_node_meta_param_analysis_pass", graph)
    sections = _sections(args["which"])
    headers = ["Node name", "Fx Node op", "Mase type", "Mase op"] + [SECTIONS[s] for s in sections]
    rows = []
    for node in graph.fx_graph.nodes:
        parameters = node.meta["mase"].parameters
        row = [node.name, node.op, parameters.common.mase_type, parameters.common.mase_op]
        row += [pformat(_without_values(to_plain(parameters[s])), width=100, sort_dicts=False) for s in sections]
        rows.append(row)
    table = tabulate(rows, headers=headers, tablefmt="grid", disable_numparse=True)
    print(table)
    if args["save_path"]:
        atomic_write_text(args["save_path"], table + "\n")
    return PassResult(graph, {"table": table})
