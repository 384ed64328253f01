"""MaseGraph: a torch.fx trace of a model, with MASE's public attributes and typed node metadata."""

from __future__ import annotations

import copy
import linecache
import shutil
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import torch
from torch import fx, nn

from chop.errors import MachopError, ModelError, PassError, unknown
from chop.ir.graph.mase_metadata import MaseMetadata, Parameters
from chop.models.input_shape import declared_input_shape


class GraphTraceError(ModelError):
    """torch.fx could not trace the model (usually data-dependent control flow)."""


class _MaseTracer(fx.Tracer):
    """fx tracer that also keeps the user's leaf module classes opaque.

    Default-constructible: loading a pickled GraphModule re-traces with a subclass of it.
    """

    def __init__(self, leaf_modules: tuple[type[nn.Module], ...] = (),
                 leaf_functions: tuple[Callable[..., Any], ...] = ()) -> None:
        super().__init__(autowrap_functions=leaf_functions)
        self.leaf_modules = leaf_modules

    def is_leaf_module(self, module: nn.Module, qualname: str) -> bool:
        return isinstance(module, self.leaf_modules) or super().is_leaf_module(module, qualname)


def _where_tracing_failed(model: nn.Module, error: BaseException) -> tuple[str, str, str] | None:
    """(module name, class name, 'FILE:LINE `code`') of the innermost user frame of the failure."""
    names = {id(m): name for name, m in model.named_modules()}
    torch_dir = str(Path(torch.__file__).parent)
    found = None
    for frame, line in traceback.walk_tb(error.__traceback__):
        filename = frame.f_code.co_filename
        owner = frame.f_locals.get("self")
        if filename.startswith(torch_dir) or not isinstance(owner, nn.Module) or id(owner) not in names:
            continue
        code = linecache.getline(filename, line).strip()
        found = (names[id(owner)], type(owner).__name__, f"{filename}:{line} `{code}`")
    return found


def trace(model: nn.Module, cf_args: dict[str, Any] | None = None,
          leaf_modules: Iterable[type[nn.Module]] = (), leaf_functions: Iterable[Callable[..., Any]] = ()) -> fx.GraphModule:
    """Trace ``model``; ``cf_args`` are concrete (non-traced) forward arguments, as in ``concrete_args``."""
    tracer = _MaseTracer(tuple(leaf_modules), tuple(leaf_functions))
    try:
        graph = tracer.trace(model, concrete_args=cf_args)
    except Exception as error:  # fx raises TraceError, TypeError, RuntimeError...: all mean "not traceable"
        text = str(error).strip()
        reason = text.splitlines()[0] if text else type(error).__name__
        where = _where_tracing_failed(model, error)
        if where is None:
            raise GraphTraceError(f"cannot trace {type(model).__name__}: {reason}") from error
        name, cls, location = where
        if name:
            hint = f"mark it as a leaf: MaseGraph(model, leaf_modules=[{cls}])"
        else:
            hint = "move the data-dependent code into a submodule and mark that as a leaf (leaf_modules=[...])"
        raise GraphTraceError(f"cannot trace {type(model).__name__}: module '{name or '<root>'}' ({cls}) "
                              f"at {location}: {reason}; {hint}") from error
    graph_module = fx.GraphModule(tracer.root, graph, type(model).__name__)
    shape = declared_input_shape(model)
    if shape is not None:  # the traced graph carries the shape, into a saved .mz too
        graph_module.input_shape = shape
    return graph_module


def _drop_string_annotations(graph_module: fx.GraphModule) -> None:
    """Forget type annotations that are strings (``from __future__ import annotations``).

    fx would put the string into the generated code's globals, and pickling the GraphModule
    (``torch.save``, the ``.mz`` format) then fails inside torch.
    """
    changed = False
    for node in graph_module.graph.nodes:
        if isinstance(node.type, str):
            node.type = None
            changed = True
    if changed:
        graph_module.recompile()


