"""Cost pass: FLOPs, MACs, parameter bits and BitOPs per sample, following the node precision."""

from __future__ import annotations

import torch

from chop.models import get_model
from chop.passes.graph.analysis import count_ops_analysis_pass


def test_jsc_tiny_costs(make_graph, seeded, capsys) -> None:
    mg = make_graph(get_model("jsc-tiny"), torch.randn(8, 16))
    mg, info = count_ops_analysis_pass(mg)
    nodes = info["nodes"]
    assert nodes["seq_blocks_2"] == {"flops": 160, "macs": 80, "bitops": 80 * 32 * 32, "param_bits": 85 * 32,
                                     "data_in_bits": 32, "weight_bits": 32}
    assert nodes["seq_blocks_0"]["macs"] == 16 and nodes["seq_blocks_0"]["param_bits"] == 32 * 32
    assert nodes["seq_blocks_1"] == {"flops": 16, "macs": 0, "bitops": 0, "param_bits": 0, "data_in_bits": 0, "weight_bits": 0}
    assert nodes["seq_blocks_3"]["flops"] == 5 and nodes["x"]["flops"] == 0
    assert info["total"] == {"flops": 32 + 16 + 160 + 5, "macs": 96, "param_bits": 117 * 32,
                             "bitops": 80 * 1024 + 16 * 1024}
    assert mg.node("seq_blocks_2").meta["mase"]["software"]["cost"]["macs"] == 80
    out = capsys.readouterr().out
    assert "| seq_blocks_2 | linear" in out and "| total" in out and "81,920" in out


def test_bitops_follow_quantised_precision(make_graph, seeded) -> None:
    mg = make_graph(get_model("jsc-tiny"), torch.randn(8, 16))
    args = mg.node("seq_blocks_2").meta["mase"]["common"]["args"]
    for name in ("data_in_0", "weight", "bias"):
        args[name]["type"] = "integer"
        args[name]["precision"] = [8, 4]
    _, info = count_ops_analysis_pass(mg, {"verbose": False})
    assert info["nodes"]["seq_blocks_2"]["bitops"] == 80 * 8 * 8
    assert info["nodes"]["seq_blocks_2"]["param_bits"] == 85 * 8


def test_conv_and_functional_costs(make_graph, small_model, seeded) -> None:
    _, info = count_ops_analysis_pass(make_graph(*small_model("conv")), {"verbose": False})
    assert info["nodes"]["conv"]["macs"] == 4 * 16 * 1 * 3          # out channels × length × in channels × kernel
    assert info["nodes"]["fc"]["macs"] == 64 * 5
    assert info["nodes"]["flatten"]["flops"] == 0
    _, info = count_ops_analysis_pass(make_graph(*small_model("functional")), {"verbose": False})
    assert info["nodes"]["mul"]["flops"] == 16 and info["nodes"]["cat"]["flops"] == 0
    assert info["nodes"]["relu"]["flops"] == 32 and info["nodes"]["add"]["flops"] == 5
    assert info["nodes"]["fc"]["macs"] == 32 * 5


def test_save_path(make_graph, seeded, tmp_path) -> None:
    mg = make_graph(get_model("jsc-tiny"), torch.randn(2, 16))
    _, info = count_ops_analysis_pass(mg, {"verbose": False, "save_path": str(tmp_path / "cost.txt")})
    assert (tmp_path / "cost.txt").read_text() == info["table"] + "\n"
