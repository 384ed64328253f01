"""MASE's emit passes on a prepared graph: the paths MASE users expect, and a testbench that runs from a shell."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import torch
from torch import Tensor, nn

from chop.errors import PassError
from chop.hardware.fixed import FixedFormat
from chop.hardware.ops import FixedInput, FixedLinear, FixedReLU, HardwareOp
from chop.ir.graph.mase_graph import MaseGraph
from chop.passes.graph.transforms import (
    emit_bram_transform_pass,
    emit_internal_rtl_transform_pass,
    emit_verilog_tb_transform_pass,
    emit_verilog_top_transform_pass,
)

X, W, OUT = FixedFormat(8, 3), FixedFormat(4, 2), FixedFormat(6, 2, signed=False)


class Net(nn.Module):
    """``seq_blocks``: input, linear 4 -> 3, relu (nodes seq_blocks_0..2), as preparation leaves a JSC model."""

    def __init__(self) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(0)
        weight = torch.randint(W.lo, W.hi + 1, (3, 4), generator=gen)
        bias = torch.randint(-100, 100, (3,), generator=gen)
        acc = FixedFormat(16, 5)  # holds 4 * 128 * 8 + 100 comfortably: the sums are exact
        self.seq_blocks = nn.Sequential(FixedInput(X), FixedLinear(weight, bias, X, W, acc, X), FixedReLU(X, OUT))

    def forward(self, x: Tensor) -> Tensor:
        return self.seq_blocks(x)


def graph() -> MaseGraph:
    return MaseGraph(Net(), leaf_modules=[HardwareOp])


def test_the_lab_4_flow_writes_the_paths_mase_users_expect_and_its_testbench_passes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    mg = graph()
    x = torch.randn(300, 4, generator=torch.Generator().manual_seed(1)) * 12  # saturates the input sometimes
    mg, top = emit_verilog_top_transform_pass(mg)
    mg, internal = emit_internal_rtl_transform_pass(mg)
    mg, bram = emit_bram_transform_pass(mg)
    mg, tb = emit_verilog_tb_transform_pass(mg, {"test_inputs": [x], "trans_num": 1})
    rtl, sim = Path("top/hardware/rtl"), Path("top/hardware/sim")
    assert top["files"] == [rtl / "seq_blocks_1_linear.sv", rtl / "seq_blocks_2_relu.sv", rtl / "top.sv"]
    assert internal["files"] == [rtl / name for name in ("fixed_requant.sv", "fixed_delay.sv", "fixed_linear.sv",
                                                         "fixed_relu.sv")]
    assert bram["files"] == [rtl / "seq_blocks_1_weight.mem", rtl / "seq_blocks_1_bias.mem"]
    assert tb["files"] == [sim / name for name in ("harness.cpp", "build.sh", "run.sh", "inputs.txt", "expected.txt")]
    assert all(path.is_file() for path in [*top["files"], *internal["files"], *bram["files"], *tb["files"]])
    assert tb["rows"] == 300 and top["design"].latency == 2

    blocks = [mg.model.get_submodule(f"seq_blocks.{i}") for i in range(3)]  # the expected codes, chained by hand
    expected = blocks[2].integer_forward(blocks[1].integer_forward(blocks[0].integer_forward(x)))
    written = torch.tensor([[int(v) for v in line.split()] for line in (sim / "expected.txt").read_text().splitlines()])
    assert torch.equal(written, expected)

    monkeypatch.chdir(tmp_path.parent)  # the scripts work from anywhere
    run = subprocess.run(["sh", str(tmp_path / sim / "run.sh")], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.splitlines()[-1] == "rows 300 cycles 302 latency 2 mismatches 0"
    assert (tmp_path / sim / "obj_dir" / "Vtop").is_file()


def test_a_new_run_moves_the_earlier_hardware_aside(tmp_path: Path) -> None:
    args = {"project_dir": str(tmp_path / "proj"), "top_name": "net"}
    emit_verilog_top_transform_pass(graph(), args)
    _, info = emit_verilog_top_transform_pass(graph(), {**args, "pipeline": "none"})
    assert (tmp_path / "proj" / "hardware-v1" / "rtl" / "net.sv").is_file()
    assert (tmp_path / "proj" / "hardware" / "rtl" / "net.sv").is_file()
    assert info["design"].latency == 0 and info["design"].top_name == "net"


@pytest.mark.parametrize("emit, args, message", [
    (emit_verilog_top_transform_pass, {"pipline": "none"},
     "emit_verilog_top_transform_pass: unknown argument 'pipline' (did you mean 'pipeline'?)"),
    (emit_internal_rtl_transform_pass, {"project_dir": 3}, "emit_internal_rtl_transform_pass: pass argument "
                                                            "'project_dir' = 3: expected a string or Path"),
    (emit_verilog_tb_transform_pass, {}, "emit_verilog_tb_transform_pass: give test_inputs, a list of input batches"),
    (emit_verilog_tb_transform_pass, {"test_inputs": [torch.zeros(2, 4)], "trans_num": 2},
     "emit_verilog_tb_transform_pass: trans_num = 2, but test_inputs holds 1 batches"),
])
def test_bad_pass_arguments_are_one_line_errors(tmp_path: Path, emit, args: dict, message: str) -> None:
    with pytest.raises(PassError) as error:
        emit(graph(), {"project_dir": str(tmp_path), **args})
    assert str(error.value).startswith(message)
