"""``ch export onnx`` end to end: the files it writes, the versioning of an earlier export, ``--json``, errors.

The figures are checked against onnxruntime run here on the written ``model.onnx``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime
import torch
from cli_helpers import cli, error_line, quantise_toml

from chop.dataset import load_dataset
from chop.models import get_model

SIGMOID_MODEL = """
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self, info=None):
        super().__init__()
        self.fc = nn.Linear(16, 5)

    def forward(self, x):
        return torch.sigmoid(self.fc(x))
"""



def test_float_then_quantised_exports_write_the_files_version_the_earlier_one_and_report_in_json(
        tmp_path: Path) -> None:
    common = ["export", "onnx", "jsc-tiny", "jsc-pythia", "--project-dir", str(tmp_path), "--project", "p"]
    code, out, err = cli(common)
    assert code == 0, err
    assert "mismatching rows" in out and "20,000" in out
    export = tmp_path / "p" / "export" / "onnx"
    first = json.loads((export / "summary.json").read_text())
    assert first["kind"] == "float" and first["rows"] == 20000 and first["mismatching_rows"] == 0
    torch.manual_seed(0)
    model = get_model("jsc-tiny").eval()
    x = torch.as_tensor(load_dataset("jsc-pythia").x_test, dtype=torch.float32)
    with torch.no_grad():
        expected = model(x).numpy()
    session = onnxruntime.InferenceSession(str(export / "model.onnx"), providers=["CPUExecutionProvider"])
    got = session.run(None, {"x": x.numpy()})[0]
    assert first["max_abs_difference"] == float(np.abs(got - expected).max()) <= 1e-5

    code, out, err = cli([*common, "--config", str(quantise_toml(tmp_path)), "--json"])
    assert code == 0, err
    summary = json.loads(out)
    assert summary == json.loads((export / "summary.json").read_text())
    assert (summary["kind"], summary["opset"], summary["tolerance"]) == ("quantised", 21, 0.0)
    assert (summary["rows"], summary["mismatching_rows"], summary["max_abs_difference"]) == (20000, 0, 0.0)
    assert summary["file_bytes"] == (export / "model.onnx").stat().st_size
    assert json.loads((export.parent / "onnx-v1" / "summary.json").read_text()) == first


def test_a_minifloat_format_is_one_error_line_and_exit_2_and_writes_nothing(tmp_path: Path) -> None:
    minifloat = quantise_toml(tmp_path, "minifloat_ieee", "exponent_width")
    code, _, err = cli(["export", "onnx", "jsc-tiny", "jsc-pythia", "--config", str(minifloat),
                        "--project-dir", str(tmp_path), "--project", "p"])
    assert code == 2
    line = error_line(err)
    assert "node 'seq_blocks_0'" in line and "'minifloat_ieee'" in line
    assert not (tmp_path / "p" / "export").exists()


def test_an_op_without_an_onnx_form_is_one_error_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "net.py").write_text(SIGMOID_MODEL)
    code, _, err = cli(["export", "onnx", f"{tmp_path / 'net.py'}:Net", "jsc-pythia",
                        "--config", str(quantise_toml(tmp_path)),
                        "--project-dir", str(tmp_path), "--project", "p"])
    assert code == 2
    assert "node 'sigmoid' (sigmoid) has no hardware twin" in error_line(err)
