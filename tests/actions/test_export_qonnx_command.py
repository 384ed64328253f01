"""``ch export qonnx`` end to end: the files it writes, the versioning of an earlier export, ``--json``, errors.

The figures are checked against qonnx's executor run here on the written ``model.onnx``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from cli_helpers import cli, error_line, quantise_toml
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.util.cleanup import cleanup_model

from chop.dataset import load_dataset




def test_two_exports_write_the_files_version_the_earlier_one_and_report_what_qonnx_computes(tmp_path: Path) -> None:
    common = ["export", "qonnx", "jsc-toy", "jsc-pythia", "--project-dir", str(tmp_path), "--project", "p"]
    code, out, err = cli([*common, "--config", str(quantise_toml(tmp_path))])
    assert code == 0, err
    assert "mismatching rows" in out and "20,000" in out and "Quant nodes" in out
    export = tmp_path / "p" / "export" / "qonnx"
    first = json.loads((export / "summary.json").read_text())
    assert (first["target"], first["rows"], first["mismatching_rows"], first["rounding_mode"]) == ("qonnx", 20000, 0,
                                                                                                   "ROUND")
    labels = torch.as_tensor(load_dataset("jsc-pythia").y_test)
    wrapper = cleanup_model(ModelWrapper(str(export / "model.onnx")), override_inpsize=20000)
    rows = load_dataset("jsc-pythia").x_test.astype(np.float32)
    got = execute_onnx(wrapper, {wrapper.graph.input[0].name: rows})[wrapper.graph.output[0].name]
    assert first["qonnx_accuracy"] == float((torch.from_numpy(got).argmax(dim=1) == labels).double().mean())
    assert first["quant_nodes"] == sum(node.op_type == "Quant" for node in wrapper.graph.node)

    code, out, err = cli([*common, "--config", str(quantise_toml(tmp_path, weight=(4, 3))), "--json"])
    assert code == 0, err
    summary = json.loads(out)
    assert summary == json.loads((export / "summary.json").read_text())
    assert (summary["rows"], summary["mismatching_rows"], summary["max_abs_difference"]) == (20000, 0, 0.0)
    assert summary["file_bytes"] == (export / "model.onnx").stat().st_size
    assert json.loads((export.parent / "qonnx-v1" / "summary.json").read_text()) == first


def test_a_float_model_is_one_error_line_and_exit_2_and_writes_nothing(tmp_path: Path) -> None:
    code, _, err = cli(["export", "qonnx", "jsc-tiny", "jsc-pythia", "--project-dir", str(tmp_path), "--project", "p"])
    assert code == 2
    assert error_line(err) == ("ch: error: ch export qonnx exports quantised graphs: give a [passes.quantize] table "
                               "with name = \"integer\" (or --load a quantised graph.mz)")
    assert not (tmp_path / "p" / "export").exists()


def test_a_minifloat_format_is_one_error_line_naming_node_and_format_and_exit_2(tmp_path: Path) -> None:
    minifloat = quantise_toml(tmp_path, "minifloat_ieee", "exponent_width")
    code, _, err = cli(["export", "qonnx", "jsc-tiny", "jsc-pythia", "--config", str(minifloat),
                        "--project-dir", str(tmp_path), "--project", "p"])
    assert code == 2
    line = error_line(err)
    assert "node 'seq_blocks_0'" in line and "'minifloat_ieee'" in line
    assert not (tmp_path / "p" / "export").exists()
