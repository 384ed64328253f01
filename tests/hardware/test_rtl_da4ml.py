"""``linear_impl="da4ml"``: linear layers whose row sums come from da4ml's adder graphs compute machop's codes.

The reference is the integer semantics, computed without ``chop.hardware.rtl``: the integer
reference of a prepared zoo model on the jsc-pythia test split, or the twins' ``integer_forward``
chained by hand for hand-built graphs. Every design is also linted (``-Wall``) and checked to have
the same layer modules, with the same ports, as machop's own emission.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from prepare_helpers import INTEGER_8_4, calibrated, jsc_test_rows, quantised
from rtl_helpers import chain, exact_accumulator, lint, mlps, prepared, random_codes, random_linear, runtime_cache  # noqa: F401
from torch import fx, nn

from chop.errors import HardwareError
from chop.hardware.fixed import FixedFormat
from chop.hardware.ops import FixedInput, FixedLinear, FixedReLU
from chop.hardware.prepare import prepare
from chop.hardware.reference import integer_reference
from chop.hardware.rtl import RtlDesign, emit_rtl, plan_rtl
from chop.hardware.simulate import simulate
from chop.passes.graph.transforms import (
    emit_internal_rtl_transform_pass,
    emit_verilog_tb_transform_pass,
    emit_verilog_top_transform_pass,
)

ROWS = 1000


def ports(text: str) -> list[str]:
    """A module's port declarations (the header up to ``);``), comments dropped."""
    header = text[text.index("module "):text.index(");")]
    return [re.sub(r"\s*//.*", "", line).strip() for line in header.splitlines()[1:]]


def same_modules_and_ports(module: fx.GraphModule, design: RtlDesign, **options: str) -> bool:
    csd, da4ml = plan_rtl(module, **options), plan_rtl(module, linear_impl="da4ml", **options)
    return ([layer.module for layer in csd.layers] == [layer.module for layer in da4ml.layers]
            == list(design.layer_modules)
            and all(ports(a.text) == ports(b.text) for a, b in zip(csd.layers, da4ml.layers)))


def test_jsc_toy_with_da4ml_linears_matches_the_integer_reference_on_1000_test_rows(
        tmp_path: Path, runtime_cache: Path) -> None:
    module = prepare(quantised(calibrated("jsc-toy", seed=1), INTEGER_8_4).model).module
    x, _ = jsc_test_rows(ROWS)
    design = emit_rtl(module, tmp_path / "rtl", linear_impl="da4ml")
    names = {path.name for path in design.files}
    assert {f"seq_blocks_{n}_linear_cmvm.v" for n in (2, 5, 8)} <= names and "da4ml_shift_adder.v" in names
    assert all(path.is_file() for path in design.files)
    assert same_modules_and_ports(module, design)
    assert lint(design) == ""
    first = next(m for m in module.modules() if isinstance(m, FixedInput))
    result = simulate(design, first.integer_forward(x), tmp_path / "sim", runtime_cache=runtime_cache)
    expected = integer_reference(module, x)
    assert len(expected.unique(dim=0)) > 100  # many different output rows: the comparison has teeth
    assert torch.equal(result.outputs, expected)
    assert result.latency == design.latency == 8


def test_unsigned_sums_and_a_split_pipeline(tmp_path: Path, runtime_cache: Path) -> None:
    """Unsigned inputs and weights make da4ml's accumulators unsigned: the layer widens them by a zero bit
    (none for an all-zero matrix, whose sums are one bit)."""
    gen = torch.Generator().manual_seed(3)
    x, w, out = FixedFormat(6, 2, signed=False), FixedFormat(5, 3, signed=False), FixedFormat(7, 1)
    zeros, bias = torch.zeros(2, 3, dtype=torch.int64), torch.tensor([-3, 5])
    unsigned = [FixedInput(x), random_linear(gen, 7, 6, x, w, out, extra_frac=2), FixedReLU(out, x),
                random_linear(gen, 6, 3, x, FixedFormat(6, 4), out)]
    all_zero = [FixedInput(x), FixedLinear(zeros, bias, x, w, exact_accumulator(zeros, bias, x, 0, 5), out)]
    codes = random_codes(gen, x, ROWS, (7,))
    for name, modules, latency in (("unsigned", unsigned, 5), ("all_zero", all_zero, 2)):
        module = prepared(nn.Sequential(*modules))
        design = emit_rtl(module, tmp_path / name / "rtl", pipeline="split", linear_impl="da4ml")
        assert "sums_unsigned" in (design.rtl_dir / "_1_linear.sv").read_text()
        assert same_modules_and_ports(module, design, pipeline="split")
        assert lint(design) == ""
        result = simulate(design, codes[:, :3] if name == "all_zero" else codes, tmp_path / name / "sim",
                          runtime_cache=runtime_cache)
        assert torch.equal(result.outputs, chain(modules[1:], codes[:, :3] if name == "all_zero" else codes))
        assert result.latency == latency


