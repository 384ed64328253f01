"""MASE's graph helpers (``chop.passes.graph.utils``), which lab code imports to write its own passes.

Same names and results as MASE's; reading metadata that is not there is a one-line ``PassError``
naming the node and the pass to run, instead of a ``KeyError``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from torch import fx, nn

from chop.errors import PassError
from chop.ir.graph.mase_graph import MaseGraph


def get_parent_name(target: str) -> tuple[str, str]:
    """Split a qualified name into its parent path and last atom: ``"a.b.c"`` → ``("a.b", "c")``.

    A top-level name has parent ``""``, so ``setattr(graph.modules[parent], name, new)`` swaps a
    module wherever it sits (``graph.modules[""]`` is the root).
    """
    parent, _, name = str(target).rpartition(".")
    return parent, name


def deepcopy_mase_graph(mase_graph: MaseGraph) -> MaseGraph:
    """An independent copy of the graph, its modules and every node's metadata.

    Transform passes change the graph in place; labs keep the original (``ori_mg``) for comparison.
    """
    return copy.deepcopy(mase_graph)


def _common(node: fx.Node, field: str) -> Any:
    meta = node.meta.get("mase")
    if meta is None:
        raise PassError(f"node '{node.name}' has no metadata (no '{field}'); run init_metadata_analysis_pass "
                        "and add_common_metadata_analysis_pass first")
    return meta.parameters["common"][field]


def get_mase_op(node: fx.Node) -> str | None:
    """The node's ``common.mase_op`` (e.g. ``"linear"``); None until the common pass has run."""
    return _common(node, "mase_op")


def get_mase_type(node: fx.Node) -> str | None:
    """The node's ``common.mase_type`` (e.g. ``"module_related_func"``); None until the common pass has run."""
    return _common(node, "mase_type")


def get_node_actual_target(node: fx.Node) -> nn.Module | Callable[..., Any] | str:
    """What the node calls: the ``nn.Module`` of a ``call_module`` node (looked up live, so a swapped
    module is seen), else ``node.target`` (the function, method name or attribute path)."""
    if node.op != "call_module":
        return node.target
    meta = node.meta.get("mase")
    if meta is not None:
        return meta.module
    return node.graph.owning_module.get_submodule(str(node.target))
