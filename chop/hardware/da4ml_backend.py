"""da4ml's multiplier-free adder graph of a constant matrix-vector product, as a plain Verilog module.

da4ml (Sun et al., arXiv:2507.04535) turns ``x @ W^T`` for constant integer weights into shifts
and additions with shared subexpressions; hls4ml's "distributed arithmetic" strategy uses it. This
module asks da4ml's tracer for that adder graph (``FixedVariableArray @ kernel``, solved by its
CMVM solver, ``comb_trace``) and its Verilog code generator for the module, then wraps it in
machop's port contract:

- ``data_in``: ``in`` input codes of ``in_format``, element ``i`` at bits ``[i*W +: W]``;
- ``data_out``: ``out`` accumulators of ``acc_format``, element ``o`` at ``[o*A +: A]``: the exact
  integers ``x @ W^T``, sign-extended (or zero-extended) to one width. No bias, no rounding:
  machop adds the bias and requantises around the module, as ``FixedLinear`` does.

da4ml packs each output at its own minimal width and drops constant low zero bits; the wrapper
restores them. da4ml's interval arithmetic can over-estimate an output's range, so a da4ml output
wider than ``acc_format`` is cut to its low bits, which is exact because the true value fits.
The module is combinational; every file is free of ``timescale`` directives, so it mixes with
machop's own RTL in Verilator. da4ml's helper modules are renamed ``da4ml_*`` so they cannot
clash with machop's components; they are the same for every da4ml module, so a design writes them once.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor

from chop.errors import HardwareError
from chop.hardware.fixed import FixedFormat
from chop.tools.atomic import atomic_write_text

if TYPE_CHECKING:  # da4ml imports numba, which takes a while: only the functions that use it import it
    from da4ml.cmvm.types import CombLogic

HELPER_PREFIX = "da4ml_"
HELPERS = ("shift_adder", "negative", "mux", "multiplier", "lookup_table")  # da4ml's Verilog building blocks
# da4ml's solver works on a float32 kernel: larger weights would not be exact
MAX_WEIGHT_MAGNITUDE = 2**24
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_HELPER_USE = re.compile(rf"\b({'|'.join(HELPERS)})(\s*#\s*\()")
_TIMESCALE = re.compile(r"^\s*`timescale[^\n]*\n", re.MULTILINE)


@dataclass(frozen=True)
class Da4mlModule:
    """The Verilog of one constant matrix-vector product, with what a caller needs to wire it."""

    name: str  # of the module with machop's port contract (``data_in``, ``data_out``)
    verilog: str  # ``{name}.v``: that module, which instantiates da4ml's adder graph ``{name}_adders``
    in_format: FixedFormat  # of each ``data_in`` element
    acc_format: FixedFormat  # of each ``data_out`` element: exactly ``x @ W^T``
    inputs: int
    outputs: int
    # (file name, text): ``{name}_adders.v`` (da4ml's adder graph), then the da4ml_* modules it instantiates
    helper_files: tuple[tuple[str, str], ...]
    cost: float  # da4ml's own estimate of the adder graph's LUTs
    solution: CombLogic = field(repr=False, compare=False)  # da4ml's; its predict() emulates the module bit for bit

    @property
    def output_width(self) -> int:
        return self.acc_format.width

    @property
    def files(self) -> tuple[tuple[str, str], ...]:
        """Every file the module needs, its own first."""
        return ((f"{self.name}.v", self.verilog), *self.helper_files)

    def write(self, directory: Path) -> tuple[Path, ...]:
        """Write ``files`` to ``directory`` (each atomically); the paths, in the order of ``files``."""
        paths = tuple(Path(directory) / name for name, _ in self.files)
        for path, (_, text) in zip(paths, self.files):
            atomic_write_text(path, text)
        return paths


def accumulator_format(weight_codes: Tensor, in_format: FixedFormat, weight_frac: int = 0) -> FixedFormat:
    """The narrowest format holding every ``x @ W^T`` for inputs in ``in_format``'s range (exact bounds)."""
    weight = weight_codes.to(torch.int64)
    low = torch.minimum(weight * in_format.lo, weight * in_format.hi).sum(-1)
    high = torch.maximum(weight * in_format.lo, weight * in_format.hi).sum(-1)
    return FixedFormat.holding(int(low.min()), int(high.max()), in_format.frac + weight_frac)


