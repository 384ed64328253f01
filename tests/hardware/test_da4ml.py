"""da4ml's adder graphs, emitted with machop's port contract, compute ``x @ W^T`` bit for bit.

The reference is the int64 product ``x @ W^T``; the module is checked twice against it: in
da4ml's own emulator (its C++ DAIS interpreter, ``CombLogic.predict``) and as Verilog in a
Verilator simulation driven by the small harness below (private to this test: it drives
``data_in`` and reads ``data_out`` of any widths, one vector per line in hexadecimal words). The
four cases share one Verilator build (a bench top concatenating their ports), which also checks
that several da4ml modules live in one design.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import Tensor

from chop.errors import HardwareError
from chop.hardware.da4ml_backend import Da4mlModule, accumulator_format, da4ml_linear_verilog
from chop.hardware.fixed import FixedFormat
from chop.hardware.tools import find_tool

VECTORS = 1200

HARNESS = r"""
#include <cstdint>
#include <cstdio>
#include <vector>
#include "Vdut.h"
#include "verilated.h"

// a port of up to 64 bits is an integer in Verilator, a wider one a VlWide of 32-bit words
typedef std::vector<uint32_t> Words;
template <typename T> void put(T& port, const Words& w) { port = T(uint64_t(w[0]) | (uint64_t(w[1]) << 32)); }
template <std::size_t N> void put(VlWide<N>& port, const Words& w) { for (std::size_t i = 0; i < N; ++i) port[i] = w[i]; }
template <typename T> void get(const T& port, Words& w) { uint64_t v = port; w[0] = uint32_t(v); w[1] = uint32_t(v >> 32); }
template <std::size_t N> void get(const VlWide<N>& port, Words& w) { for (std::size_t i = 0; i < N; ++i) w[i] = port[i]; }

int main(int argc, char** argv) {
    const int in_words = atoi(argv[1]), out_words = atoi(argv[2]);
    Words in(in_words < 2 ? 2 : in_words, 0), out(out_words < 2 ? 2 : out_words, 0);
    Vdut dut;
    while (true) {
        for (int i = 0; i < in_words; ++i) if (scanf("%x", &in[i]) != 1) return 0;
        put(dut.data_in, in);
        dut.eval();
        get(dut.data_out, out);
        for (int i = 0; i < out_words; ++i) printf("%08x%c", out[i], i + 1 == out_words ? '\n' : ' ');
    }
}
"""


def words(value: int, count: int) -> list[str]:
    return [f"{(value >> (32 * k)) & 0xFFFFFFFF:x}" for k in range(count)]


def bench_top(modules: list[Da4mlModule]) -> str:
    """A top that concatenates every module's ports, so that one Verilator build checks them all."""
    lines, low_in, low_out = [], 0, 0
    for module in modules:
        width_in, width_out = module.inputs * module.in_format.width, module.outputs * module.acc_format.width
        lines.append(f"    {module.name} u_{module.name} (.data_in(data_in[{low_in + width_in - 1}:{low_in}]), "
                     f".data_out(data_out[{low_out + width_out - 1}:{low_out}]));")
        low_in, low_out = low_in + width_in, low_out + width_out
    return "\n".join([f"module bench (input [{low_in - 1}:0] data_in, output [{low_out - 1}:0] data_out);",
                      *lines, "endmodule", ""])