@settings(max_examples=3, deadline=None)
@given(modules=mlps(max_width=10, fracs=(-2, 10)), pipeline=st.sampled_from(["none", "layer", "split"]))
def test_random_mlps_with_da4ml_linears_match_on_1000_rows(modules: list, pipeline: str,
                                                          tmp_path_factory: pytest.TempPathFactory,
                                                          runtime_cache: Path) -> None:
    work = Path(tempfile.mkdtemp(dir=tmp_path_factory.getbasetemp()))
    codes = random_codes(torch.Generator().manual_seed(7), modules[0].out_format, ROWS, (modules[1].weight.shape[1],))
    design = emit_rtl(prepared(nn.Sequential(*modules)), work / "rtl", pipeline=pipeline, linear_impl="da4ml")
    assert lint(design) == ""
    result = simulate(design, codes, work / "sim", runtime_cache=runtime_cache)
    assert torch.equal(result.outputs, chain(modules[1:], codes))


def test_the_emit_passes_take_linear_impl_and_the_testbench_passes(tmp_path: Path) -> None:
    graph = quantised(calibrated("jsc-tiny", seed=0), INTEGER_8_4)
    x, _ = jsc_test_rows(300)
    args = {"project_dir": str(tmp_path / "proj"), "linear_impl": "da4ml"}
    _, top = emit_verilog_top_transform_pass(graph, args)
    _, tb = emit_verilog_tb_transform_pass(graph, {**args, "test_inputs": [x]})
    rtl = tmp_path / "proj" / "hardware" / "rtl"
    assert rtl / "seq_blocks_2_linear_cmvm.v" in top["files"] and (rtl / "seq_blocks_2_linear_cmvm.v").is_file()
    assert "seq_blocks_2_linear_cmvm u_cmvm" in (rtl / "seq_blocks_2_linear.sv").read_text()
    build = (tmp_path / "proj" / "hardware" / "sim" / "build.sh").read_text()
    assert "seq_blocks_2_linear_cmvm_adders.v" in build
    emit_internal_rtl_transform_pass(graph, {"project_dir": str(tmp_path / "proj")})  # the shared components
    run = subprocess.run(["sh", str(tb["sim_dir"] / "run.sh")], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.splitlines()[-1].endswith("mismatches 0")


def test_an_unknown_linear_impl_is_a_one_line_error(tmp_path: Path) -> None:
    module = prepared(nn.Sequential(FixedInput(FixedFormat(8, 4)), FixedReLU(FixedFormat(8, 4), FixedFormat(8, 4))))
    with pytest.raises(HardwareError, match=r"^unknown linear_impl 'hls'; use one of: machop, da4ml$"):
        emit_rtl(module, tmp_path / "rtl", linear_impl="hls")
    assert not (tmp_path / "rtl").exists()


def test_a_row_that_is_one_negated_input_synthesises(tmp_path: Path) -> None:
    """``row = -x`` once read as a cast to -9 bits in Yosys 0.23 (``-9'(x)``); both implementations synthesise."""
    from chop.hardware.synth import synthesize

    x = FixedFormat(8, 4)
    weight, bias = torch.tensor([[0, -1], [1, -2]]), torch.tensor([0, 3])
    module = prepared(nn.Sequential(FixedInput(x), FixedLinear(weight, bias, x, FixedFormat(2, 0),
                                                              exact_accumulator(weight, bias, x, 0, 4), x)))
    for impl in ("machop", "da4ml"):
        design = emit_rtl(module, tmp_path / impl / "rtl", linear_impl=impl)
        assert synthesize(design.files, design.top_name, tmp_path / impl / "synth").total.luts > 0
