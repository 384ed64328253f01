"""The lab-4 hardware flow of ``shared/spec/hardware.md``, as a MASE user writes it, on lab 4's network.

Metadata passes, the hardware metadata pass before quantisation (as MASE orders it), a fixed-point
quantise config by type, then MASE's four emit passes and the testbench's own scripts from a shell:
no hand edit of any precision. The RTL must agree with the integer reference on every row it is
given, and the integer reference with the prepared fake-quantised model.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from prepare_helpers import calibrated, jsc_test_rows

from chop.hardware.reference import mismatches
from chop.ir.graph.mase_graph import MaseGraph
from chop.passes.graph.analysis import (
    add_common_metadata_analysis_pass,
    add_hardware_metadata_analysis_pass,
    init_metadata_analysis_pass,
)
from chop.passes.graph.transforms import (
    emit_bram_transform_pass,
    emit_internal_rtl_transform_pass,
    emit_verilog_tb_transform_pass,
    emit_verilog_top_transform_pass,
    prepare_hardware_transform_pass,
    quantize_transform_pass,
)

ROWS = 1000
FIXED = {"name": "integer", "data_in_width": 8, "data_in_frac_width": 3, "weight_width": 8, "weight_frac_width": 3,
         "bias_width": 8, "bias_frac_width": 3}
QUANTISE = {"by": "type", "default": {"config": {"name": None}},
            **{op: {"config": dict(FIXED)} for op in ("linear", "relu", "batch_norm1d")}}


def test_the_lab_4_flow_runs_unchanged_and_the_rtl_matches_the_reference(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    model = calibrated("jsc-three-linear", seed=0)
    x, _ = jsc_test_rows(ROWS)
    mg = MaseGraph(model=model)
    mg, _ = init_metadata_analysis_pass(mg, None)
    mg, _ = add_common_metadata_analysis_pass(mg, {"dummy_in": {"x": x[:1]}, "add_value": False})
    mg, _ = add_hardware_metadata_analysis_pass(mg, None)
    mg, _ = quantize_transform_pass(mg, QUANTISE)
    mg, _ = emit_verilog_top_transform_pass(mg)
    mg, _ = emit_internal_rtl_transform_pass(mg)
    mg, _ = emit_bram_transform_pass(mg)
    mg, _ = emit_verilog_tb_transform_pass(mg, {"test_inputs": [x], "trans_num": 1})

    assert Path("top/hardware/rtl/top.sv").is_file() and Path("top/hardware/sim/build.sh").is_file()
    prepared, _ = prepare_hardware_transform_pass(mg)
    assert mismatches(prepared, x) == 0  # prepared fake-quantised PyTorch == integer reference
    run = subprocess.run(["sh", "top/hardware/sim/run.sh"], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.splitlines()[-1].endswith("mismatches 0")  # RTL == integer reference on every row
    assert f"rows {ROWS} " in run.stdout.splitlines()[-1]
