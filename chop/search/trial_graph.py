"""The graph a search trial quantises: a copy of only what the quantise pass changes.

A deep copy of the traced float graph per trial was half of ``ch search``'s time: fx copies the
whole module tree and regenerates its code, and every node's metadata is copied. The quantise
pass changes three things, and this copy gives the trial its own version of exactly those:
  - submodules it swaps for quantised twins: ``fx.GraphModule(float_model, graph)`` builds fresh
    container modules and shares the leaf modules, so a swap lands in the copy's containers; the
    twins read the float weights, and evaluation runs under ``no_grad``;
  - function nodes it retargets: the copy has its own ``fx.Graph``;
  - the formats it records in the metadata of the nodes it quantises: those nodes get a copy of
    their metadata, the others share the float graph's, which nothing writes to.
An evaluation in training mode (``eval_mode = false``) updates BatchNorm statistics in the shared
leaf modules, so that case takes a full deep copy.
"""

from __future__ import annotations

import copy
from collections.abc import Collection

from torch import fx

from chop.ir.graph.mase_graph import MaseGraph
from chop.ir.graph.mase_metadata import MaseMetadata


def trial_graph(graph: MaseGraph, quantised: Collection[str], shares_modules: bool) -> MaseGraph:
    """A copy of ``graph`` whose quantisation at the nodes named ``quantised`` leaves ``graph`` as it was.

    ``shares_modules=False`` (training-mode evaluation) deep-copies everything.
    """
    if not shares_modules:
        return copy.deepcopy(graph)
    nodes = fx.Graph()
    nodes.output(nodes.graph_copy(graph.fx_graph, {}))
    model = fx.GraphModule(graph.model, nodes, class_name=type(graph.model).__name__)
    for old, new in zip(graph.fx_graph.nodes, nodes.nodes, strict=True):
        if "mase" in old.meta:
            parameters = old.meta["mase"].parameters
            new.meta = dict(old.meta)
            new.meta["mase"] = MaseMetadata(new, model, copy.deepcopy(parameters) if old.name in quantised
                                            else parameters)
    return MaseGraph(model)
