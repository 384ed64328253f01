"""``load_mase_graph_interface_pass``: a MaseGraph back from a directory written by the save pass."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import fx

from chop.errors import ModelError, PassError
from chop.ir.graph.mase_graph import MaseGraph
from chop.passes.graph.interface.meta_codec import restore
from chop.passes.graph.interface.save_mase_graph import GRAPH_FILE, META_FILE, STATE_FILE
from chop.passes.graph.pass_args import check_pass_args
from chop.passes.graph.pass_result import PassResult
from chop.tools.options import Option, Options


def load_graph_module(path: str | Path) -> fx.GraphModule:
    """The ``fx.GraphModule`` of a ``.mz`` file (or of a directory holding ``graph_module.mz``).

    ``.mz`` files are pickles (the graph's code and module classes), so load only files you trust.
    """
    path = Path(path)
    file = path / GRAPH_FILE if path.is_dir() else path
    if not file.is_file():
        raise ModelError(f"no saved graph at {file}: expected a directory holding {GRAPH_FILE} or a .mz file")
    try:
        module = torch.load(file, map_location="cpu", weights_only=False)
    except Exception as error:  # a corrupt or foreign file: say which, in one line
        raise ModelError(f"cannot read saved graph {file}: {type(error).__name__}: {error}") from error
    if not isinstance(module, fx.GraphModule):
        raise ModelError(f"{file} holds a {type(module).__name__}, not a saved graph module (torch.fx.GraphModule)")
    return module


def restore_node_names(module: fx.GraphModule, names: list[str], source: str) -> None:
    """Give the nodes of a re-traced graph their saved names (same nodes, same order).

    Unpickling a GraphModule re-traces its code, and a node that called a swapped-in function
    (``add`` → ``add_integer``) comes back named after the function; metadata is keyed by name.
    """
    nodes = list(module.graph.nodes)
    if [n.name for n in nodes] == names:
        return
    if len(nodes) != len(names):
        raise ModelError(f"{source} lists {len(names)} nodes but the saved graph has {len(nodes)}")
    graph = fx.Graph(tracer_cls=module.graph._tracer_cls)  # noqa: SLF001 (kept so the module pickles again)
    copies: dict[fx.Node, fx.Node] = {}
    for node, name in zip(nodes, names):
        copies[node] = graph.create_node(node.op, node.target, fx.map_arg(node.args, copies.__getitem__),
                                         fx.map_arg(node.kwargs, copies.__getitem__), name=name, type_expr=node.type)
    module.graph = graph
    module.recompile()


def load_mase_graph_interface_pass(graph: MaseGraph | None = None,
                                   pass_args: dict[str, Any] | None = None) -> PassResult:
    """Load ``load_dir`` (a directory or its ``graph_module.mz``): the graph, the state dict if present,
    and the node metadata if present. The ``graph`` argument is ignored (MASE's signature)."""
    args = check_pass_args("load_mase_graph_interface_pass", pass_args, Options(Option("load_dir")))
    if not args["load_dir"]:
        raise PassError("load_mase_graph_interface_pass needs pass_args['load_dir'] (a directory or .mz file)")
    path = Path(args["load_dir"])
    directory = path if path.is_dir() else path.parent
    module = load_graph_module(path)
    state_file = directory / STATE_FILE
    if state_file.is_file():
        try:
            module.load_state_dict(torch.load(state_file, map_location="cpu", weights_only=True))
        except Exception as error:
            raise ModelError(f"{state_file} does not fit the saved graph: {error}") from error
    meta_file = directory / META_FILE
    saved = torch.load(meta_file, map_location="cpu", weights_only=False) if meta_file.is_file() else {}
    if saved.get("order"):
        restore_node_names(module, list(saved["order"]), str(meta_file))
    loaded = MaseGraph(module)
    restore(loaded, saved.get("nodes", {}), str(meta_file))
    return PassResult(loaded, {"load_dir": str(directory)})
