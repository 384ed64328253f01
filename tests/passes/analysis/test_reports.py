"""Report passes: MASE's exact graph report, node tables, meta-param table with ``which``."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from chop.errors import PassError
from chop.ir.graph.mase_graph import MaseGraph
from chop.models import get_model
from chop.passes import report_graph_analysis_pass
from chop.passes.graph.analysis import (
    report_node_meta_param_analysis_pass,
    report_node_shape_analysis_pass,
    report_node_type_analysis_pass,
)

JSC_TINY_OVERVIEW = "{'placeholder': 1, 'get_attr': 0, 'call_function': 0, 'call_method': 0, 'call_module': 4, 'output': 1}"


def test_graph_report_of_jsc_tiny(capsys, tmp_path) -> None:
    mg = MaseGraph(get_model("jsc-tiny"))
    _, info = report_graph_analysis_pass(mg)
    out = capsys.readouterr().out
    layer_types = [nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 5), nn.ReLU()]
    assert out == f"{mg.fx_graph}\nNetwork overview:\n{JSC_TINY_OVERVIEW}\nLayer types:\n{layer_types}\n"
    assert "Linear(in_features=16, out_features=5, bias=True), ReLU()]" in out
    assert info["network_overview"] == {"placeholder": 1, "get_attr": 0, "call_function": 0, "call_method": 0,
                                        "call_module": 4, "output": 1}
    report_graph_analysis_pass(mg, {"file_name": str(tmp_path / "report.txt")})
    assert capsys.readouterr().out == ""
    assert (tmp_path / "report.txt").read_text() == out
    report_graph_analysis_pass(mg, tmp_path / "old-style.txt")  # earlier MASE: the file name itself
    assert capsys.readouterr().out == "" and (tmp_path / "old-style.txt").read_text() == out


def test_meta_param_table_columns(make_graph, seeded, tmp_path) -> None:
    mg = make_graph(get_model("jsc-tiny"), torch.randn(2, 16))
    _, info = report_node_meta_param_analysis_pass(mg, {"which": ("software",), "save_path": str(tmp_path / "t.txt")})
    header = info["table"].splitlines()[1]
    assert [h.strip() for h in header.strip("|").split("|")] == ["Node name", "Fx Node op", "Mase type", "Mase op",
                                                                 "Software Param"]
    assert (tmp_path / "t.txt").read_text() == info["table"] + "\n"
    _, info = report_node_meta_param_analysis_pass(mg, {"which": ("all",)})
    header = info["table"].splitlines()[1]
    assert [h.strip() for h in header.strip("|").split("|")][4:] == ["Common Param", "Hardware Param", "Software Param"]
    assert "'value'" not in info["table"] and "'shape': [5, 16]" in info["table"]
    with pytest.raises(PassError, match="unknown section 'sofware' in 'which'"):
        report_node_meta_param_analysis_pass(mg, {"which": ("sofware",)})
    with pytest.raises(PassError, match="'which' must be a tuple or list"):
        report_node_meta_param_analysis_pass(mg, {"which": "software"})


def test_type_and_shape_tables(make_graph, seeded) -> None:
    mg = make_graph(get_model("jsc-tiny"), torch.randn(3, 16))
    _, info = report_node_type_analysis_pass(mg)
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in info["table"].splitlines()
            if line.startswith("| ")]
    assert ["seq_blocks_0", "call_module", "module", "batch_norm1d", "float"] in rows
    _, info = report_node_shape_analysis_pass(mg)
    assert "data_in_0: [3, 16]" in info["table"] and "weight: [5, 16]" in info["table"]


def test_reports_need_metadata() -> None:
    with pytest.raises(PassError, match="node 'x' has no metadata; run init_metadata_analysis_pass"):
        report_node_type_analysis_pass(MaseGraph(get_model("jsc-tiny")))


def test_hardware_type_table_lists_the_hardware_nodes(make_graph, seeded, capsys, tmp_path) -> None:
    from chop.passes.graph import add_hardware_metadata_analysis_pass
    from chop.passes.graph.analysis.report import report_node_hardware_type_analysis_pass

    mg = make_graph(get_model("jsc-tiny"), torch.randn(2, 16))
    with pytest.raises(PassError, match=r"node 'x' has no hardware\.toolchain; "
                                        r"run add_hardware_metadata_analysis_pass first"):
        report_node_hardware_type_analysis_pass(mg)
    mg, _ = add_hardware_metadata_analysis_pass(mg)
    _, info = report_node_hardware_type_analysis_pass(mg)
    assert capsys.readouterr().out == info["table"] + "\n"
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in info["table"].splitlines()
            if line.startswith("|")]
    assert rows == [["Node name", "Fx Node op", "Type", "Tool Chain", "Device ID"]] + [
        [f"seq_blocks_{i}", "call_module", "float", "INTERNAL", "-1"] for i in range(4)]
    report_node_hardware_type_analysis_pass(mg, {"save_path": str(tmp_path / "hw.txt")})
    assert capsys.readouterr().out == ""
    assert (tmp_path / "hw.txt").read_text() == info["table"] + "\n"
