"""``ch graph report`` and ``ch graph profile``: output, checkpoints, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from chop.cli import main
from chop.dataset.splits import JSC_FEATURES
from chop.ir.graph.mase_graph import MaseGraph
from chop.models import get_model
from chop.passes.graph import (
    add_common_metadata_analysis_pass,
    init_metadata_analysis_pass,
    save_mase_graph_interface_pass,
)

TINY_TOTAL = {"flops": 32 + 16 + 160 + 5, "macs": 16 + 80, "param_bits": 117 * 32, "bitops": 96 * 32 * 32}


def run_json(capsys, argv: list[str]) -> dict:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_report_json(capsys) -> None:
    report = run_json(capsys, ["graph", "report", "jsc-tiny", "--json"])
    assert report["network_overview"] == {"placeholder": 1, "get_attr": 0, "call_function": 0, "call_method": 0,
                                          "call_module": 4, "output": 1}
    assert report["layer_types"][2] == "Linear(in_features=16, out_features=5, bias=True)"
    assert report["cost"]["total"] == TINY_TOTAL
    linear = next(n for n in report["nodes"] if n["name"] == "seq_blocks_2")
    assert linear == {"name": "seq_blocks_2", "op": "call_module", "mase_type": "module_related_func", "mase_op": "linear",
                      "args": {"data_in_0": [1, 16], "weight": [5, 16], "bias": [5]}, "results": {"data_out_0": [1, 5]}}


def test_report_text_has_three_parts(capsys) -> None:
    assert main(["graph", "report", "jsc-s"]) == 0
    out = capsys.readouterr().out
    assert "Network overview:\n{'placeholder': 1, 'get_attr': 0, 'call_function': 0, 'call_method': 0, 'call_module': 14, 'output': 1}" in out
    assert "Nodes:\n+" in out
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in out.splitlines() if line.startswith("| ")]
    assert ["seq_blocks_13", "module_related_func", "relu", "data_in_0: [1, 5]", "data_out_0: [1, 5]"] in rows
    assert "Cost per sample:\n+" in out and "| total" in out and "179,680" in out  # 5615 params × 32 bits


def test_report_loads_checkpoints(capsys, tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = get_model("jsc-tiny")
    torch.save(model.state_dict(), tmp_path / "w.pt")
    assert run_json(capsys, ["graph", "report", "jsc-tiny", "--load", str(tmp_path / "w.pt"), "--json"])["cost"]["total"] == TINY_TOTAL
    mg, _ = init_metadata_analysis_pass(MaseGraph(model))
    mg, _ = add_common_metadata_analysis_pass(mg, {"dummy_in": {"x": torch.randn(2, 16)}})
    save_mase_graph_interface_pass(mg, {"save_dir": str(tmp_path / "graph")})
    report = run_json(capsys, ["graph", "report", "jsc-tiny", "--load", str(tmp_path / "graph"), "--json"])
    assert report["cost"]["total"] == TINY_TOTAL


@pytest.mark.parametrize(("argv", "message"), [
    (["graph", "report", "jsc-tinny"], "unknown model 'jsc-tinny' (did you mean 'jsc-tiny'?)"),
    (["graph", "report", "jsc-tiny", "--load", "/nonexistent/w.pt"], "checkpoint /nonexistent/w.pt does not exist"),
    (["graph", "report", "jsc-tiny", "--load", "/nonexistent/g.mz"], "no saved graph at /nonexistent/g.mz"),
    (["graph", "profile", "jsc-tiny", "--num-samples", "0"], "--num-samples and --batch-size must be positive"),
])
def test_errors_are_one_line(capsys, argv, message) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("ch: error: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def write_jsc_csv(path: Path, rows: int) -> Path:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, len(JSC_FEATURES))).astype(np.float32)
    y = rng.integers(0, 5, rows)
    lines = [",".join([*JSC_FEATURES, "label"])]
    lines += [",".join([*map(repr, map(float, features)), str(label)]) for features, label in zip(x, y)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_profile_writes_plot_and_counts(capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MACHOP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("MACHOP_DATA_DIR", raising=False)
    data = write_jsc_csv(tmp_path / "jets.csv", 400)
    plot = tmp_path / "profile.png"
    result = run_json(capsys, ["graph", "profile", "jsc-tiny", "jsc", "--data-path", str(data), "--num-samples", "100",
                               "--batch-size", "32", "--plot", str(plot), "--json"])
    assert plot.read_bytes()[:4] == b"\x89PNG"
    assert result["weights"]["seq_blocks_2"]["weight"]["range_min_max"]["count"] == 80
    assert result["activations"]["seq_blocks_0"]["data_in_0"]["range_min_max"]["count"] == 100 * 16
    assert result["activations"]["seq_blocks_3"]["data_in_0"]["variance_online"]["count"] == 100 * 5
