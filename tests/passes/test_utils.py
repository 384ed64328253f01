"""chop.passes.graph.utils: MASE's helpers, with MASE's results (a module swap as in lab 4)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from chop.errors import PassError
from chop.ir.graph.mase_graph import MaseGraph
from chop.models import get_model
from chop.passes.graph.utils import (
    deepcopy_mase_graph,
    get_mase_op,
    get_mase_type,
    get_node_actual_target,
    get_parent_name,
)

atoms = st.text(alphabet="abcdefghij_0123456789", min_size=1, max_size=6)


@given(st.lists(atoms, min_size=1, max_size=5))
def test_parent_name_splits_at_the_last_dot(parts: list[str]) -> None:
    parent, name = get_parent_name(".".join(parts))
    assert (parent, name) == (".".join(parts[:-1]), parts[-1])


def test_parent_name_swaps_a_nested_module_as_in_lab_4() -> None:
    mg = MaseGraph(get_model("jsc-tiny"))
    parent, name = get_parent_name(mg.node("seq_blocks_2").target)
    assert (parent, name) == ("seq_blocks", "2")
    setattr(mg.modules[parent], name, nn.Linear(16, 10))
    assert mg.modules["seq_blocks.2"].out_features == 10
    assert get_node_actual_target(mg.node("seq_blocks_2")) is mg.modules["seq_blocks.2"]


def test_mase_op_type_and_actual_target(make_graph, small_model, seeded) -> None:
    model, x = small_model("functional")
    mg = make_graph(model, x)
    assert [(n.name, get_mase_type(n), get_mase_op(n)) for n in mg.nodes if n.name in ("fc", "cat", "relu")] == [
        ("cat", "builtin_func", "cat"), ("relu", "module_related_func", "relu"), ("fc", "module_related_func", "linear")]
    assert get_node_actual_target(mg.node("relu")) is F.relu
    assert get_node_actual_target(mg.node("fc")) is mg.model.fc
    assert get_node_actual_target(mg.node("x")) == "x"
    view = next(n for n in mg.nodes if n.op == "call_method" and n.target == "view")
    assert get_node_actual_target(view) == "view"


def test_without_metadata() -> None:
    mg = MaseGraph(get_model("jsc-tiny"))
    assert get_node_actual_target(mg.node("seq_blocks_0")) is mg.modules["seq_blocks.0"]
    with pytest.raises(PassError, match=r"^node 'seq_blocks_0' has no metadata \(no 'mase_op'\); "
                                        r"run init_metadata_analysis_pass"):
        get_mase_op(mg.node("seq_blocks_0"))


def test_deepcopy_is_independent(make_graph, seeded) -> None:
    mg = make_graph(get_model("jsc-tiny"), torch.randn(2, 16))
    copy = deepcopy_mase_graph(mg)
    assert [n.name for n in copy.nodes] == [n.name for n in mg.nodes]
    copy.node("seq_blocks_2").meta["mase"]["common"]["mase_op"] = "changed"
    copy.modules["seq_blocks.2"].weight.data.zero_()
    assert get_mase_op(mg.node("seq_blocks_2")) == "linear"
    assert mg.modules["seq_blocks.2"].weight.abs().sum() > 0
    assert get_node_actual_target(copy.node("seq_blocks_2")) is copy.modules["seq_blocks.2"]
