"""``save_mase_graph_interface_pass``: a MaseGraph to ``graph_module.mz`` + ``state_dict.pt`` + ``node_meta.pt``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chop.errors import PassError
from chop.ir.graph.mase_graph import MaseGraph
from chop.passes.graph.interface.meta_codec import collect
from chop.passes.graph.pass_args import check_pass_args
from chop.passes.graph.pass_result import PassResult
from chop.tools.atomic import atomic_torch_save
from chop.tools.options import Option, Options

GRAPH_FILE = "graph_module.mz"
STATE_FILE = "state_dict.pt"
META_FILE = "node_meta.pt"
META_FORMAT = 1


def save_mase_graph_interface_pass(graph: MaseGraph, pass_args: dict[str, Any] | str | Path | None = None
                                   ) -> PassResult:
    """Write the graph module (``torch.save`` of the whole ``fx.GraphModule``), its state dict, and the node
    metadata (pickling a GraphModule drops ``node.meta``, so it travels in its own file, with the node names
    in order: re-tracing on load may name nodes after their new functions). Each write is atomic.

    Argument: ``save_dir``, or the directory itself as ``pass_args`` (MASE's form). ``info`` lists the
    three paths.
    """
    if isinstance(pass_args, (str, Path)):
        pass_args = {"save_dir": pass_args}
    args = check_pass_args("save_mase_graph_interface_pass", pass_args, Options(Option("save_dir")))
    if not args["save_dir"]:
        raise PassError("save_mase_graph_interface_pass needs pass_args['save_dir'] (a directory)")
    save_dir = Path(args["save_dir"])
    if save_dir.exists() and not save_dir.is_dir():
        raise PassError(f"save_mase_graph_interface_pass: save_dir {save_dir} exists and is not a directory")
    paths = {"graph_module": save_dir / GRAPH_FILE, "state_dict": save_dir / STATE_FILE, "node_meta": save_dir / META_FILE}
    atomic_torch_save(graph.model, paths["graph_module"])
    atomic_torch_save(graph.model.state_dict(), paths["state_dict"])
    order = [node.name for node in graph.fx_graph.nodes]
    atomic_torch_save({"format": META_FORMAT, "order": order, "nodes": collect(graph)}, paths["node_meta"])
    return PassResult(graph, {name: str(path) for name, path in paths.items()})
