"""The pass-argument rule: the keys a pass uses, plus MASE's accepted-and-ignored keys (one-line warning),
and an error with a suggestion for anything else; every analysis pass runs on the graph alone."""

from __future__ import annotations

import logging

import pytest
import torch

import chop.passes.graph.analysis as analysis
from chop.errors import PassError
from chop.ir.graph.mase_graph import MaseGraph
from chop.ir.graph.mase_metadata import to_plain
from chop.models import get_model
from chop.passes.graph import (
    add_common_metadata_analysis_pass,
    add_hardware_metadata_analysis_pass,
    add_software_metadata_analysis_pass,
    init_metadata_analysis_pass,
    profile_statistics_analysis_pass,
)
from chop.passes.graph.pass_args import check_pass_args
from chop.passes.graph.pass_result import PassResult
from chop.tools.options import Option, Options


@pytest.fixture
def warnings_seen(log_lines):
    """Warnings logged by pass_args."""
    return log_lines("chop.passes.graph.pass_args", logging.WARNING)


def _tiny() -> tuple[MaseGraph, dict[str, torch.Tensor]]:
    torch.manual_seed(0)
    dummy_in = {"x": torch.randn(4, 16)}
    mg, _ = init_metadata_analysis_pass(MaseGraph(get_model("jsc-tiny")))
    mg, _ = add_common_metadata_analysis_pass(mg, {"dummy_in": dummy_in})
    return mg, dummy_in


def test_check_pass_args_drops_ignored_keys_with_a_one_line_warning(warnings_seen) -> None:
    args = check_pass_args("p", {"a": 1, "old": 2}, Options(Option("a"), Option("old", ignored="MASE-only")))
    assert args == {"a": 1}
    assert warnings_seen.messages == ["p: ignoring pass argument 'old' (MASE-only)"]


def test_check_pass_args_still_rejects_typos_and_lists_both_sets() -> None:
    with pytest.raises(PassError, match=r"^p: unknown argument 'olt' \(did you mean 'old'\?\); known: a "
                                        r"\(accepted and ignored: old\)$"):
        check_pass_args("p", {"olt": 1}, Options(Option("a"), Option("old", ignored="MASE-only")))
    with pytest.raises(PassError, match=r"^p: unknown argument 'b'; known: none$"):
        check_pass_args("p", {"b": 1}, Options())


def test_mase_test_flow_hands_dummy_in_to_software_and_hardware_passes(warnings_seen) -> None:
    mg, dummy_in = _tiny()
    plain, _ = _tiny()
    mg, _ = add_software_metadata_analysis_pass(mg, {"dummy_in": dummy_in})
    mg, _ = add_hardware_metadata_analysis_pass(mg, {"dummy_in": dummy_in})
    plain, _ = add_software_metadata_analysis_pass(plain)
    plain, _ = add_hardware_metadata_analysis_pass(plain)
    for node, reference in zip(mg.nodes, plain.nodes):
        assert to_plain(node.meta["mase"].parameters["software"]) == to_plain(reference.meta["mase"].parameters["software"])
        assert to_plain(node.meta["mase"].parameters["hardware"]) == to_plain(reference.meta["mase"].parameters["hardware"])
    assert warnings_seen.messages == [
        "add_software_metadata_analysis_pass: ignoring pass argument 'dummy_in' "
        "(only add_common_metadata_analysis_pass runs the dummy input)",
        "add_hardware_metadata_analysis_pass: ignoring pass argument 'dummy_in' "
        "(only add_common_metadata_analysis_pass runs the dummy input)",
    ]


def test_software_pass_still_rejects_a_typo() -> None:
    mg, dummy_in = _tiny()
    with pytest.raises(PassError, match=r"add_software_metadata_analysis_pass: unknown argument 'dumy_in' "
                                        r"\(did you mean 'dummy_in'\?\)"):
        add_software_metadata_analysis_pass(mg, {"dumy_in": dummy_in})


