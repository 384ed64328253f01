"""``summarize_quantization_analysis_pass(ori_graph, graph, save_dir=None)``: what the quantiser changed.

Writes ``quantize_table.csv`` (one row per node, after the unnamed index column pandas'
``to_csv`` writes in MASE: ``,Ori name,...`` then ``0,x,...``) and ``quantize_histogram.csv``
(``Original type,OP,Total,Changed,Unchanged``, one row per original type, sorted by name as MASE's
pandas groupby does; OP is the mase op of the group's first node) to ``save_dir`` and logs the
histogram with the same columns. A node counts as changed when its module class or its function
differs, so replaced functions count too (MASE counted modules only).
"""

from __future__ import annotations

import csv
import io
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import Any

from torch import fx

from chop.errors import PassError
from chop.passes.graph.pass_result import PassResult
from chop.tools.atomic import atomic_write_text
from chop.tools.logger import get_logger

log = get_logger(__name__)
PASS = "summarize_quantization_analysis_pass"
TABLE_HEADER = ("Ori name", "New name", "MASE_TYPE", "Mase_OP", "Original type", "Quantized type", "Changed")
HISTOGRAM_HEADER = ("Original type", "OP", "Total", "Changed", "Unchanged")


@dataclass(frozen=True)
class NodeChange:
    ori_name: str
    new_name: str
    mase_type: str
    mase_op: str
    original_type: str
    quantized_type: str
    changed: bool


@dataclass(frozen=True)
class TypeCount:
    original_type: str
    op: str
    total: int
    changed: int
    unchanged: int


def type_name(graph: Any, node: fx.Node) -> str:
    """Module class for modules, function or method name for calls, the target for the rest (``x``, ``output``)."""
    if node.op == "call_module":
        return type(graph.model.get_submodule(str(node.target))).__name__
    if node.op in ("call_function", "call_method") and not isinstance(node.target, str):
        return getattr(node.target, "__name__", str(node.target))
    return str(node.target)


def _common(node: fx.Node, key: str) -> str:
    return str(node.meta["mase"]["common"][key]) if "mase" in node.meta else ""


def compare_graphs(ori_graph: Any, graph: Any) -> list[NodeChange]:
    ori_nodes, new_nodes = ori_graph.nodes, graph.nodes
    if len(ori_nodes) != len(new_nodes):
        raise PassError(f"{PASS}: the graphs differ in size ({len(ori_nodes)} vs {len(new_nodes)} nodes); "
                        "pass the graph as it was before quantize_transform_pass (copy.deepcopy) and after")
    rows = []
    for old, new in zip(ori_nodes, new_nodes):
        before, after = type_name(ori_graph, old), type_name(graph, new)
        rows.append(NodeChange(old.name, new.name, _common(old, "mase_type"), _common(old, "mase_op"),
                               before, after, before != after or old.op != new.op))
    return rows


def histogram(rows: list[NodeChange]) -> list[TypeCount]:
    """One count per original type; its OP is the mase op of the type's first node (pandas' ``first``)."""
    ops: dict[str, str] = {}
    counts: dict[str, list[int]] = {}
    for row in rows:
        ops.setdefault(row.original_type, row.mase_op)
        total_changed = counts.setdefault(row.original_type, [0, 0])
        total_changed[0] += 1
        total_changed[1] += int(row.changed)
    return [TypeCount(kind, ops[kind], total, changed, total - changed)
            for kind, (total, changed) in sorted(counts.items())]


def _csv(header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def format_histogram(counts: list[TypeCount]) -> str:
    """The histogram as aligned text, in the CSV's columns."""
    kind = max([len(HISTOGRAM_HEADER[0])] + [len(c.original_type) for c in counts])
    op = max([len(HISTOGRAM_HEADER[1])] + [len(c.op) for c in counts])
    lines = [f"{HISTOGRAM_HEADER[0]:<{kind}}  {'OP':<{op}}  {'Total':>5}  {'Changed':>7}  {'Unchanged':>9}"]
    lines += [f"{c.original_type:<{kind}}  {c.op:<{op}}  {c.total:>5}  {c.changed:>7}  {c.unchanged:>9}"
              for c in counts]
    return "\n".join(lines)


def summarize_quantization_analysis_pass(ori_graph: Any, graph: Any, save_dir: str | Path | None = None
                                         ) -> PassResult:
    """Compare the graph before and after quantisation; returns ``(graph, {"table", "histogram"})``."""
    rows = compare_graphs(ori_graph, graph)
    counts = histogram(rows)
    log.info("Quantized graph histogram:\n%s", format_histogram(counts))
    if save_dir is not None:
        save_dir = Path(save_dir)
        table = [(index, *astuple(row)) for index, row in enumerate(rows)]
        atomic_write_text(save_dir / "quantize_table.csv", _csv(("", *TABLE_HEADER), table))
        atomic_write_text(save_dir / "quantize_histogram.csv", _csv(HISTOGRAM_HEADER, [astuple(c) for c in counts]))
        log.info("Quantization summary saved to %s", save_dir)
    return PassResult(graph, {"table": rows, "histogram": counts})