def simulate(modules: list[Da4mlModule], inputs: list[Tensor], directory: Path) -> list[Tensor]:
    """Each module's ``data_out`` codes for its rows of ``inputs``, from one Verilator build of them all.

    The build uses ``-Wall``, so a lint warning in any file fails it.
    """
    files: dict[str, str] = {"bench.v": bench_top(modules)}
    for module in modules:
        for name, text in module.files:
            assert files.setdefault(name, text) == text  # da4ml's helpers are the same for every module
    for name, text in files.items():
        (directory / name).write_text(text)
    (directory / "harness.cpp").write_text(HARNESS)
    build = subprocess.run([str(find_tool("verilator")), "--cc", "--exe", "--build", "-Wall", "--top-module", "bench",
                            "--prefix", "Vdut", "--Mdir", str(directory / "obj"), "-o", "sim",
                            "-MAKEFLAGS", "OPT_FAST=-O0 OPT_SLOW=-O0 OPT_GLOBAL=-O0",
                            *(str(directory / name) for name in files), str(directory / "harness.cpp")],
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    fields_in = [(module.in_format.width, module.inputs) for module in modules]
    fields_out = [(module.acc_format, module.outputs) for module in modules]
    in_words = -(-sum(width * count for width, count in fields_in) // 32)
    out_words = -(-sum(fmt.width * count for fmt, count in fields_out) // 32)
    lines = []
    for rows in zip(*(x.tolist() for x in inputs)):
        packed, low = 0, 0
        for (width, _), row in zip(fields_in, rows):
            for code in row:
                packed |= (code & (2**width - 1)) << low
                low += width
        lines.append(" ".join(words(packed, in_words)))
    run = subprocess.run([str(directory / "obj" / "sim"), str(in_words), str(out_words)],
                         input="\n".join(lines) + "\n", capture_output=True, text=True, check=True)
    results: list[list[list[int]]] = [[] for _ in modules]
    for line in run.stdout.split("\n")[:-1]:
        packed, low = sum(int(word, 16) << (32 * k) for k, word in enumerate(line.split())), 0
        for result, (fmt, count) in zip(results, fields_out):
            row = []
            for _ in range(count):
                value = (packed >> low) & (2**fmt.width - 1)
                row.append(value - 2**fmt.width if fmt.signed and value >= 2 ** (fmt.width - 1) else value)
                low += fmt.width
            result.append(row)
    return [torch.tensor(result, dtype=torch.int64) for result in results]


def random_weights(outputs: int, inputs: int, weight_bits: int, seed: int) -> Tensor:
    """Signed weight codes of ``weight_bits``, with an all-zero row and column among them (edge cases)."""
    generator = torch.Generator().manual_seed(seed)
    weight = torch.randint(-(2 ** (weight_bits - 1)), 2 ** (weight_bits - 1), (outputs, inputs), generator=generator)
    weight[1] = 0  # an output that is always zero
    weight[:, 2] = 0  # an input that no output uses
    weight[3] = 0
    weight[3, 0] = 1  # an output that is an input
    return weight


def input_vectors(fmt: FixedFormat, inputs: int, seed: int) -> Tensor:
    """Random codes over the whole range, plus the corners where accumulators reach their extremes."""
    generator = torch.Generator().manual_seed(seed)
    codes = torch.randint(fmt.lo, fmt.hi + 1, (VECTORS, inputs), generator=generator)
    corners = torch.tensor([[fmt.lo] * inputs, [fmt.hi] * inputs,
                            [fmt.lo if i % 2 else fmt.hi for i in range(inputs)],
                            [fmt.hi if i % 2 else fmt.lo for i in range(inputs)]])
    return torch.cat([corners, codes])


CASES = [(4, FixedFormat(8, 3, signed=True)), (4, FixedFormat(6, 0, signed=False)),
         (8, FixedFormat(7, 2, signed=True)), (8, FixedFormat(8, 8, signed=False))]


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Tensor, Da4mlModule, Tensor, Tensor]]:
    """For each case, then for an all-zero matrix: the weights, the module, the input codes and what
    Verilator computed."""
    weights = [random_weights(7, 10, bits, seed=case) for case, (bits, _) in enumerate(CASES)]
    modules = [da4ml_linear_verilog(weight, fmt, f"cmvm_{case}") for case, (weight, (_, fmt)) in
               enumerate(zip(weights, CASES))]
    inputs = [input_vectors(fmt, 10, seed=case) for case, (_, fmt) in enumerate(CASES)]
    zero_format = FixedFormat(5, 0, signed=False)
    weights.append(torch.zeros(3, 4, dtype=torch.int64))
    modules.append(da4ml_linear_verilog(weights[-1], zero_format, "cmvm_zero"))
    inputs.append(input_vectors(zero_format, 4, seed=len(CASES)))
    outputs = simulate(modules, inputs, tmp_path_factory.mktemp("da4ml"))
    return list(zip(weights, modules, inputs, outputs))


@pytest.mark.parametrize("case", range(len(CASES)), ids=[f"w{bits}-{fmt}" for bits, fmt in CASES])
def test_module_computes_the_exact_product_in_verilator_and_in_da4mls_emulator(
        simulated: list[tuple[Tensor, Da4mlModule, Tensor, Tensor]], case: int) -> None:
    weight, module, x, verilated = simulated[case]
    exact = x @ weight.T
    assert len(x) >= 1000
    assert module.acc_format == accumulator_format(weight, CASES[case][1])
    assert int(exact.min()) >= module.acc_format.lo and int(exact.max()) <= module.acc_format.hi
    assert np.array_equal(module.solution.predict(x.numpy().astype(np.float64)), exact.numpy())
    assert torch.equal(verilated, exact)


def test_an_all_zero_matrix_is_a_module_of_zeros(simulated: list[tuple[Tensor, Da4mlModule, Tensor, Tensor]]) -> None:
    _, module, x, verilated = simulated[-1]
    assert [name for name, _ in module.files] == ["cmvm_zero.v"]  # no adders, no helpers
    assert module.acc_format == FixedFormat(1, 0, signed=False)
    assert torch.equal(verilated, torch.zeros(len(x), 3, dtype=torch.int64))


def test_accumulator_format_is_the_exact_range_of_the_product() -> None:
    weight = torch.tensor([[3, -2], [0, 5]])
    # signed [-8, 7]: row 0 spans [-38, 40], row 1 [-40, 35]; unsigned [0, 15]: [-30, 45] and [0, 75]
    assert accumulator_format(weight, FixedFormat(4, 1)) == FixedFormat(7, 1, signed=True)
    assert accumulator_format(weight, FixedFormat(4, 1, signed=False), weight_frac=2) == FixedFormat(8, 3, True)
    assert accumulator_format(torch.tensor([[1, 1]]), FixedFormat(4, 0, signed=False)) == FixedFormat(5, 0, False)


def test_module_keeps_the_port_contract_and_names_its_files() -> None:
    module = da4ml_linear_verilog(torch.tensor([[1, 2, 3], [0, -4, 5]]), FixedFormat(8, 0), "layer_1")
    # row 1 reaches -4*127 + 5*-128 = -1148: 12 bits
    assert (module.name, module.inputs, module.outputs, module.output_width) == ("layer_1", 3, 2, 12)
    assert "module layer_1 (\n    input  [23:0] data_in,\n    output [23:0] data_out\n);" in module.verilog
    names = [name for name, _ in module.files]
    assert names[:2] == ["layer_1.v", "layer_1_adders.v"] and len(names) > 2
    assert all(name.startswith("da4ml_") for name in names[2:])
    assert all("`timescale" not in text for _, text in module.files)


@pytest.mark.parametrize(("weight", "message"), [
    (torch.tensor([1, 2]), r"weights of shape \(2,\) are not an \(out, in\) matrix"),
    (torch.tensor([[0.5, 1.0]]), "weights are not integer codes"),
    (torch.tensor([[2**24]]), "a weight code of 16777216 is beyond"),
])
def test_bad_weights_are_one_line_errors(weight: Tensor, message: str) -> None:
    with pytest.raises(HardwareError, match=message):
        da4ml_linear_verilog(weight, FixedFormat(8, 0), "bad")


def test_module_name_must_be_a_verilog_identifier() -> None:
    with pytest.raises(HardwareError, match="'2fc' is not a Verilog identifier"):
        da4ml_linear_verilog(torch.tensor([[1]]), FixedFormat(8, 0), "2fc")


def test_without_da4ml_the_error_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "da4ml.trace", None)  # what Python does for a package that is not installed
    with pytest.raises(HardwareError, match=r"need da4ml: pip install 'machop\[hardware\]'"):
        da4ml_linear_verilog(torch.tensor([[1, 2]]), FixedFormat(4, 0), "probe")


def test_the_same_weights_are_solved_once() -> None:
    weights = torch.tensor([[3, -1, 0], [2, 2, -4]])
    first = da4ml_linear_verilog(weights, FixedFormat(6, 2), "twice")
    again = da4ml_linear_verilog(weights.clone(), FixedFormat(6, 2), "twice")  # equal values, another tensor
    assert again is first
    other = da4ml_linear_verilog(weights, FixedFormat(7, 2), "twice")
    assert other is not first and other.in_format == FixedFormat(7, 2)
