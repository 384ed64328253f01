"""``ch transform``: the spec's example TOML unchanged, outputs, --report, errors; then ch test / ch train on the result."""

from __future__ import annotations

import csv
import json
import tomllib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from chop.cli import main
from chop.dataset import load_dataset
from chop.dataset.splits import JSC_FEATURES
from chop.engine import evaluate_models
from chop.models import get_model
from chop.tools.checkpoint_load import load_model

EXAMPLE = Path(__file__).parents[2] / "configs" / "examples" / "jsc_toy_by_type.toml"


@pytest.fixture(scope="module")
def data_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 5, 2500)
    features = rng.normal(size=(2500, 16)) + labels[:, None] * 0.4
    table = {name: features[:, i] for i, name in enumerate(JSC_FEATURES)}
    table["class"] = np.array(list("gqwzt"))[labels]
    path = tmp_path_factory.mktemp("jsc") / "jsc-small.parquet"
    pq.write_table(pa.table(table), path)
    return path


def _run(capsys: pytest.CaptureFixture, argv: list[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_example_toml_runs_unchanged_with_report(tmp_path: Path, data_file: Path, capsys: pytest.CaptureFixture) -> None:
    torch.manual_seed(0)
    code, out, err = _run(capsys, ["transform", "--config", str(EXAMPLE), "--data-path", str(data_file),
                                   "--project-dir", str(tmp_path), "--project", "p", "--report", "--json"])
    assert code == 0, err
    result = json.loads(out)
    transform = tmp_path / "p" / "software" / "transform"
    assert result["transformed_ckpt"] == str(transform / "transformed_ckpt")
    assert [tuple(c.values()) for c in result["histograms"]["quantize"]] == [
        ("BatchNorm1d", "batch_norm1d", 1, 0, 1), ("Linear", "linear", 1, 1, 0), ("ReLU", "relu", 2, 0, 2),
        ("output", "output", 1, 0, 1), ("x", "placeholder", 1, 0, 1)]
    quantize = transform / "quantize"
    assert (quantize / "quantize_histogram.csv").read_text() == (
        "Original type,OP,Total,Changed,Unchanged\nBatchNorm1d,batch_norm1d,1,0,1\nLinear,linear,1,1,0\n"
        "ReLU,relu,2,0,2\noutput,output,1,0,1\nx,placeholder,1,0,1\n")
    with open(quantize / "quantize_table.csv") as handle:
        table = list(csv.reader(handle))
    assert table[0] == ["", "Ori name", "New name", "MASE_TYPE", "Mase_OP", "Original type", "Quantized type", "Changed"]
    assert [row[0] for row in table[1:]] == ["0", "1", "2", "3", "4", "5"]
    assert table[4][1:] == ["seq_blocks_2", "seq_blocks_2", "module_related_func", "linear", "Linear", "LinearInteger",
                            "True"]
    assert (transform / "transformed_ckpt" / "graph_module.mz").is_file()
    meta = tomllib.loads((transform / "transformed_ckpt" / "node_meta_param.toml").read_text())
    assert meta["seq_blocks_2"]["common"]["args"]["weight"]["precision"] == [8, 4]
    assert list(meta) == ["x", "seq_blocks_0", "seq_blocks_1", "seq_blocks_2", "seq_blocks_3", "output"]
    report = result["report"]
    assert report == json.loads((quantize / "quantize_report.json").read_text())
    # BitOPs per sample: linear 16*5 MACs and batch norm 16 MACs; 32x32 bits before, linear 8x8 after
    assert (report["bitops_before"], report["bitops_after"]) == (80 * 32 * 32 + 16 * 32 * 32, 80 * 8 * 8 + 16 * 32 * 32)
    # the quantised accuracy is that of the saved graph, evaluated independently
    data = load_dataset("jsc", data_file)
    saved = load_model(transform / "transformed_ckpt" / "graph_module.mz", "mz")
    [(test_acc, _)] = evaluate_models([saved], data.x_test, data.y_test)
    assert report["accuracy"][1]["split"] == "test" and report["accuracy"][1]["quantized_acc"] == pytest.approx(test_acc)
    clamps = {(c["node"], c["operand"]): c for c in report["clamps"]}
    assert set(clamps) == {("seq_blocks_2", "data_in"), ("seq_blocks_2", "weight"), ("seq_blocks_2", "bias")}
    assert clamps[("seq_blocks_2", "data_in")]["values"] == len(data.x_val) * 16
    assert clamps[("seq_blocks_2", "weight")]["values"] == 80
    # the batch norm stays float under this TOML: no hardware estimate, and the preparation's reason
    assert report["hardware_estimate"] == {"unavailable": "node 'seq_blocks_0' (batch_norm1d) is not quantised; "
                                                          "give it a [passes.quantize] entry with name = \"integer\""}

    code, out, err = _run(capsys, ["test", "--load", str(transform / "transformed_ckpt" / "graph_module.mz"),
                                   "--load-type", "mz", "jsc-tiny", "jsc", "--data-path", str(data_file),
                                   "--project-dir", str(tmp_path), "--json"])
    assert code == 0, err
    assert json.loads(out)["test_acc_epoch"] == pytest.approx(test_acc)

    code, out, err = _run(capsys, ["train", "--load", str(transform / "transformed_ckpt" / "graph_module.mz"),
                                   "--load-type", "mz", "jsc-tiny", "jsc", "--data-path", str(data_file),
                                   "--project-dir", str(tmp_path), "--project", "qat", "--max-epochs", "1",
                                   "--batch-size", "256", "--learning-rate", "1e-2", "--json"])
    assert code == 0, err
    assert 0.0 <= json.loads(out)["val_acc_epoch"] <= 1.0


def test_positionals_beat_the_toml(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """The example says jsc-tiny on jsc; the positionals pick jsc-toy on the bundled jsc-pythia (no download)."""
    code, out, err = _run(capsys, ["transform", "jsc-toy", "jsc-pythia", "--config", str(EXAMPLE),
                                   "--project-dir", str(tmp_path), "--project", "toy", "--json"])
    assert code == 0, err
    counts = {c["original_type"]: (c["total"], c["changed"]) for c in json.loads(out)["histograms"]["quantize"]}
    assert counts["Linear"] == (3, 3) and counts["BatchNorm1d"] == (4, 0)


@pytest.mark.parametrize(("toml", "message"), [
    ("[passes.quantise]\nby = 'type'\n", "unknown transform pass 'quantise' (did you mean 'quantize'?)"),
    ("seed = 1\n", "the config has no [passes.*] table"),
    ("[passes.quantize]\nby = 'type'\n[passes.quantize.linear.config]\nname = 'integer'\ndata_in_width = 8\n",
     "node seq_blocks_2 (linear): weight_width is required by quantizer 'integer' but missing"),
    ("[passes.quantize]\nby = 'type'\n[passes.quantize.conv3d.config]\nname = 'integer'\n",
     "unknown quantisable op 'conv3d'"),
    ("[passes.quantize]\nby = 'type'\n[passes.quantize.linear.config]\nname = 'intger'\n",
     "unknown quantizer 'intger' (did you mean 'integer'?)"),
])
def test_errors_are_one_line(tmp_path: Path, data_file: Path, capsys: pytest.CaptureFixture, toml: str,
                             message: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(toml)
    code, _, err = _run(capsys, ["transform", "jsc-tiny", "jsc", "--config", str(config), "--data-path", str(data_file),
                                 "--project-dir", str(tmp_path)])
    assert code == 2
    last = err.strip().splitlines()[-1]
    assert last.startswith("ch: error: ") and message in last and "Traceback" not in err


def test_load_pl_checkpoint_then_quantise(tmp_path: Path, data_file: Path, capsys: pytest.CaptureFixture) -> None:
    """--load CKPT --load-type pl: the float master weights of the transformed graph are the checkpoint's."""
    torch.manual_seed(7)
    trained = get_model("jsc-tiny")
    checkpoint = tmp_path / "trained.ckpt"
    torch.save({"state_dict": {f"model.{k}": v for k, v in trained.state_dict().items()}}, checkpoint)
    code, _, err = _run(capsys, ["transform", "--config", str(EXAMPLE), "--data-path", str(data_file), "--load",
                                 str(checkpoint), "--load-type", "pl", "--project-dir", str(tmp_path), "--project", "pl",
                                 "--json"])
    assert code == 0, err
    saved = load_model(tmp_path / "pl" / "software" / "transform" / "transformed_ckpt" / "graph_module.mz", "mz")
    assert type(saved.get_submodule("seq_blocks.2")).__name__ == "LinearInteger"
    for name, value in trained.state_dict().items():
        assert torch.equal(saved.state_dict()[name], value), name


SHARED_EXAMPLE = Path(__file__).parents[3] / "shared" / "mase" / "configs" / "examples" / "jsc_toy_by_type.toml"


def test_example_toml_is_mases_file_byte_for_byte() -> None:
    assert EXAMPLE.read_bytes() == SHARED_EXAMPLE.read_bytes()


def test_lab2_command_line_runs(tmp_path: Path, data_file: Path, capsys: pytest.CaptureFixture) -> None:
    """Lab 2's `./ch transform --config configs/examples/jsc_toy_by_type.toml --task cls --cpu=0`, offline."""
    code, out, err = _run(capsys, ["transform", "--config", str(EXAMPLE), "--task", "cls", "--cpu=0",
                                   "--data-path", str(data_file), "--project-dir", str(tmp_path), "--json"])
    assert code == 0, err
    # the TOML's project = "jsc-tiny" names the folder
    assert json.loads(out)["transformed_ckpt"] == str(tmp_path / "jsc-tiny" / "software" / "transform" / "transformed_ckpt")


def _weight_width(transform: Path, folder: str) -> int:
    meta = tomllib.loads((transform / folder / "node_meta_param.toml").read_text())
    return meta["seq_blocks_2"]["common"]["args"]["weight"]["precision"][0]


def test_a_rerun_keeps_the_earlier_run_under_a_versioned_name(tmp_path: Path, data_file: Path,
                                                               capsys: pytest.CaptureFixture,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    """MASE's folders hold the latest run; earlier ones move to -v1, -v2; a failing run moves nothing."""
    common = ["jsc-tiny", "jsc", "--data-path", str(data_file), "--project-dir", str(tmp_path), "--project", "p"]
    transform = tmp_path / "p" / "software" / "transform"
    for width in (8, 6, 5):
        caplog.clear()
        config = tmp_path / f"w{width}.toml"
        config.write_text(EXAMPLE.read_text().replace('"weight_width" = 8', f'"weight_width" = {width}'))
        code, _, err = _run(capsys, ["transform", "--config", str(config), *common])
        assert code == 0, err
    assert [m for m in caplog.messages if "earlier run" in m] == [
        f"earlier run kept: {transform / 'quantize'} -> quantize-v2, {transform / 'transformed_ckpt'} -> "
        "transformed_ckpt-v2"]
    assert [_weight_width(transform, f) for f in ("transformed_ckpt-v1", "transformed_ckpt-v2", "transformed_ckpt")] \
        == [8, 6, 5]
    assert sorted(p.name for p in transform.iterdir()) == ["quantize", "quantize-v1", "quantize-v2", "transformed_ckpt",
                                                           "transformed_ckpt-v1", "transformed_ckpt-v2"]
    bad = tmp_path / "bad.toml"
    bad.write_text("[passes.quantize]\nby = 'type'\n[passes.quantize.linear.config]\nname = 'intger'\n")
    caplog.clear()
    code, _, err = _run(capsys, ["transform", "--config", str(bad), *common])
    assert code == 2 and not [m for m in caplog.messages if "earlier run" in m]
    assert _weight_width(transform, "transformed_ckpt") == 5 and not (transform / "quantize-v3").exists()


def test_without_load_it_warns_that_the_weights_are_untrained(tmp_path: Path, data_file: Path,
                                                              capsys: pytest.CaptureFixture,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    argv = ["transform", "jsc-tiny", "jsc", "--config", str(EXAMPLE), "--data-path", str(data_file),
            "--project-dir", str(tmp_path), "--json"]
    code, _, err = _run(capsys, argv)
    assert code == 0, err
    assert [m for m in caplog.messages if "--load" in m] == [
        "ch transform: no --load given, so the model has untrained (random) weights; pass --load CKPT "
        "(e.g. a best.ckpt of ch train) to work on a trained model"]
    caplog.clear()
    torch.save(get_model("jsc-tiny").state_dict(), tmp_path / "w.pt")
    code, _, err = _run(capsys, [*argv, "--load", str(tmp_path / "w.pt"), "--load-type", "pt"])
    assert code == 0, err
    assert not [m for m in caplog.messages if "untrained" in m]


def test_the_printed_evaluation_command_runs(tmp_path: Path, data_file: Path, capsys: pytest.CaptureFixture) -> None:
    """`ch transform` ends with the `ch test` command for its graph; that command must work as printed."""
    import re
    import shlex

    argv = ["transform", "jsc-tiny", "jsc", "--config", str(EXAMPLE), "--data-path", str(data_file),
            "--project-dir", str(tmp_path), "--project", "p"]
    code, out, _ = _run(capsys, argv)
    assert code == 0
    printed = re.search(r"evaluate it with `ch (test [^`]+)`", out)
    assert printed is not None, out
    command = shlex.split(printed.group(1))
    assert command == ["test", "jsc", "--load", str(tmp_path / "p/software/transform/transformed_ckpt/graph_module.mz")]
    code, out, err = _run(capsys, [*command, "--data-path", str(data_file), "--json"])
    assert code == 0, err
    data = load_dataset("jsc", data_file)
    [(test_acc, _)] = evaluate_models([load_model(command[-1], "mz", model=None)], data.x_test, data.y_test)
    assert json.loads(out)["test_acc_epoch"] == pytest.approx(test_acc, abs=1e-12)


ALL_INTEGER = """
[passes.quantize]
by = "type"
[passes.quantize.default.config]
name = "integer"
data_in_width = 8
data_in_frac_width = 4
weight_width = 4
weight_frac_width = 3
bias_width = 8
bias_frac_width = 4
"""


def test_report_estimates_the_hardware_of_a_fully_quantised_graph(tmp_path: Path, data_file: Path,
                                                                  capsys: pytest.CaptureFixture) -> None:
    """Every node integer: the report holds the estimate of the prepared graph, per layer and in total."""
    from chop.hardware.estimate import estimate_design
    from chop.hardware.prepare import prepare

    config = tmp_path / "all.toml"
    config.write_text(ALL_INTEGER)
    args = ["transform", "jsc-tiny", "jsc", "--config", str(config), "--data-path", str(data_file),
            "--project-dir", str(tmp_path), "--project", "p", "--report"]
    torch.manual_seed(0)
    code, out, err = _run(capsys, [*args, "--json"])
    assert code == 0, err
    estimate = json.loads(out)["report"]["hardware_estimate"]
    saved = load_model(Path(json.loads(out)["transformed_ckpt"]) / "graph_module.mz", "mz")
    expected = estimate_design(prepare(saved).module)
    assert estimate == expected.as_dict()
    assert [layer["kind"] for layer in estimate["layers"]] == ["fixed_affine", "fixed_relu", "fixed_linear", "fixed_relu"]
    assert estimate["luts"] > 0 and estimate["ffs"] == sum(layer["ffs"] for layer in estimate["layers"])

    torch.manual_seed(0)
    code, out, err = _run(capsys, args)
    assert code == 0, err
    lines = out.splitlines()
    assert "Estimated hardware (Yosys -nodsp, pipeline layer)" in out
    total = next(line for line in lines if line.startswith("│ total ") and "fixed" not in line)
    assert [cell.strip() for cell in total.split("│")[3:6]] == [f"{expected.luts:,}", f"{expected.ffs:,}",
                                                                f"{expected.carry4:,}"]
    assert max(len(line) for line in lines if not line.startswith("transformed graph")) <= 100