def da4ml_linear_verilog(weight_codes: Tensor, in_format: FixedFormat, module_name: str, *,
                         weight_frac: int = 0) -> Da4mlModule:
    """da4ml's adder graph of ``acc = x @ W^T`` for integer ``weight_codes`` (out x in) as ``module_name``.

    ``weight_frac`` (the weights' fraction bits) only sets ``acc_format.frac``; the module computes
    on integer codes either way.
    """
    weight = _checked_weights(weight_codes, module_name)
    if not _IDENTIFIER.fullmatch(module_name):
        raise HardwareError(f"da4ml module name '{module_name}' is not a Verilog identifier; use letters, "
                            f"digits and '_'")
    return _solved(weight.numpy().tobytes(), tuple(weight.shape), in_format, module_name, weight_frac)


@functools.lru_cache(maxsize=256)
def _solved(codes: bytes, shape: tuple[int, int], in_format: FixedFormat, module_name: str,
            weight_frac: int) -> Da4mlModule:
    """The solve, remembered by value: MASE's emit passes each plan the design (and ``ch hardware``
    checks the plan before it moves an earlier run aside), and a solve takes seconds for a jsc-s
    layer; the module is frozen, so sharing it is safe."""
    try:
        from da4ml.codegen.rtl.verilog import comb_logic_gen
        from da4ml.trace import FixedVariableArray, comb_trace
    except ImportError:
        raise HardwareError("linear layers as da4ml adder graphs need da4ml: pip install 'machop[hardware]' "
                            "(or use linear_impl = \"machop\")") from None

    weight = torch.from_numpy(np.frombuffer(codes, dtype=np.int64).reshape(shape).copy())
    outputs, inputs = weight.shape
    acc_format = accumulator_format(weight, in_format, weight_frac)
    x = FixedVariableArray.from_lhs(np.full(inputs, float(in_format.lo)), np.full(inputs, float(in_format.hi)),
                                    np.ones(inputs))
    solution = comb_trace(x, x @ weight.T.numpy().astype(np.float64), keep_dead_inputs=True)
    in_widths = [int(sum(kif)) for kif in solution.inp_kifs.T]
    if in_widths != [in_format.width] * inputs:
        raise HardwareError(f"{module_name}: da4ml packed the inputs as {in_widths} bits, not {in_format.width} "
                            f"each; this da4ml version is not the one machop supports (0.5.x)")
    adders = f"{module_name}_adders"
    out_kifs = [tuple(int(v) for v in kif) for kif in solution.out_kifs.T]
    body = _TIMESCALE.sub("", comb_logic_gen(solution, adders))
    used = sorted({match.group(1) for match in _HELPER_USE.finditer(body)})
    body = _HELPER_USE.sub(rf"{HELPER_PREFIX}\1\2", body)
    has_adders = sum(map(sum, out_kifs)) > 0  # an all-zero matrix has none
    verilog = _wrapper(module_name, adders, in_format, acc_format, inputs, out_kifs, float(solution.cost), has_adders)
    adder_file = (f"{adders}.v", "/* verilator lint_off UNUSEDSIGNAL */  // inputs whose weights are all zero\n"
                                 f"{body.strip()}\n/* verilator lint_on UNUSEDSIGNAL */\n")
    return Da4mlModule(module_name, verilog, in_format, acc_format, inputs, outputs,
                       (*([adder_file] if has_adders else []), *(_helper_file(name) for name in used)),
                       float(solution.cost), solution)


def _checked_weights(weight_codes: Tensor, module_name: str) -> Tensor:
    if weight_codes.dim() != 2 or weight_codes.numel() == 0:
        raise HardwareError(f"{module_name}: weights of shape {tuple(weight_codes.shape)} are not an "
                            f"(out, in) matrix; give the linear layer's weight codes")
    if weight_codes.dtype.is_floating_point and not torch.equal(weight_codes, weight_codes.round()):
        raise HardwareError(f"{module_name}: weights are not integer codes; quantise them first "
                            f"(FixedFormat.quantize)")
    weight = weight_codes.to(torch.int64)
    if int(weight.abs().max()) >= MAX_WEIGHT_MAGNITUDE:
        raise HardwareError(f"{module_name}: a weight code of {int(weight.abs().max())} is beyond the "
                            f"{MAX_WEIGHT_MAGNITUDE} da4ml solves exactly; use narrower weights")
    return weight


