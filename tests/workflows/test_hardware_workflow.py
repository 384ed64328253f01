"""``chop.workflows.hardware``: the ``[hardware]`` options, and what a run leaves on disk when it succeeds or fails.

These run the flow as a notebook would, without building a simulator or running Yosys (the CLI
tests in ``tests/actions/test_hardware_commands.py`` do that).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

import chop.workflows.hardware as flow
from chop.dataset import load_dataset
from chop.errors import ConfigError, HardwareError, MachopError
from chop.hardware.fixed import FixedFormat
from chop.models import get_model
from chop.workflows.hardware import HardwareOptions, hardware_options, quantised_graphs, run_hardware

INTEGER_8_4 = {"name": "integer", "data_in_width": 8, "data_in_frac_width": 4, "weight_width": 8,
               "weight_frac_width": 4, "bias_width": 8, "bias_frac_width": 4}
PASSES = {"quantize": {"by": "type", "default": {"config": INTEGER_8_4}}}


@pytest.fixture(scope="module")
def data() -> Any:
    return load_dataset("jsc-pythia")


def tiny() -> torch.nn.Module:
    torch.manual_seed(0)
    return get_model("jsc-tiny")


def test_options_default_to_the_emitters_defaults_and_both_synthesis_modes() -> None:
    options = hardware_options(None)
    assert options == HardwareOptions()
    assert (options.pipeline, options.products, options.top_name) == ("layer", "shared", "top")
    assert options.fold_batchnorm is True
    assert options.synth_modes == (False, True) and options.rows is None and options.input_format is None


def test_flags_win_over_the_table_and_a_flag_left_out_keeps_the_tables_value() -> None:
    table = {"input_format": [8, 4], "pipeline": "none", "nodsp": True, "rows": 10, "top_name": "jsc"}
    options = hardware_options(table, {"input_format": "6,3", "pipeline": None, "nodsp": False, "rows": None})
    assert options == HardwareOptions(input_format=(6, 3), pipeline="none", nodsp=False, rows=10, top_name="jsc")
    assert options.synth_modes == (False,)
    assert hardware_options({"input_format": "8, 4, 0", "nodsp": "both"}).input_format == (8, 4, 0)
    assert hardware_options({"nodsp": "both"}).synth_modes == (False, True)
    assert hardware_options({"nodsp": True}).synth_modes == (True,)


@pytest.mark.parametrize("table, message", [
    ({"pipline": "none"}, "[hardware]: unknown key `pipline` (did you mean 'pipeline'?); known: input_format, "
                          "fold_batchnorm, pipeline, products, linear_impl, top_name, nodsp, rows"),
    ({"pipeline": "layers"}, "[hardware]: pipeline = 'layers': unknown pipeline 'layers' (did you mean 'layer'?)"),
    ({"linear_impl": "hls"}, "[hardware]: linear_impl = 'hls': unknown linear_impl 'hls'"),
    ({"products": "dsp"}, "[hardware]: products = 'dsp': unknown products 'dsp'"),
    ({"input_format": "8"}, "[hardware]: input_format = '8': expected width,frac"),
    ({"input_format": [8, 4.5]}, "[hardware]: input_format = [8, 4.5]: expected width,frac"),
    ({"nodsp": "maybe"}, "[hardware]: nodsp = 'maybe': expected true (only -nodsp), false (only with DSPs) or "
                         "\"both\""),
    ({"rows": 0}, "[hardware]: rows = 0: give a positive number of test rows"),
    ({"fold_batchnorm": "yes"}, "[hardware]: `fold_batchnorm` must be true or false, got 'yes'"),
])
def test_a_bad_option_is_a_one_line_error_naming_it(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        hardware_options(table)
    assert str(error.value).startswith(message) and "\n" not in str(error.value)


def test_a_bad_flag_is_named_as_a_flag() -> None:
    with pytest.raises(ConfigError, match=r"^command line: `rows` must be an integer, got '3'$"):
        hardware_options({}, {"rows": "3"})


def test_without_a_quantize_pass_the_graph_is_used_as_it_is(data: Any) -> None:
    graphs = quantised_graphs(tiny(), {}, data)
    assert graphs.float is None
    with pytest.raises(ConfigError, match=r"^\[passes.quantise\]: unknown transform pass 'quantise' \(did you mean "
                                          r"'quantize'\?\)"):
        quantised_graphs(tiny(), {"quantise": {}}, data)


def test_emit_writes_the_report_last_and_takes_the_input_format(tmp_path: Path, data: Any) -> None:
    outcome = run_hardware("emit", tiny(), PASSES, data, tmp_path, HardwareOptions(input_format=(6, 2), rows=20))
    hardware = tmp_path / "hardware"
    assert outcome.hardware_dir == hardware and outcome.kept is None
    assert json.loads((hardware / "report.json").read_text()) == outcome.as_json()
    assert outcome.design.input_format == FixedFormat(6, 2) and outcome.preparation["input"]["format"] == [6, 2, 1]
    assert len((hardware / "sim" / "inputs.txt").read_text().splitlines()) == 20
    assert outcome.simulation is None and outcome.synthesis == {} and outcome.accuracy is None


def test_a_failed_run_removes_its_output_and_puts_the_earlier_run_back(monkeypatch: pytest.MonkeyPatch,
                                                                       tmp_path: Path, data: Any) -> None:
    run_hardware("emit", tiny(), PASSES, data, tmp_path, HardwareOptions(rows=20))
    earlier = {path.relative_to(tmp_path): path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()}

    def fail(*args: Any, **kwargs: Any) -> None:
        raise HardwareError("the simulation failed (exit 1): a stand-in failure")

    monkeypatch.setattr(flow, "simulate_design", fail)
    with pytest.raises(HardwareError, match="a stand-in failure"):
        run_hardware("simulate", tiny(), PASSES, data, tmp_path, HardwareOptions(rows=20, pipeline="none"))
    assert {path.relative_to(tmp_path): path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()} == earlier


def test_an_interrupted_first_run_leaves_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, data: Any) -> None:
    real = flow.emit_design

    def emit_then_interrupt(*args: Any, **kwargs: Any) -> None:
        real(*args, **kwargs)
        assert (tmp_path / "hardware" / "rtl" / "top.sv").is_file()
        raise KeyboardInterrupt

    monkeypatch.setattr(flow, "emit_design", emit_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        run_hardware("emit", tiny(), PASSES, data, tmp_path, HardwareOptions(rows=20))
    assert list(tmp_path.iterdir()) == []


def test_what_can_fail_without_writing_fails_before_anything_is_moved(tmp_path: Path, data: Any) -> None:
    (tmp_path / "hardware").mkdir()
    (tmp_path / "hardware" / "report.json").write_text("{}")
    with pytest.raises(ConfigError, match=r"^\[hardware\]: rows = 20001, but the test split has 20,000 rows"):
        run_hardware("emit", tiny(), PASSES, data, tmp_path, HardwareOptions(rows=20001))
    with pytest.raises(HardwareError, match="top_name"):
        run_hardware("emit", tiny(), PASSES, data, tmp_path, HardwareOptions(rows=20, top_name="1top"))
    with pytest.raises(MachopError, match=r"^unknown hardware command 'simulation' \(did you mean 'simulate'\?\)"):
        run_hardware("simulation", tiny(), PASSES, data, tmp_path)
    assert [path.name for path in tmp_path.iterdir()] == ["hardware"]
    assert (tmp_path / "hardware" / "report.json").read_text() == "{}"
