"""What ``emit_rtl`` writes: the files, their names and text, widths against brute force, and its errors."""

from __future__ import annotations

import itertools
import re
import subprocess
from pathlib import Path

import pytest
import torch
from rtl_helpers import exact_accumulator, prepared, random_linear
from torch import Tensor, nn

from chop.errors import HardwareError
from chop.hardware.fixed import FixedFormat
from chop.hardware.ops import FixedAdd, FixedAffine, FixedInput, FixedLinear, FixedReLU
from chop.hardware.rtl import dependence_files, emit_rtl, plan_rtl
from chop.hardware.rtl.components import COMPONENT_DIR
from chop.hardware.rtl.verilog import signed_width
from chop.hardware.tools import find_tool

X = FixedFormat(8, 3)
RELU = FixedFormat(6, 2, signed=False)


class Net(nn.Module):
    """A JSC-shaped network: ``seq_blocks`` of input, affine, relu, linear, relu (nodes seq_blocks_0..4)."""

    def __init__(self) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(0)
        scale, shift = torch.tensor([3, -5, 7, 1, 2]), torch.tensor([1, 2, 3, 4, -6])
        affine_acc = exact_accumulator(torch.diag(scale), shift, X, 0, 5)
        self.seq_blocks = nn.Sequential(
            FixedInput(X), FixedAffine(scale, shift, X, FixedFormat(4, 2), affine_acc, X),
            FixedReLU(X, X), random_linear(gen, 5, 4, X, FixedFormat(4, 2), X), FixedReLU(X, RELU))

    @property
    def linear(self) -> FixedLinear:
        return self.seq_blocks[3]

    def forward(self, x: Tensor) -> Tensor:
        return self.seq_blocks(x)


def test_one_module_per_layer_named_after_its_node(tmp_path: Path) -> None:
    design = emit_rtl(prepared(Net()), tmp_path / "rtl")
    names = [path.name for path in design.files]
    assert names == ["fixed_requant.sv", "fixed_delay.sv", "fixed_linear.sv", "fixed_affine.sv", "fixed_relu.sv",
                     "seq_blocks_1_affine.sv", "seq_blocks_2_relu.sv", "seq_blocks_3_linear.sv", "seq_blocks_4_relu.sv",
                     "top.sv"]
    assert sorted(p.name for p in (tmp_path / "rtl").iterdir()) == sorted(names)
    assert design.layer_modules == ("seq_blocks_1_affine", "seq_blocks_2_relu", "seq_blocks_3_linear",
                                    "seq_blocks_4_relu")
    assert [(layer.node, layer.kind, layer.latency) for layer in design.layers] == [
        ("seq_blocks_1", "fixed_affine", 1), ("seq_blocks_2", "fixed_relu", 1), ("seq_blocks_3", "fixed_linear", 1),
        ("seq_blocks_4", "fixed_relu", 1)]
    assert (design.input_shape, design.input_format, design.input_bits) == ((5,), X, 40)
    assert (design.output_shape, design.output_format, design.output_bits) == ((4,), RELU, 24)
    assert (design.top_name, design.latency, design.pipeline) == ("top", 4, "layer")
    top = (tmp_path / "rtl" / "top.sv").read_text()
    for port in ("input  logic clk", "input  logic rst", "input  logic data_in_0_valid", "input  logic [39:0] data_in_0",
                 "output logic data_out_0_valid", "output logic [23:0] data_out_0"):
        assert port in top


def test_a_linear_layer_module_reads_like_its_layer(tmp_path: Path) -> None:
    net = Net()
    emit_rtl(prepared(net), tmp_path / "rtl")
    text = (tmp_path / "rtl" / "seq_blocks_3_linear.sv").read_text()
    weight, bias = net.linear.weight.tolist(), net.linear.bias.tolist()
    assert "// seq_blocks_3_linear: y = requant(x @ W^T + b), 5 -> 4" in text
    assert "//   weight     4 x 5 codes of fixed<4,2> (constants, below)" in text
    assert f"//   accumulator {net.linear.acc_format} (exact: the sums cannot overflow)" in text
    assert "localparam int ROWS = 4;" in text
    for j, row in enumerate(weight):
        terms = [f"{'-' if w < 0 else '+'} {'' if abs(w) == 1 else f'{abs(w)}*'}x{i}" for i, w in enumerate(row) if w]
        formula = " ".join(terms)
        formula = formula[2:] if formula.startswith("+") else "-" + formula[2:]
        assert f"// row {j}: row{j} = {formula}" in text
    # the bias codes carry half an output step, so the requantiser rounds without an incrementer
    drop = net.linear.acc_format.frac - net.linear.out_format.frac
    assert drop > 0
    assert f"// bias codes at fraction bits {net.linear.acc_format.frac} plus half an output step ({2 ** (drop - 1)}," in text
    assert "//   " + ", ".join(str(b + 2 ** (drop - 1)) for b in bias) in text
    assert ".HALF_ADDED(1'b1)" in text
    assert "fixed_linear #(" in text and "fixed_delay #(.WIDTH(32), .STAGES(1))" in text


