"""Hand-built prepared graphs for the RTL tests, their expected codes, and the linter.

The expected codes come from chaining the twins' ``integer_forward`` by hand: the integer
semantics the RTL must reproduce, computed without any of ``chop.hardware.rtl``.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import torch
from hypothesis import strategies as st
from torch import Tensor, fx, nn

from chop.hardware.fixed import FixedFormat
from chop.hardware.ops import FixedInput, FixedLinear, FixedReLU, HardwareOp
from chop.hardware.rtl import RtlDesign
from chop.hardware.tools import find_tool
from chop.ir.graph.mase_graph import trace


def prepared(model: nn.Module) -> fx.GraphModule:
    """Trace ``model`` keeping every hardware twin a call_module (the form preparation produces)."""
    return trace(model, leaf_modules=[HardwareOp])


def chain(modules: list[HardwareOp], codes: Tensor) -> Tensor:
    for module in modules:
        codes = module.integer_forward(codes)
    return codes


def exact_accumulator(weight: Tensor, bias: Tensor, in_format: FixedFormat, shift: int, frac: int) -> FixedFormat:
    """The narrowest accumulator (at ``frac``) of ``(x @ W^T << shift) + b`` over every input code."""
    lo = (torch.minimum(weight * in_format.lo, weight * in_format.hi).sum(1) << shift) + bias
    hi = (torch.maximum(weight * in_format.lo, weight * in_format.hi).sum(1) << shift) + bias
    return FixedFormat.holding(int(lo.min()), int(hi.max()), frac)


def random_linear(gen: torch.Generator, n_in: int, n_out: int, in_format: FixedFormat, weight_format: FixedFormat,
                  out_format: FixedFormat, extra_frac: int = 0, zero_column: bool = False) -> FixedLinear:
    """A linear twin with random weights over the whole code range, a random bias and an exact accumulator."""
    weight = torch.randint(weight_format.lo, weight_format.hi + 1, (n_out, n_in), generator=gen)
    if zero_column:
        weight[:, 0] = 0
    frac = in_format.frac + weight_format.frac + extra_frac
    bias = torch.randint(-(2 ** (in_format.width + 2)), 2 ** (in_format.width + 2), (n_out,), generator=gen)
    acc = exact_accumulator(weight, bias, in_format, extra_frac, frac)
    return FixedLinear(weight, bias, in_format, weight_format, acc, out_format)


def random_codes(gen: torch.Generator, fmt: FixedFormat, rows: int, shape: tuple[int, ...]) -> Tensor:
    """Random codes over the whole range, led by the corner rows (all lo, all hi, zeros, lo/hi alternating)."""
    size = torch.Size(shape).numel()
    corners = torch.stack([torch.full((size,), fmt.lo), torch.full((size,), fmt.hi), torch.zeros(size, dtype=torch.int64),
                           torch.tensor([fmt.lo if i % 2 else fmt.hi for i in range(size)])])
    rest = torch.randint(fmt.lo, fmt.hi + 1, (rows - len(corners), size), generator=gen)
    return torch.cat([corners.to(torch.int64), rest]).reshape(rows, *shape)


def lint(design: RtlDesign) -> str:
    """Verilator's ``--lint-only -Wall`` over the design's files; its output (empty when clean)."""
    command = [str(find_tool("verilator")), "--lint-only", "-Wall", "--top-module", design.top_name,
               *map(str, design.files)]
    result = subprocess.run(command, capture_output=True, text=True)
    report = [line for line in (result.stdout + result.stderr).splitlines()
              if line.strip() and not line.startswith("- V")]  # "- V e r i l a t i o n" / "- Verilator:" statistics
    return "\n".join([*report, *([f"exit {result.returncode}"] if result.returncode else [])])


@pytest.fixture(scope="session")
def runtime_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One directory of Verilator runtime objects for every build of the session."""
    return tmp_path_factory.mktemp("verilator-runtime")


@st.composite
def mlps(draw: st.DrawFn, max_width: int = 12, fracs: tuple[int, int] = (-3, 14)) -> list:
    """FixedInput, then 1-2 linear layers (1..8 features), each maybe followed by a relu; random formats
    (widths 2..``max_width``, fraction bits in ``fracs``, either signedness)."""
    def fmt() -> FixedFormat:
        return FixedFormat(draw(st.integers(2, max_width)), draw(st.integers(*fracs)), draw(st.booleans()))

    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    features = [draw(st.integers(1, 8)) for _ in range(draw(st.integers(1, 2)) + 1)]
    current = fmt()
    modules: list[nn.Module] = [FixedInput(current)]
    for n_in, n_out in zip(features, features[1:]):
        out = fmt()
        modules.append(random_linear(gen, n_in, n_out, current, fmt(), out, extra_frac=draw(st.integers(0, 3))))
        current = out
        if draw(st.booleans()):
            out = fmt()
            modules.append(FixedReLU(current, out))
            current = out
    return modules