def _wrapper(name: str, adders: str, in_format: FixedFormat, acc_format: FixedFormat, inputs: int,
             out_kifs: list[tuple[int, int, int]], cost: float, has_adders: bool) -> str:
    """machop's port contract around da4ml's packed outputs (``out_kifs``: da4ml's (signed, int, frac) each)."""
    width, acc = in_format.width, acc_format.width
    lines = [f"// {name}: acc = x @ W^T for constant integer weights W ({len(out_kifs)} x {inputs}), as da4ml's",
             f"// multiplier-free adder graph (da4ml's estimate: {cost:.0f} LUTs). data_in: {inputs} codes of",
             f"// {in_format}, element i at [i*{width} +: {width}]. data_out: {len(out_kifs)} exact accumulators of",
             f"// {acc_format} (bias not added, nothing rounded), element o at [o*{acc} +: {acc}].",
             f"module {name} (",
             *([] if has_adders else ["    /* verilator lint_off UNUSEDSIGNAL */"]),
             f"    input  [{inputs * width - 1}:0] data_in,",
             *([] if has_adders else ["    /* verilator lint_on UNUSEDSIGNAL */"]),
             f"    output [{len(out_kifs) * acc - 1}:0] data_out",
             ");"]
    packed = sum(map(sum, out_kifs))
    if has_adders:  # bits above an accumulator's width may go unused
        lines += ["    /* verilator lint_off UNUSEDSIGNAL */",
                  f"    wire [{packed - 1}:0] sums;  // da4ml's outputs, each at its own width, low zero bits dropped",
                  "    /* verilator lint_on UNUSEDSIGNAL */",
                  f"    {adders} adders (.model_inp(data_in), .model_out(sums));"]
    low = 0
    for index, (signed, integers, frac) in enumerate(out_kifs):
        bits, shift = signed + integers + frac, -frac
        if bits > 0 and shift < 0:
            raise HardwareError(f"{name}: da4ml gave output {index} fraction bits ({frac}) although inputs and "
                                f"weights are integers; this da4ml version is not the one machop supports (0.5.x)")
        target = f"data_out[{index * acc + acc - 1}:{index * acc}]"
        lines.append(f"    assign {target} = {_extended(low, bits, shift, bool(signed), acc)};")
        low += bits
    return "\n".join([*lines, "endmodule", ""])


def _extended(low: int, bits: int, shift: int, signed: bool, width: int) -> str:
    """``sums[low +: bits]`` (worth ``2^shift`` per unit) as a ``width``-bit two's complement expression.

    The true value fits in ``width`` bits, so when da4ml's ``bits + shift`` is wider, the low
    ``width`` bits are exact (arithmetic modulo ``2^width``).
    """
    if bits == 0 or shift >= width:
        return f"{width}'d0"
    keep = min(bits, width - shift)  # the bits of da4ml's output that reach the result
    pad = width - shift - keep
    parts = [f"{{{pad}{{sums[{low + bits - 1}]}}}}" if signed else f"{pad}'b0"] if pad > 0 else []
    parts.append(f"sums[{low + keep - 1}:{low}]")
    if shift > 0:
        parts.append(f"{shift}'b0")
    return parts[0] if len(parts) == 1 else "{" + ", ".join(parts) + "}"


def _helper_file(helper: str) -> tuple[str, str]:
    """da4ml's Verilog source of ``helper``, renamed ``da4ml_{helper}``, without its ``timescale``."""
    from da4ml.codegen import rtl

    source = (Path(rtl.__file__).parent / "verilog" / "source" / f"{helper}.v").read_text()
    renamed = re.sub(rf"\bmodule\s+{helper}\b", f"module {HELPER_PREFIX}{helper}", _TIMESCALE.sub("", source))
    return f"{HELPER_PREFIX}{helper}.v", f"// da4ml's {helper} module (LGPL-3.0, from the da4ml package), renamed\n" \
                                         f"{renamed.strip()}\n"