class MaseGraph:
    """A traced model. ``MaseGraph(model)`` traces; a ``GraphModule`` is used as it is.

    ``leaf_modules`` (classes) and ``leaf_functions`` stay opaque calls in the graph, which is how
    code with data-dependent control flow is kept traceable.
    """

    def __init__(self, model: nn.Module, cf_args: dict[str, Any] | None = None,
                 leaf_modules: Iterable[type[nn.Module]] = (), leaf_functions: Iterable[Callable[..., Any]] = ()) -> None:
        if not isinstance(model, nn.Module):
            raise ModelError(f"MaseGraph expects a torch.nn.Module, got {type(model).__name__}")
        self.model = model if isinstance(model, fx.GraphModule) else trace(model, cf_args, leaf_modules, leaf_functions)
        _drop_string_annotations(self.model)

    @classmethod
    def from_qonnx(cls, path: str | Path) -> MaseGraph:
        """A QONNX MLP (Quant nodes with power-of-two scales) as a quantised MaseGraph.

        ``chop.passes.graph.interface.load_qonnx`` says what is read: the graph is built from torch
        modules and quantised by machop's own passes, so its metadata is theirs.
        """
        from chop.passes.graph.interface.load_qonnx import load_qonnx_graph

        return load_qonnx_graph(path)

    @property
    def fx_graph(self) -> fx.Graph:
        return self.model.graph

    @fx_graph.setter
    def fx_graph(self, graph: fx.Graph) -> None:
        self.model.graph = graph

    @property
    def nodes(self) -> list[fx.Node]:
        return list(self.model.graph.nodes)

    @property
    def modules(self) -> dict[str, nn.Module]:
        return dict(self.model.named_modules())

    def node(self, name: str) -> fx.Node:
        """The node called ``name``; a clear error listing the names otherwise."""
        for node in self.model.graph.nodes:
            if node.name == name:
                return node
        raise PassError(unknown("node", name, [n.name for n in self.model.graph.nodes]))

    def __deepcopy__(self, memo: dict[int, Any]) -> MaseGraph:
        """Deep copy with each copied node owning a copy of its metadata (fx shares ``meta`` dicts' values)."""
        model = copy.deepcopy(self.model, memo)
        for old, new in zip(self.model.graph.nodes, model.graph.nodes):
            if "mase" in old.meta:
                new.meta = dict(new.meta)
                new.meta["mase"] = MaseMetadata(new, model, copy.deepcopy(old.meta["mase"].parameters, memo))
        clone = MaseGraph.__new__(MaseGraph)
        clone.model = model
        return clone

    def draw(self, path: str | Path) -> Path:
        """Draw the graph with graphviz: ``.dot`` is written directly, other suffixes (svg, png, pdf) need ``dot``."""
        path = Path(path)
        try:
            import pydot
        except ImportError:
            raise MachopError("drawing a graph needs pydot: pip install 'machop[graph]'") from None
        suffix = path.suffix.lstrip(".").lower() or "dot"
        if suffix != "dot" and shutil.which("dot") is None:
            raise MachopError(f"cannot draw {path}: graphviz's 'dot' program is not installed "
                              "(e.g. apt install graphviz); or draw to a .dot file")
        dot = pydot.Dot(self.model.__class__.__name__, graph_type="digraph", rankdir="TB")
        for node in self.model.graph.nodes:
            label = f"{node.name}\\n{node.op}"
            if "mase" in node.meta and node.meta["mase"]["common"]["mase_op"]:
                label += f"\\n{node.meta['mase']['common']['mase_op']}"
            dot.add_node(pydot.Node(node.name, label=f'"{label}"', shape="box"))
            for source in node.all_input_nodes:
                dot.add_edge(pydot.Edge(source.name, node.name))
        from chop.tools.atomic import atomic_write

        data = dot.to_string().encode() if suffix == "dot" else dot.create(format=suffix)
        atomic_write(path, lambda handle: handle.write(data))
        return path


def attach_metadata(graph: MaseGraph) -> None:
    """Give every node a fresh, empty ``node.meta["mase"]``."""
    for node in graph.model.graph.nodes:
        node.meta["mase"] = MaseMetadata(node, graph.model, Parameters())
