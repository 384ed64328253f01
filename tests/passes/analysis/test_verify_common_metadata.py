"""verify_common_metadata_analysis_pass: passes on fresh metadata, names node and field when stale or broken."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from chop.errors import PassError
from chop.ir.graph.mase_graph import MaseGraph
from chop.models import get_model
from chop.passes.graph import init_metadata_analysis_pass, verify_common_metadata_analysis_pass
from chop.passes.graph.utils import get_parent_name


@pytest.mark.parametrize("kind", ["jsc-tiny", "jsc-toy", "conv", "functional"])
def test_fresh_metadata_verifies(make_graph, small_model, seeded, kind) -> None:
    model, x = small_model(kind)
    mg = make_graph(model, x)
    _, info = verify_common_metadata_analysis_pass(mg)
    assert info == {"nodes": len(mg.nodes)}


def test_swapped_module_without_reanalysis_is_named(make_graph, seeded) -> None:
    mg = make_graph(get_model("jsc-tiny"), torch.randn(4, 16))
    parent, name = get_parent_name("seq_blocks.2")
    setattr(mg.modules[parent], name, nn.Linear(16, 10))
    with pytest.raises(PassError, match=r"^verify_common_metadata_analysis_pass: node 'seq_blocks_2' "
                                        r"common\.args\.weight\.shape: is \[5, 16\] but the module's weight is "
                                        r"\[10, 16\]; re-run add_common_metadata_analysis_pass$"):
        verify_common_metadata_analysis_pass(mg)


def test_edge_shape_mismatch_names_the_producer(make_graph, seeded) -> None:
    mg = make_graph(get_model("jsc-tiny"), torch.randn(4, 16))
    mg.node("seq_blocks_3").meta["mase"]["common"]["args"]["data_in_0"]["shape"] = [4, 6]
    mg.node("seq_blocks_3").meta["mase"]["common"]["args"]["data_in_0"]["value"] = None
    with pytest.raises(PassError, match=r"node 'seq_blocks_3' common\.args\.data_in_0: is \[4, 6\] torch\.float32 "
                                        r"but its input 'seq_blocks_2' produces \[4, 5\] torch\.float32$"):
        verify_common_metadata_analysis_pass(mg)


def test_edge_dtype_mismatch_is_found_in_a_concatenation(make_graph, small_model, seeded) -> None:
    model, x = small_model("functional")
    mg = make_graph(model, x)
    cat = next(n for n in mg.nodes if n.name == "cat")
    cat.meta["mase"]["common"]["args"]["data_in_1"]["torch_dtype"] = torch.float16
    with pytest.raises(PassError, match=r"node 'cat' common\.args\.data_in_1: .* torch\.float16 but its input 'mul'"):
        verify_common_metadata_analysis_pass(mg)


def test_stored_value_must_have_the_recorded_shape(make_graph, seeded) -> None:
    mg = make_graph(get_model("jsc-tiny"), torch.randn(4, 16))
    mg.node("seq_blocks_2").meta["mase"]["common"]["results"]["data_out_0"]["shape"] = [4, 7]
    with pytest.raises(PassError, match=r"node 'seq_blocks_2' common\.results\.data_out_0\.value: has shape \[4, 5\] "
                                        r"but shape says \[4, 7\]"):
        verify_common_metadata_analysis_pass(mg)


@pytest.mark.parametrize("field, value, message", [
    ("mase_type", "modul", r"common\.mase_type: 'modul' is not one of module_related_func, module, "),
    ("mase_op", None, r"common\.mase_op: not set; run add_common_metadata_analysis_pass first"),
])
def test_bad_kind_fields(make_graph, seeded, field, value, message) -> None:
    mg = make_graph(get_model("jsc-tiny"), torch.randn(2, 16))
    mg.node("seq_blocks_0").meta["mase"]["common"][field] = value
    with pytest.raises(PassError, match=rf"node 'seq_blocks_0' {message}"):
        verify_common_metadata_analysis_pass(mg)


def test_placeholder_must_say_placeholder_and_precision_must_be_bits(make_graph, seeded) -> None:
    mg = make_graph(get_model("jsc-tiny"), torch.randn(2, 16))
    mg.node("x").meta["mase"]["common"]["mase_op"] = "linear"
    with pytest.raises(PassError, match=r"node 'x' common\.mase_type: a placeholder node must have mase_type and "
                                        r"mase_op 'placeholder', got 'placeholder' / 'linear'"):
        verify_common_metadata_analysis_pass(mg)
    mg.node("x").meta["mase"]["common"]["mase_op"] = "placeholder"
    mg.node("seq_blocks_2").meta["mase"]["common"]["args"]["weight"]["precision"] = [8, -1]
    with pytest.raises(PassError, match=r"node 'seq_blocks_2' common\.args\.weight\.precision: expected a list of "
                                        r"positive bit widths, got \[8, -1\]"):
        verify_common_metadata_analysis_pass(mg)


def test_missing_metadata_says_which_pass_to_run() -> None:
    mg = MaseGraph(get_model("jsc-tiny"))
    with pytest.raises(PassError, match=r"node 'x' metadata: missing; run init_metadata_analysis_pass"):
        verify_common_metadata_analysis_pass(mg)
    mg, _ = init_metadata_analysis_pass(mg)
    with pytest.raises(PassError, match=r"node 'x' common\.mase_type: not set"):
        verify_common_metadata_analysis_pass(mg)
