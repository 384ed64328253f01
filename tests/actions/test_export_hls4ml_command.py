"""``ch export hls4ml`` end to end: the project it writes, the versioning of an earlier export, ``--json``, errors.

The compiled emulations go to a cache under this test's own ``MACHOP_CACHE_DIR``; the figures are
checked against the integer reference of the graph the test prepares itself.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from cli_helpers import QUANTISE_EVERY_NODE, cli, error_line, quantise_toml

from chop.dataset import load_dataset
from chop.hardware.reference import integer_reference
from chop.models import get_model
from chop.workflows.hardware import HardwareOptions, prepare_graph, quantised_graphs




def test_an_export_writes_the_project_then_a_rerun_reuses_the_build_versions_it_and_reports_json(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MACHOP_CACHE_DIR", str(tmp_path / "cache"))
    common = ["export", "hls4ml", "jsc-tiny", "jsc-pythia", "--config", str(quantise_toml(tmp_path)),
              "--project-dir", str(tmp_path), "--project", "p"]
    code, out, err = cli(common)
    assert code == 0, err
    assert "mismatching rows" in out and "20,000" in out and "seq_blocks_2" in out and "not available here" in out
    export = tmp_path / "p" / "export" / "hls4ml"
    first = json.loads((export / "summary.json").read_text())
    assert (first["target"], first["backend"], first["io_type"]) == ("hls4ml", "Vivado", "io_parallel")
    assert (first["rows"], first["mismatching_rows"], first["compile_cached"]) == (20000, 0, False)
    assert (export / "firmware" / "machop.cpp").is_file() and (export / "hls4ml_config.yml").is_file()
    assert Path(first["library"]).parent.parent == tmp_path / "cache" / "hls4ml"
    data = load_dataset("jsc-pythia")
    torch.manual_seed(0)
    model = get_model("jsc-tiny")
    passes = {"quantize": {"by": "type", "default": {"config": {
        "name": "integer", "data_in_width": 8, "data_in_frac_width": 4, "weight_width": 8, "weight_frac_width": 4,
        "bias_width": 8, "bias_frac_width": 4}}}}
    prepared, _ = prepare_graph(quantised_graphs(model, passes, data).quantised, HardwareOptions())
    codes = integer_reference(prepared, torch.as_tensor(data.x_test))
    y = torch.as_tensor(data.y_test).long()
    assert first["prepared_accuracy"] == first["hls4ml_accuracy"] == float((codes.argmax(1) == y).double().mean())

    code, out, err = cli([*common, "--json"])
    assert code == 0, err
    summary = json.loads(out)
    assert summary == json.loads((export / "summary.json").read_text())
    assert summary["compile_cached"] and summary["library"] == first["library"] and summary["compile_seconds"] == 0
    assert {k: summary[k] for k in ("rows", "mismatching_rows", "hls4ml_accuracy", "layers")} == \
        {k: first[k] for k in ("rows", "mismatching_rows", "hls4ml_accuracy", "layers")}
    assert json.loads((export.parent / "hls4ml-v1" / "summary.json").read_text()) == first


def test_a_minifloat_format_is_one_error_line_and_exit_2_and_writes_nothing(tmp_path: Path) -> None:
    minifloat = quantise_toml(tmp_path, "minifloat_ieee", "exponent_width")
    code, _, err = cli(["export", "hls4ml", "jsc-tiny", "jsc-pythia", "--config", str(minifloat),
                        "--project-dir", str(tmp_path), "--project", "p"])
    assert code == 2
    line = error_line(err)
    assert "node 'seq_blocks_0'" in line and "'minifloat_ieee'" in line
    assert not (tmp_path / "p" / "export").exists()


DEGENERATE = QUANTISE_EVERY_NODE.replace("by = \"type\"", "by = \"name\"") + """
[passes.quantize.seq_blocks_1.config]
name = "integer"
data_in_width = 8
data_in_frac_width = -12
"""


def test_a_format_whose_values_all_round_to_zero_is_one_error_line_naming_the_node_and_formats(tmp_path: Path) -> None:
    (tmp_path / "degenerate.toml").write_text(DEGENERATE.format(name="integer", second="frac_width", weight_width=8,
                                                                weight_second=4))
    code, _, err = cli(["export", "hls4ml", "jsc-tiny", "jsc-pythia", "--config", str(tmp_path / "degenerate.toml"),
                        "--project-dir", str(tmp_path), "--project", "p"])
    assert code == 2
    # the untrained input batch norm is the identity: hls4ml gets a Dense whose accumulator is its input format
    assert error_line(err) == ("ch: error: node 'seq_blocks_0' (fixed_affine): requantising its accumulator "
                               "fixed<8,4> to ufixed<8,-12> drops 16 fraction bits, more than the 8 it has, so "
                               "every output is 0; hls4ml's ap_fixed types cannot convert that (ap_private "
                               "asserts); give the output more fraction bits")
    assert not (tmp_path / "p" / "export").exists()