def test_force_device_meta_and_profile_output_activation_are_ignored(warnings_seen) -> None:
    torch.manual_seed(0)
    mg, _ = init_metadata_analysis_pass(MaseGraph(get_model("jsc-tiny")))
    mg, _ = add_common_metadata_analysis_pass(mg, {"dummy_in": {"x": torch.randn(2, 16)}, "force_device_meta": False})
    mg, _ = add_software_metadata_analysis_pass(mg)
    mg, info = profile_statistics_analysis_pass(mg, {
        "by": "type", "target_weight_nodes": ["linear"], "target_activation_nodes": [],
        "weight_statistics": {"range_min_max": {"dims": "all"}}, "activation_statistics": {},
        "profile_output_activation": True})
    weight = mg.modules["seq_blocks.2"].weight
    assert info["weights"]["seq_blocks_2"]["weight"]["range_min_max"]["min"] == pytest.approx(weight.min().item())
    assert warnings_seen.messages == [
        "add_common_metadata_analysis_pass: ignoring pass argument 'force_device_meta' "
        "(machop runs the dummy input on the CPU)",
        "profile_statistics_analysis_pass: ignoring pass argument 'profile_output_activation' "
        "(machop profiles the tensor inputs of the target nodes, not their outputs)",
    ]


@pytest.mark.parametrize("name", analysis.__all__)
def test_every_analysis_pass_runs_on_the_graph_alone(name, capsys) -> None:
    torch.manual_seed(0)
    mg = MaseGraph(get_model("jsc-tiny"))
    for prepare in (init_metadata_analysis_pass, add_common_metadata_analysis_pass,
                    add_software_metadata_analysis_pass, add_hardware_metadata_analysis_pass):
        mg, _ = prepare(mg)
    result = getattr(analysis, name)(mg)
    graph, info = result
    assert isinstance(result, PassResult) and result.graph is graph is mg and result.info is info
    assert isinstance(info, dict)


def test_check_pass_args_fills_defaults_and_checks_declared_types() -> None:
    options = Options(Option("a", int, 3), Option("b"))
    assert check_pass_args("p", None, options) == {"a": 3, "b": None}
    assert check_pass_args("p", {"a": 1}, options) == {"a": 1, "b": None}
    with pytest.raises(PassError, match=r"^p: pass argument 'a' = True: expected an integer$"):
        check_pass_args("p", {"a": True}, options)


@pytest.mark.parametrize("name", ["save_mase_graph_interface_pass", "load_mase_graph_interface_pass",
                                  "save_node_meta_param_interface_pass", "load_node_meta_param_interface_pass",
                                  "summarize_quantization_analysis_pass", "quantize_transform_pass"])
def test_interface_transform_and_summary_passes_return_a_pass_result(name, tmp_path) -> None:
    import chop.passes.graph as passes

    mg, _ = _tiny()
    run = getattr(passes, name)
    if name == "save_mase_graph_interface_pass":
        result = run(mg, {"save_dir": str(tmp_path)})
    elif name == "load_mase_graph_interface_pass":
        passes.save_mase_graph_interface_pass(mg, {"save_dir": str(tmp_path)})
        result = run(None, {"load_dir": str(tmp_path)})
    elif name.endswith("node_meta_param_interface_pass"):
        passes.save_node_meta_param_interface_pass(mg, {"save_path": str(tmp_path / "meta.toml")})
        key = "save_path" if name.startswith("save") else "load_path"
        result = run(mg, {key: str(tmp_path / "meta.toml")})
    elif name == "quantize_transform_pass":
        config = {"name": "integer", "data_in_width": 8, "weight_width": 8, "bias_width": 8}
        result = run(mg, {"by": "type", "linear": {"config": config}})
        assert result.info["quantized_nodes"] == ["seq_blocks_2"]
    else:
        result = run(mg, mg)
    graph, info = result
    assert isinstance(result, PassResult) and result.graph is graph and isinstance(info, dict)