def test_widths_are_exact_against_every_input(tmp_path: Path) -> None:
    """The row sum's wire and the accumulator are as wide as brute force over all input codes says."""
    x = FixedFormat(4, 0)
    weight, bias = torch.tensor([[7, -3, 5, 0, -8]]), torch.tensor([37])
    acc = exact_accumulator(weight, bias, x, 1, 1 + 2)
    model = nn.Sequential(FixedInput(x), FixedLinear(weight, bias, x, FixedFormat(4, 2), acc, FixedFormat(8, 1)))
    emit_rtl(prepared(model), tmp_path / "rtl")
    text = (tmp_path / "rtl" / "_1_linear.sv").read_text()
    sums = [sum(w * v for w, v in zip(weight[0].tolist(), values))
            for values in itertools.product(range(x.lo, x.hi + 1), repeat=5)]
    assert re.search(r"wire signed \[(\d+):0\] row0 = ", text).group(1) == str(signed_width(min(sums), max(sums)) - 1)
    accs = [(s << 1) + 37 for s in sums]
    assert f"localparam int ACC_WIDTH = {signed_width(min(accs), max(accs))};" in text
    assert "wire unused_inputs = &{1'b0, data_in_0[12 +: 4]};" in text  # the all-zero column


@pytest.mark.parametrize("pipeline, registers, latency", [("none", 0, 0), ("layer", 4, 4), ("split", 6, 6)])
def test_the_pipeline_option_places_the_registers(tmp_path: Path, pipeline: str, registers: int, latency: int) -> None:
    design = emit_rtl(prepared(Net()), tmp_path / "rtl", pipeline=pipeline)
    texts = [layer.file.read_text() for layer in design.layers]
    assert sum(text.count(".STAGES(1))") for text in texts) == registers
    assert design.latency == latency
    assert [layer.latency for layer in design.layers] == {"none": [0] * 4, "layer": [1] * 4, "split": [2, 1, 2, 1]}[pipeline]


