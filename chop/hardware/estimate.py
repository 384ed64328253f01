"""A resource estimate of a prepared graph in milliseconds: LUTs, FFs and CARRY4 per layer, without Yosys.

The estimate counts what the emitter (``chop.hardware.rtl``) builds, from the constants and the
formats alone, and weighs it with coefficients fitted against Yosys (``COEFFICIENTS``, from
``benchmarks/hardware_calibration.py``):

- a linear layer: every nonzero weight becomes its canonical signed digits, every digit a shifted
  copy of the input, and each row's copies meet in the same balanced adder tree the emitter writes.
  Each adder costs about one LUT per result bit (plus its share of a carry chain), except the low
  bits that pass straight through from the operand with the smaller shift. Then the bias is added
  to the shifted row sum (only the bits above the shift carry), and the requantiser rounds and
  saturates each row;
- an affine layer: the same, with a single term per element;
- a ReLU: a clip per element and the requantiser; an add: one adder per element and the requantiser;
- the requantiser (``fixed_requant.sv``): an incrementer over the kept bits when fraction bits are
  dropped, a sign test over the bits above the output, and a multiplexer per output bit.

FFs are not fitted: they are the bits of the register stages (``fixed_delay``) that the pipeline
asks for, less the bits a stage holds constant (an output bit that every reachable code shares,
such as the sign bit of a signed ReLU output), which Yosys removes. The emitted design has no
multiplier, so ``nodsp`` changes nothing in the count; it is recorded so that the estimate states
the synthesis command it stands for.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from torch import fx

from chop.errors import HardwareError
from chop.hardware.fixed import FixedFormat
from chop.hardware.ops import FixedAdd, FixedAffine, FixedLinear, FixedReLU
from chop.hardware.rtl.csd import csd_digits
from chop.hardware.rtl.layers import PIPELINES
from chop.hardware.rtl.netlist import Netlist, Step, build_netlist
from chop.hardware.rtl.verilog import signed_width

FEATURES = ("adder_bits", "offset_bits", "round_bits", "saturate_bits", "mux_bits")
"""What the LUT count is fitted on (each a count of bits of one kind of logic, see ``LayerFeatures``)."""

COEFFICIENTS: Mapping[str, float] = {
    "adder_bits": 1.0, "offset_bits": 1.0, "round_bits": 1.0, "saturate_bits": 0.2, "mux_bits": 1.0,
}
"""LUTs per bit of each feature: least squares on relative error (each design's LUTs divided by
Yosys's count) over the fit designs of ``benchmarks/data/hardware_calibration.json``, Yosys 0.23
``synth_xilinx -flatten -noiopad -noclkbuf -nodsp``; refit with ``benchmarks/hardware_calibration.py --fit-only``."""

CARRY_BITS = 4  # result bits per CARRY4


@dataclass(frozen=True)
class LayerFeatures:
    """The logic one layer module holds, counted in bits from its constants and formats.

    ``adder_bits``: result bits of the adders of the constant products that are not plain copies
    of an operand's low bits; ``offset_bits``: bits of the bias / shift additions above the
    product shift; ``round_bits``: the requantisers' incrementers; ``saturate_bits``: bits their
    sign tests read; ``mux_bits``: output bits chosen between the value and a saturation limit
    (and a ReLU's clip); ``carry_bits``: adder bits that run through a carry chain;
    ``register_bits``: flip-flops of the layer's register stages.
    """

    adder_bits: int = 0
    offset_bits: int = 0
    round_bits: int = 0
    saturate_bits: int = 0
    mux_bits: int = 0
    carry_chains: int = 0  # CARRY4 cells: each adder's carry bits in groups of four
    register_bits: int = 0

    def plus(self, other: LayerFeatures) -> LayerFeatures:
        return LayerFeatures(**{name: getattr(self, name) + getattr(other, name) for name in asdict(self)})

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class LayerEstimate:
    """One layer module (or a delay the top adds to line up a join): its features and predicted cells."""

    node: str
    kind: str
    features: LayerFeatures
    luts: int
    ffs: int
    carry4: int

    def as_dict(self) -> dict[str, Any]:
        return {"node": self.node, "kind": self.kind, "luts": self.luts, "ffs": self.ffs, "carry4": self.carry4,
                "features": self.features.as_dict()}


@dataclass(frozen=True)
class DesignEstimate:
    """The estimate of a whole design: per layer and in total, for one pipeline and synthesis command."""

    pipeline: str
    nodsp: bool
    layers: tuple[LayerEstimate, ...]
    coefficients: Mapping[str, float] = field(default_factory=lambda: dict(COEFFICIENTS))

    @property
    def luts(self) -> int:
        return sum(layer.luts for layer in self.layers)

    @property
    def ffs(self) -> int:
        return sum(layer.ffs for layer in self.layers)

    @property
    def carry4(self) -> int:
        return sum(layer.carry4 for layer in self.layers)

    def as_dict(self) -> dict[str, Any]:
        return {"pipeline": self.pipeline, "nodsp": self.nodsp, "luts": self.luts, "ffs": self.ffs,
                "carry4": self.carry4, "layers": [layer.as_dict() for layer in self.layers]}


def constant_bits(fmt: FixedFormat, lo: int, hi: int) -> int:
    """How many top bits of ``fmt``'s codes are the same for every code in ``[lo, hi]``.

    A range of one sign is contiguous in two's complement, so the bits above the highest bit
    where ``lo`` and ``hi`` differ never change (and every bit at or below it does); a range
    holding both signs changes the sign bit, so no bit is constant.
    """
    mask = (1 << fmt.width) - 1
    return fmt.width - ((lo & mask) ^ (hi & mask)).bit_length()


def requantised_range(lo: int, hi: int, frac: int, out: FixedFormat) -> tuple[int, int]:
    """The output codes that accumulator codes ``[lo, hi]`` at ``frac`` can requantise to (monotone)."""
    ends = [int(code) for code in out.requantize(_tensor([lo, hi]), frac).tolist()]
    return ends[0], ends[1]


def _tensor(values: Sequence[int]) -> Any:
    import torch

    return torch.tensor(values, dtype=torch.int64)


def requantiser(in_width: int, in_frac: int, in_signed: bool, out: FixedFormat) -> LayerFeatures:
    """The logic of one ``fixed_requant`` instance, with its parameters as the component derives them."""
    value = in_width + 1
    drop = max(in_frac - out.frac, 0)
    pad = max(out.frac - in_frac, 0)
    ext = max(value, drop + 1) + 1
    moved = ext - drop if drop > 0 else value + pad
    saturate = max(moved, out.width + 1)
    top = saturate - out.width + (1 if out.signed else 0)
    round_bits = (moved - (0 if in_signed else 1)) if drop > 0 else 0
    return LayerFeatures(round_bits=max(round_bits, 0), saturate_bits=top, mux_bits=out.width,
                         carry_chains=math.ceil(round_bits / CARRY_BITS) if drop > 0 else 0)


@dataclass
class _Operand:
    """A node of a row's adder tree, as the emitter builds it: ``±(coefficients · x) << shift``."""

    shift: int
    negative: bool
    coefficients: dict[int, int]


def _width(coefficients: Mapping[int, int], lo: int, hi: int) -> int:
    low = sum(min(c * lo, c * hi) for c in coefficients.values())
    high = sum(max(c * lo, c * hi) for c in coefficients.values())
    return signed_width(low, high)


def adder_tree(row: Sequence[tuple[int, int]], lo: int, hi: int) -> list[tuple[int, int]]:
    """``(result width, pass-through bits)`` of every adder of one row's CSD tree, in the emitter's order.

    The leaves are the CSD digits of each nonzero constant; each level adds neighbours in pairs
    (an odd one out moves up). The low ``|shift a - shift b|`` bits of a sum are the low bits of
    the operand with the smaller shift, copied, not added.
    """
    level = [_Operand(shift, sign < 0, {i: 1}) for i, c in row if c != 0 for shift, sign in csd_digits(c)]
    adders = []
    while len(level) > 1:
        merged = []
        for a, b in zip(level[0::2], level[1::2]):
            below = min(a.shift, b.shift)
            if a.negative == b.negative:
                first, second, scale, negative = a, b, 1, a.negative
            else:
                first, second = (a, b) if b.negative else (b, a)
                scale, negative = -1, False
            coefficients = {i: c << (first.shift - below) for i, c in first.coefficients.items()}
            for i, c in second.coefficients.items():
                coefficients[i] = coefficients.get(i, 0) + scale * (c << (second.shift - below))
            adders.append((_width(coefficients, lo, hi), abs(a.shift - b.shift)))
            merged.append(_Operand(below, negative, coefficients))
        if len(level) % 2:
            merged.append(level[-1])
        level = merged
    return adders


def _input_range(fmt: FixedFormat) -> tuple[int, int]:
    return fmt.lo, fmt.hi


def _adders(widths: Sequence[tuple[int, int]]) -> LayerFeatures:
    bits = [max(width - through, 0) for width, through in widths]
    return LayerFeatures(adder_bits=sum(bits), carry_chains=sum(math.ceil(b / CARRY_BITS) for b in bits))


def _constant_layer(rows: Sequence[Sequence[tuple[int, int]]], offsets: Sequence[int], in_format: FixedFormat,
                    shift: int, acc_frac: int, out: FixedFormat) -> tuple[LayerFeatures, tuple[int, int], int]:
    """The products, offsets and requantisers of a linear or affine layer; also the output's code range
    and the widest row sum (the width of the ``split`` register)."""
    lo, hi = _input_range(in_format)
    features = LayerFeatures()
    sums = []
    for row in rows:
        features = features.plus(_adders(adder_tree(row, lo, hi)))
        low = sum(min(c * lo, c * hi) for _, c in row)
        high = sum(max(c * lo, c * hi) for _, c in row)
        sums.append((low, high))
    acc = [((low << shift) + b, (high << shift) + b) for (low, high), b in zip(sums, offsets)]
    acc_width = signed_width(min(a for a, _ in acc), max(b for _, b in acc))
    for (low, high), b in zip(sums, offsets):
        if b != 0:
            bits = max(acc_width - shift, 0)  # the low ``shift`` bits are the bias's own, constant
            features = features.plus(LayerFeatures(offset_bits=bits, carry_chains=math.ceil(bits / CARRY_BITS)))
        features = features.plus(requantiser(acc_width, acc_frac, True, out))
    out_lo = min(requantised_range(a, b, acc_frac, out)[0] for a, b in acc)
    out_hi = max(requantised_range(a, b, acc_frac, out)[1] for a, b in acc)
    sum_width = max(signed_width(low, high) for low, high in sums)
    return features, (out_lo, out_hi), sum_width


def _register(bits: int, stages: int) -> int:
    """Flip-flops of a ``fixed_delay``: the data bits and the valid bit at every stage."""
    return (bits + 1) * stages


def layer_features(step: Step, pipeline: str) -> LayerFeatures:
    """The features of one compute step's module under ``pipeline`` (register bits included)."""
    op, out = step.op, step.out
    stage = 0 if pipeline == "none" else 1
    if isinstance(op, (FixedLinear, FixedAffine)):
        if isinstance(op, FixedLinear):
            weight, bias = op.weight.tolist(), op.bias.tolist()
            in_features = len(weight[0])
            groups = step.inputs[0].size // in_features
            rows = [[(g * in_features + i, w) for i, w in enumerate(line)] for g in range(groups) for line in weight]
            offsets = bias * groups
            shift = op.product_shift
        else:
            scale, shifts = op.scale.tolist(), op.shift.tolist()
            rows = [[(e, scale[e % len(scale)])] for e in range(step.inputs[0].size)]
            offsets = [shifts[e % len(scale)] for e in range(step.inputs[0].size)]
            shift = op.product_shift
        features, (lo, hi), sum_width = _constant_layer(rows, offsets, op.in_format, shift, op.acc_format.frac,
                                                        op.out_format)
        registers = stage * (out.size * (out.fmt.width - constant_bits(out.fmt, lo, hi)) + 1)
        if pipeline == "split":
            registers += _register(len(rows) * sum_width, 1)
        return features.plus(LayerFeatures(register_bits=registers))
    if isinstance(op, FixedReLU):
        fmt = op.in_format
        clip = LayerFeatures(mux_bits=fmt.width if fmt.signed else 0)
        per_element = clip.plus(requantiser(fmt.width, fmt.frac, fmt.signed, op.out_format))
        lo, hi = requantised_range(max(fmt.lo, 0), fmt.hi, fmt.frac, op.out_format)
        features = _times(per_element, out.size)
        registers = stage * (out.size * (out.fmt.width - constant_bits(out.fmt, lo, hi)) + 1)
        return features.plus(LayerFeatures(register_bits=registers))
    if isinstance(op, FixedAdd):
        frac = op.acc_format.frac
        a_shift, b_shift = frac - op.a_format.frac, frac - op.b_format.frac
        lo = (op.a_format.lo << a_shift) + (op.b_format.lo << b_shift)
        hi = (op.a_format.hi << a_shift) + (op.b_format.hi << b_shift)
        width = signed_width(lo, hi)
        adder = _adders([(width, abs(a_shift - b_shift))])
        per_element = adder.plus(requantiser(width, frac, True, op.out_format))
        out_lo, out_hi = requantised_range(lo, hi, frac, op.out_format)
        registers = stage * (out.size * (out.fmt.width - constant_bits(out.fmt, out_lo, out_hi)) + 1)
        return _times(per_element, out.size).plus(LayerFeatures(register_bits=registers))
    raise HardwareError(f"node '{step.node}': no resource model for '{step.kind}'; "
                        f"the estimate covers fixed_linear, fixed_affine, fixed_relu and fixed_add")


def _times(features: LayerFeatures, count: int) -> LayerFeatures:
    return LayerFeatures(**{name: value * count for name, value in features.as_dict().items()})


def predicted_luts(features: LayerFeatures, coefficients: Mapping[str, float] = COEFFICIENTS) -> float:
    return sum(coefficients[name] * getattr(features, name) for name in FEATURES)


def _layer_estimate(node: str, kind: str, features: LayerFeatures, coefficients: Mapping[str, float]) -> LayerEstimate:
    return LayerEstimate(node, kind, features, round(predicted_luts(features, coefficients)), features.register_bits,
                         features.carry_chains)


def _join_delays(netlist: Netlist, pipeline: str) -> list[tuple[str, LayerFeatures]]:
    """The registers ``top.sv`` adds where a join's operands arrive in different cycles."""
    stage = 0 if pipeline == "none" else 1
    at = {netlist.input.node: 0}
    delays = []
    for step in netlist.steps:
        start = max(at[wire.node] for wire in step.inputs)
        split = pipeline == "split" and step.kind in ("fixed_linear", "fixed_affine")
        at[step.node] = start + (0 if step.op is None else stage + split)
        for k, wire in enumerate(step.inputs):
            cycles = start - at[wire.node]
            if cycles > 0:
                delays.append((f"{step.node}_in{k}", LayerFeatures(register_bits=_register(wire.bits, cycles))))
    return delays


def netlist_features(netlist: Netlist, pipeline: str) -> list[tuple[str, str, LayerFeatures]]:
    """``(node, kind, features)`` of every layer module and every delay the top adds, in graph order."""
    rows = [(step.node, step.kind, layer_features(step, pipeline)) for step in netlist.compute]
    rows += [(node, "fixed_delay", features) for node, features in _join_delays(netlist, pipeline)]
    return rows


def estimate_design(prepared: fx.GraphModule, *, pipeline: str = "layer", nodsp: bool = True,
                    coefficients: Mapping[str, float] = COEFFICIENTS) -> DesignEstimate:
    """LUTs, FFs and CARRY4 of the design ``emit_rtl(prepared, pipeline=pipeline)`` writes (CSD products),
    per layer and in total, as Yosys ``synth_xilinx`` would map it; no Yosys runs."""
    if pipeline not in PIPELINES:
        raise HardwareError(f"unknown pipeline '{pipeline}'; use one of: {', '.join(PIPELINES)}")
    netlist = build_netlist(prepared)
    layers = tuple(_layer_estimate(node, kind, features, coefficients)
                   for node, kind, features in netlist_features(netlist, pipeline))
    return DesignEstimate(pipeline, nodsp, layers, dict(coefficients))
