"""``fold_batchnorm_transform_pass``: merge batch norms into neighbouring linear layers of a float graph.

Folding before quantisation makes the model the user quantises (and fine-tunes) the one the
hardware computes: preparation then has nothing left to fold, so the prepared graph rounds exactly
where the quantised model does. A batch norm folds into the linear it directly follows (the linear
has no other user) or directly precedes (the batch norm has no other user); the folded graph
computes what the original computes in eval mode (running statistics), up to float rounding.
The result is a new graph with common metadata; the input graph is left as it was.
"""

from __future__ import annotations

import copy
from typing import Any

from torch import fx, nn

from chop.errors import PassError
from chop.hardware.prepare.fold import Fold, batch_norm_affine, fold_batch_norms, fold_pairs
from chop.ir.graph.mase_graph import MaseGraph
from chop.ir.graph.ops import classify
from chop.passes.graph.pass_args import check_pass_args
from chop.passes.graph.pass_result import PassResult
from chop.passes.graph.transforms.hardware.graph_metadata import dummy_sample, with_metadata
from chop.quantized import QuantizedModule
from chop.tools.options import Options

PASS = "fold_batchnorm_transform_pass"


def fold_batchnorm_transform_pass(graph: MaseGraph, pass_args: dict[str, Any] | None = None) -> PassResult:
    """``PassResult(folded graph, {"folded": [{"batch_norm", "into", "side"}, ...]})``; takes no options."""
    check_pass_args(PASS, pass_args, Options())
    module = copy.deepcopy(graph.model)
    modules = dict(module.named_modules())
    folds = fold_pairs(list(module.graph.nodes), lambda node: classify(node, modules)[1])
    involved = {node for fold in folds for node in (fold.batch_norm, fold.linear)}
    for node in module.graph.nodes:
        if node in involved and isinstance(modules[str(node.target)], QuantizedModule):
            raise PassError(f"{PASS}: node '{node.name}' is already quantised; fold before quantising "
                                f"(prepare_hardware_transform_pass folds quantised graphs itself)")
    by_linear: dict[fx.Node, dict[str, fx.Node]] = {}
    for fold in folds:
        by_linear.setdefault(fold.linear, {})[fold.side] = fold.batch_norm
    for linear_node, sides in by_linear.items():
        _fold_one(module, modules, linear_node, sides)
    module.graph.lint()
    module.recompile()
    folded = with_metadata(module, dummy_sample(PASS, graph), hardware=False)
    return PassResult(folded, {"folded": [_describe(fold) for fold in folds]})


def _describe(fold: Fold) -> dict[str, str]:
    return {"batch_norm": fold.batch_norm.name, "into": fold.linear.name, "side": fold.side}


def _fold_one(module: fx.GraphModule, modules: dict[str, nn.Module], linear_node: fx.Node,
              sides: dict[str, fx.Node]) -> None:
    """Replace the linear by one with the folded weights; drop the batch norm nodes and modules."""
    linear = modules[str(linear_node.target)]
    assert isinstance(linear, nn.Linear)
    affines = {}
    for side, node in sides.items():
        bn = modules[str(node.target)]
        assert isinstance(bn, nn.BatchNorm1d)
        affines[side] = batch_norm_affine(bn, node.name)
    weight, bias = fold_batch_norms(linear.weight, linear.bias, affines.get("before"), affines.get("after"))
    merged = nn.Linear(linear.in_features, linear.out_features, bias=True, dtype=linear.weight.dtype)
    merged.weight.data.copy_(weight)
    merged.bias.data.copy_(bias)
    parent_name, _, child = str(linear_node.target).rpartition(".")
    setattr(module.get_submodule(parent_name) if parent_name else module, child, merged)
    if "after" in sides:
        sides["after"].replace_all_uses_with(linear_node)
    if "before" in sides:
        linear_node.args = (sides["before"].args[0], *linear_node.args[1:])
    for node in sides.values():
        module.graph.erase_node(node)
        module.delete_submodule(str(node.target))