def test_yosys_reads_every_file_and_finds_no_problem(tmp_path: Path) -> None:
    design = emit_rtl(prepared(Net()), tmp_path / "rtl")
    script = f"read_verilog -sv {' '.join(map(str, design.files))}; hierarchy -check -top top; proc; check -assert"
    result = subprocess.run([str(find_tool("yosys")), "-q", "-p", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _decode(text: str, width: int) -> list[list[int]]:
    rows = [line.split() for line in text.splitlines() if line and not line.startswith("//")]
    return [[int(v, 16) - (1 << width) if int(v, 16) >> (width - 1) else int(v, 16) for v in row] for row in rows]


def test_constant_memories_hold_each_layers_numbers(tmp_path: Path) -> None:
    net = Net()
    memories = plan_rtl(prepared(net)).memory_sources()
    assert sorted(memories) == ["seq_blocks_1_scale.mem", "seq_blocks_1_shift.mem", "seq_blocks_3_bias.mem",
                                "seq_blocks_3_weight.mem"]
    assert _decode(memories["seq_blocks_3_weight.mem"], 4) == net.linear.weight.tolist()
    width = int(re.search(r"// (\d+)-bit", memories["seq_blocks_3_bias.mem"]).group(1))
    assert _decode(memories["seq_blocks_3_bias.mem"], width) == [net.linear.bias.tolist()]
    assert _decode(memories["seq_blocks_1_scale.mem"], 4) == [[3, -5, 7, 1, 2]]


def test_each_kind_names_the_component_files_it_needs() -> None:
    assert dependence_files("fixed_linear") == ("fixed_linear.sv", "fixed_requant.sv", "fixed_delay.sv")
    for kind in ("fixed_linear", "fixed_affine", "fixed_relu", "fixed_add"):
        assert all((COMPONENT_DIR / name).is_file() for name in dependence_files(kind))


def test_an_earlier_design_is_moved_aside(tmp_path: Path) -> None:
    emit_rtl(prepared(Net()), tmp_path / "rtl", top_name="first")
    emit_rtl(prepared(Net()), tmp_path / "rtl", top_name="second")
    assert (tmp_path / "rtl-v1" / "first.sv").is_file() and not (tmp_path / "rtl-v1" / "second.sv").exists()
    assert (tmp_path / "rtl" / "second.sv").is_file() and not (tmp_path / "rtl" / "first.sv").exists()


class Sigmoid(nn.Module):
    input_shape = (4,)

    def __init__(self) -> None:
        super().__init__()
        self.inp, self.relu = FixedInput(X), FixedReLU(X, X)

    def forward(self, x: Tensor) -> Tensor:
        return torch.sigmoid(self.relu(self.inp(x)))


class Broadcast(nn.Module):
    input_shape = (4,)

    def __init__(self) -> None:
        super().__init__()
        self.inp = FixedInput(X)
        self.total = FixedLinear(torch.ones(1, 4, dtype=torch.int64), torch.zeros(1), X, FixedFormat(1, 0, signed=False),
                                 FixedFormat(10, 3), X)
        self.add = FixedAdd(X, X, FixedFormat(9, 3), X)

    def forward(self, x: Tensor) -> Tensor:
        x = self.inp(x)
        return self.add(x, self.total(x))


@pytest.mark.parametrize("model, kwargs, message", [
    (nn.Sequential(FixedInput(X), nn.Linear(4, 2)), {},
     "node '_1' (Linear) has no hardware twin; run prepare_hardware_transform_pass on the quantised graph first"),
    (Sigmoid(), {}, "node 'sigmoid' (call_function sigmoid) has no hardware twin"),
    (nn.Sequential(FixedInput(FixedFormat(8, 4)), FixedLinear(torch.ones(2, 4), torch.zeros(2), X, X, FixedFormat(20, 6), X)),
     {}, "node '_1' reads fixed<8,3> but '_0' writes fixed<8,4>"),
    (nn.Sequential(nn.ReLU()), {}, "input 'input_1' does not feed one FixedInput node"),
    (nn.Sequential(FixedInput(X), FixedReLU(X, X)), {},
     "cannot tell the input shape of the graph from node '_0'; set graph_module.input_shape = (features,)"),
    (Net(), {"pipeline": "stage"}, "unknown pipeline 'stage'; use one of: none, layer, split"),
    (Net(), {"products": "lut"}, "unknown products style 'lut'; use one of: shared, csd, multiply"),
    (Net(), {"top_name": "my-top"}, "top_name 'my-top' is not a SystemVerilog identifier"),
    (Net(), {"top_name": "seq_blocks_2_relu"}, "node 'seq_blocks_2' would make a module 'seq_blocks_2_relu', a name "
                                               "already taken; rename the node or choose another top_name"),
    (nn.Sequential(FixedInput(X), FixedLinear(torch.ones(2, 4), torch.zeros(2), X, X, FixedFormat(20, 5), X)), {},
     "node '_1': the accumulator has fewer fraction bits than its products (shift -1)"),
])
def test_what_the_rtl_cannot_implement_is_a_one_line_error(tmp_path: Path, model: nn.Module, kwargs: dict,
                                                           message: str) -> None:
    with pytest.raises(HardwareError, match=re.escape(message)) as error:
        emit_rtl(prepared(model), tmp_path / "rtl", **kwargs)
    assert "\n" not in str(error.value)
    assert not (tmp_path / "rtl").exists()


def test_an_add_of_two_shapes_is_refused(tmp_path: Path) -> None:
    with pytest.raises(HardwareError, match=re.escape("node 'add' adds shapes (4,) and (1,); the hardware add takes "
                                                      "operands of one shape (no broadcasting)")):
        emit_rtl(prepared(Broadcast()), tmp_path / "rtl")
