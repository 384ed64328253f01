"""A resource estimate of a prepared graph in milliseconds: LUTs, FFs and CARRY4 per layer, without Yosys.

The estimate counts what Yosys builds of the design the emitter (``chop.hardware.rtl``) writes,
from the constants and the formats alone, and weighs it with coefficients fitted against Yosys
(``COEFFICIENTS``, from ``benchmarks/hardware_calibration.py``):

- a linear layer: the graph of additions its constant products are written as (``PRODUCT_SUMS``:
  for CSD, every nonzero weight's signed digits as shifted copies of the input, each row's copies
  in the emitter's balanced tree), then the bias added to each row sum (or the sum subtracted from
  it, for a row whose terms are all subtracted). What Yosys makes of that
  graph (``chop.hardware.arith_cells``: identical additions shared, chains folded into
  multi-operand sums that become compressor trees of full adders, the rest carry chains) is
  counted in bits of full adders, half adders and carry-chain adders; then the requantiser rounds
  and saturates each row;
- an affine layer: the same, with a single term per element;
- a ReLU: a clip per element and the requantiser; an add: one adder per element and the requantiser;
- the requantiser (``fixed_requant.sv``): when fraction bits are dropped, an incrementer over the
  kept bits (ReLU and add), or, behind a linear or affine layer whose offsets already hold half an
  output step, only a test of the dropped bits for a tie; then a sign test over the bits above the
  output, and a multiplexer per output bit. Behind a linear or affine row the test is counted by
  the signals it reads (``row_test_bits``) and apart for signed and unsigned outputs: on the
  calibration designs a signed output's test costs about 13 times an unsigned one's per bit.

FFs are not fitted: they are the bits of the register stages (``fixed_delay``) that the pipeline
asks for, less the bits a stage holds constant (an output bit that every reachable code shares,
such as the sign bit of a signed ReLU output), which Yosys removes, and less the copies of one bit
that a linear or affine row without a saturation test passes on (``unsaturated_row_bits``). The emitted design has no
multiplier, so ``nodsp`` changes nothing in the count; it is recorded so that the estimate states
the synthesis command it stands for.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import fx

from chop.errors import HardwareError
from chop.hardware.arith_cells import CARRY_BITS, ArithCells, arith_cells, two_operand_adder
from chop.hardware.fixed import FixedFormat
from chop.hardware.ops import FixedAdd, FixedAffine, FixedLinear, FixedReLU, affine_channels
from chop.hardware.product_sums import product_graph
from chop.hardware.rtl.layers import PIPELINES, rounding_half
from chop.hardware.rtl.netlist import Netlist, Step, build_netlist
from chop.hardware.rtl.products import PRODUCT_STYLES
from chop.hardware.rtl.verilog import signed_width

FEATURES = ("full_adder_bits", "half_adder_bits", "adder_bits", "constant_bits", "carry_bits", "round_bits",
            "tie_bits", "saturate_bits", "mux_bits", "signed_test_bits", "unsigned_test_bits", "clip_bits",
            "cone_bits")
"""What the LUT count is fitted on (each a count of bits of one kind of logic, see ``LayerFeatures``)."""

COEFFICIENTS: Mapping[str, float] = {
    "full_adder_bits": 1.0208, "half_adder_bits": 0.9512, "adder_bits": 0.9001, "constant_bits": 0.1108,
    "carry_bits": 0.0, "round_bits": 0.6583, "tie_bits": 0.0508, "saturate_bits": 0.0, "mux_bits": 0.0149,
    "signed_test_bits": 0.4837, "unsigned_test_bits": 0.0377, "clip_bits": 0.1457, "cone_bits": 0.4123,
}
"""LUTs per bit of each feature: least squares on relative error (each design's LUTs divided by
Yosys's count) over the designs of every set of ``benchmarks/data/hardware_calibration.json`` but
``unseen`` (``FIT_ROLES``), Yosys 0.23
``synth_xilinx -flatten -noiopad -noclkbuf -nodsp``; refit with ``benchmarks/hardware_calibration.py --fit-only``."""

LUT_INPUTS = 6  # a LUT6 computes any function of six bits


@dataclass(frozen=True)
class LayerFeatures:
    """The logic one layer module holds, counted in bits from its constants and formats.

    The additions of the constant products and offsets, as Yosys builds them
    (``chop.hardware.arith_cells``): ``full_adder_bits`` / ``half_adder_bits``, compressor-tree bits
    adding three / two signals; carry-chain bits adding two signals (``adder_bits``), a signal and
    a constant one (``constant_bits``), or at most one signal to the carry (``carry_bits``). The
    requantisers: ``round_bits``, their incrementers; ``tie_bits``, the dropped bits a requantiser
    whose input holds half a step tests for a tie instead; ``saturate_bits``, bits their sign tests read; ``mux_bits``,
    output bits chosen between the value and a saturation limit (both for ReLUs and adds). A linear
    or affine row's saturation test counts apart, by the output's signedness (``signed_test_bits``,
    ``unsigned_test_bits``): the accumulator bits at and above the output's top that are not copies
    of another (``row_test_bits``). ``clip_bits``: a ReLU's zeroing
    of negative inputs; ``cone_bits``: output bits of an element-wise op whose input has at most
    ``LUT_INPUTS`` bits, each one LUT whatever the op computes (its other LUT features are then
    zero); ``carry_chains``: CARRY4 cells; ``register_bits``: flip-flops of the layer's register stages.
    """

    full_adder_bits: int = 0
    half_adder_bits: int = 0
    adder_bits: int = 0
    constant_bits: int = 0
    carry_bits: int = 0
    round_bits: int = 0
    tie_bits: int = 0
    saturate_bits: int = 0
    mux_bits: int = 0
    signed_test_bits: int = 0
    unsigned_test_bits: int = 0
    clip_bits: int = 0
    cone_bits: int = 0
    carry_chains: int = 0
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
    products: str = PRODUCT_STYLES[0]

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
        return {"pipeline": self.pipeline, "products": self.products, "nodsp": self.nodsp, "luts": self.luts,
                "ffs": self.ffs,
                "carry4": self.carry4, "layers": [layer.as_dict() for layer in self.layers]}


def constant_bits(fmt: FixedFormat, lo: int, hi: int) -> int:
    """How many top bits of ``fmt``'s codes are the same for every code in ``[lo, hi]``.

    A range of one sign is contiguous in two's complement, so the bits above the highest bit
    where ``lo`` and ``hi`` differ never change (and every bit at or below it does); a range
    holding both signs changes the sign bit, so no bit is constant.
    """
    mask = (1 << fmt.width) - 1
    return fmt.width - ((lo & mask) ^ (hi & mask)).bit_length()


def held_bits(fmt: FixedFormat, lo: int, hi: int, pad: int) -> int:
    """Flip-flops Yosys keeps for one register of ``fmt`` codes in ``[lo, hi]`` whose ``pad`` low bits
    the requantiser fills with zeros: constant bits go, and the padded bits, equal to each other
    (all ones only when the value saturates at the top), share one flip-flop."""
    top = constant_bits(fmt, lo, hi)
    low = min(max(pad, 0), fmt.width - top)
    return fmt.width - top - low + (1 if low > 0 and hi == fmt.hi else 0)


def requantised_range(lo: int, hi: int, frac: int, out: FixedFormat) -> tuple[int, int]:
    """The output codes that accumulator codes ``[lo, hi]`` at ``frac`` can requantise to (monotone)."""
    ends = [int(code) for code in out.requantize(_tensor([lo, hi]), frac).tolist()]
    return ends[0], ends[1]


def _tensor(values: Sequence[int]) -> Any:
    return torch.tensor(values, dtype=torch.int64)


def requantiser(in_width: int, in_frac: int, in_signed: bool, out: FixedFormat) -> LayerFeatures:
    """The logic of one ``fixed_requant`` instance behind a ReLU or an add that depends on its input:
    what is left once the bits the component only sign-extends (and Yosys folds away) are set aside.
    (A linear or affine row's requantiser is counted by ``_constant_layer``.)

    Dropping fraction bits takes an incrementer over the kept bits (round half to even); the value
    then needs a saturation test and a multiplexer per output bit only when it can exceed the
    output (a signed value into an unsigned output always can: negatives clamp to zero).
    """
    drop = max(in_frac - out.frac, 0)
    kept = max(in_width - drop, 1) + max(out.frac - in_frac, 0)
    value_bits = kept + (1 if drop > 0 else 0)  # the rounding carry may need one more
    if out.signed:
        saturates = value_bits > (out.width if in_signed else out.width - 1)
    else:
        saturates = in_signed or value_bits > out.width
    round_bits = kept if drop > 0 else 0
    return LayerFeatures(round_bits=round_bits, carry_chains=math.ceil(round_bits / CARRY_BITS),
                         saturate_bits=max(value_bits - out.width + 1, 1) if saturates else 0,
                         mux_bits=out.width if saturates else 0)


def genuine_width(row_width: int, offset: int, shift: int, acc_width: int) -> int:
    """How many low bits of a row's accumulator are signals or constants of their own: the row's sum
    (``row_width`` bits at ``shift``) plus a constant offset keeps one bit more than the wider of
    the two (``wreduce``), and every bit above is a copy of that top bit."""
    if not offset:
        return min(acc_width, row_width + shift)
    return min(acc_width, max(row_width + shift, signed_width(offset, offset)) + 1)


def _output_top(acc_frac: int, out: FixedFormat) -> int:
    """The accumulator bit the output's top bit (its sign bit, for a signed output) reads."""
    return out.width - (1 if out.signed else 0) + acc_frac - out.frac


def row_test_bits(genuine: int, acc_frac: int, out: FixedFormat) -> int:
    """The signals a linear or affine row's saturation test reads: the accumulator bits at and above
    the output's top bit (its sign bit, for a signed output) that are not copies of another bit.

    Bits above the row's ``genuine`` width (``genuine_width``) copy its top bit, which the test reads
    once. A test of one signed bit is no test: such a row cannot leave the output's range as Yosys
    sees it, so it has no saturation logic. A signed output tests that the bits repeat their sign
    (two reductions over them), an unsigned one that they are all zero (one): they cost
    differently, so the estimate keeps them apart.
    """
    bits = genuine - _output_top(acc_frac, out)
    return bits if bits > (1 if out.signed else 0) else 0


def unsaturated_row_bits(genuine: int, low_bit: int, acc_frac: int, out: FixedFormat) -> int:
    """Flip-flops of a row's output register when the row has no saturation test: one per output bit
    that reads a signal of the accumulator, none for a constant one.

    Output bit ``k`` reads accumulator bit ``k + acc_frac - out.frac`` (below bit 0: an appended zero).
    Bits under ``low_bit`` are the offset's own (every term of the row has zeros there), so constant.
    The top genuine bit and the copies above it are the sign: one flip-flop for a signed output, none
    for an unsigned one (a negative value clamps to zero, and the sign itself reads as zero then).
    """
    moved = acc_frac - out.frac
    positions = [k + moved for k in range(out.width)]
    signals = sum(1 for p in positions if max(low_bit, 0) <= p < genuine - 1)
    sign = out.signed and any(p >= genuine - 1 for p in positions)
    return signals + (1 if sign else 0)


def _low_bit(row: Sequence[tuple[int, int]]) -> int:
    """The lowest bit a row's sum can set: the fewest trailing zeros of its constants."""
    return min((((c & -c).bit_length() - 1) for _, c in row if c), default=0)


def _constant_layer(rows: Sequence[Sequence[tuple[int, int]]], offsets: Sequence[int], in_format: FixedFormat,
                    shift: int, acc_frac: int, out: FixedFormat, products: str) -> tuple[LayerFeatures, int, int]:
    """The products, offsets and requantisers of a linear or affine layer; also the flip-flops of its
    output register (one stage) and the widest row sum (the width of the ``split`` register).

    A row of zero constants has a constant accumulator: Yosys folds its requantiser and register
    away. A row that may saturate has every output bit a signal, less the bits constant over the
    layer's reachable output codes (``held_bits``); any other row, ``unsaturated_row_bits``.
    """
    lo, hi = in_format.lo, in_format.hi
    sums = []
    for row in rows:
        low = sum(min(c * lo, c * hi) for _, c in row)
        high = sum(max(c * lo, c * hi) for _, c in row)
        sums.append((low, high))
    acc = [((low << shift) + b, (high << shift) + b) for (low, high), b in zip(sums, offsets)]
    half = rounding_half(acc_frac, out)  # what the emitter adds to the offsets
    emitted = [b + half for b in offsets]
    acc_width = signed_width(min(a for a, _ in acc) + half, max(b for _, b in acc) + half)
    features = _arith_features(arith_cells(product_graph(rows, emitted, in_format, shift, acc_width, products)))
    out_lo = min(requantised_range(a, b, acc_frac, out)[0] for a, b in acc)
    out_hi = max(requantised_range(a, b, acc_frac, out)[1] for a, b in acc)
    saturating = held_bits(out, out_lo, out_hi, out.frac - acc_frac)
    drop = max(acc_frac - out.frac, 0)
    registers = 0
    for row, (low, high), offset in zip(rows, sums, emitted):
        if not any(c for _, c in row):
            continue
        genuine = genuine_width(signed_width(low, high), offset, shift, acc_width)
        test = row_test_bits(genuine, acc_frac, out)
        features = features.plus(LayerFeatures(tie_bits=drop if half > 0 else 0,
                                               signed_test_bits=test if out.signed else 0,
                                               unsigned_test_bits=0 if out.signed else test))
        registers += saturating if test else unsaturated_row_bits(genuine, _low_bit(row) + shift, acc_frac, out)
    sum_width = max(signed_width(low, high) for low, high in sums)
    return features, registers, sum_width


def _arith_features(cells: ArithCells) -> LayerFeatures:
    return LayerFeatures(full_adder_bits=cells.full_adder_bits, half_adder_bits=cells.half_adder_bits,
                         adder_bits=cells.adder_bits, constant_bits=cells.constant_bits, carry_bits=cells.carry_bits,
                         carry_chains=cells.carry4)


def _register(bits: int, stages: int) -> int:
    """Flip-flops of a ``fixed_delay``: the data bits and the valid bit at every stage."""
    return (bits + 1) * stages


def layer_features(step: Step, pipeline: str, products: str = PRODUCT_STYLES[0]) -> LayerFeatures:
    """The features of one compute step's module under ``pipeline`` with ``products`` (register bits included)."""
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
            channel = affine_channels(step.inputs[0].size, len(scale))
            rows = [[(e, scale[c])] for e, c in enumerate(channel)]
            offsets = [shifts[c] for c in channel]
            shift = op.product_shift
        features, held, sum_width = _constant_layer(rows, offsets, op.in_format, shift, op.acc_format.frac,
                                                    op.out_format, products)
        registers = stage * (held + 1)
        if pipeline == "split":
            registers += _register(len(rows) * sum_width, 1)
        return features.plus(LayerFeatures(register_bits=registers))
    if isinstance(op, FixedReLU):
        fmt = op.in_format
        requant = requantiser(fmt.width, fmt.frac, fmt.signed, op.out_format)
        per_element = LayerFeatures(clip_bits=fmt.width if fmt.signed else 0).plus(requant)
        lo, hi = requantised_range(max(fmt.lo, 0), fmt.hi, fmt.frac, op.out_format)
        if fmt.width <= LUT_INPUTS:
            luts = _logic_bits(_codes(fmt), op.integer_forward(_codes(fmt)), fmt.width, out.fmt, stage > 0)
            features = _times(_small_cone(per_element, luts), out.size)
        else:
            features = _times(per_element, out.size)
        registers = stage * (out.size * held_bits(out.fmt, lo, hi, out.fmt.frac - fmt.frac) + 1)
        return features.plus(LayerFeatures(register_bits=registers))
    if isinstance(op, FixedAdd):
        frac = op.acc_format.frac
        a_shift, b_shift = frac - op.a_format.frac, frac - op.b_format.frac
        lo = (op.a_format.lo << a_shift) + (op.b_format.lo << b_shift)
        hi = (op.a_format.hi << a_shift) + (op.b_format.hi << b_shift)
        width = signed_width(lo, hi)
        adder = _arith_features(two_operand_adder(width, (a_shift, op.a_format.width, op.a_format.signed),
                                                  (b_shift, op.b_format.width, op.b_format.signed)))
        per_element = adder.plus(requantiser(width, frac, True, op.out_format))
        if op.a_format.width + op.b_format.width <= LUT_INPUTS:
            a, b = torch.cartesian_prod(_codes(op.a_format), _codes(op.b_format)).unbind(-1)
            inputs = ((a & ((1 << op.a_format.width) - 1)) << op.b_format.width) | (b & ((1 << op.b_format.width) - 1))
            luts = _logic_bits(inputs, op.integer_forward(a, b), op.a_format.width + op.b_format.width, out.fmt,
                               stage > 0)
            per_element = _small_cone(per_element, luts)
        out_lo, out_hi = requantised_range(lo, hi, frac, op.out_format)
        registers = stage * (out.size * held_bits(out.fmt, out_lo, out_hi, out.fmt.frac - frac) + 1)
        return _times(per_element, out.size).plus(LayerFeatures(register_bits=registers))
    raise HardwareError(f"node '{step.node}': no resource model for '{step.kind}'; "
                        f"the estimate covers fixed_linear, fixed_affine, fixed_relu and fixed_add")


def _codes(fmt: FixedFormat) -> torch.Tensor:
    """Every code of ``fmt``, lowest first."""
    return torch.arange(fmt.lo, fmt.hi + 1, dtype=torch.int64)


def _logic_bits(inputs: torch.Tensor, outputs: torch.Tensor, in_width: int, out_format: FixedFormat,
                registered: bool) -> int:
    """LUTs of an element-wise op on few input bits, from its whole truth table (``outputs`` for every
    input code in ``inputs``): one per output bit that is not a wire, plus the conditions below.

    Constant bits and copies of an input bit (or of another output bit) are wires. Behind a register
    stage, a bit that is a wire except where the output saturates (its largest or smallest code) is
    one too: Yosys puts the saturation on the flip-flop's synchronous set or reset, and the condition,
    one LUT per element unless it is itself an input bit, is shared by every bit it forces. That is why
    a ReLU that only clips a format's top half costs nothing after a ``layer`` pipeline."""
    def column(codes: torch.Tensor, bit: int) -> tuple[int, ...]:
        return tuple(((codes >> bit) & 1).tolist())

    wires = [column(inputs, bit) for bit in range(in_width)]
    ends = [outputs == outputs.max(), outputs == outputs.min()] if registered else []
    needed, conditions = set(), set()
    for bit in range(out_format.width):
        values = (outputs >> bit) & 1
        if len(set(values.tolist())) == 1 or column(outputs, bit) in wires:
            continue
        condition = _set_or_reset(values, wires, ends)
        if condition is None:
            needed.add(column(outputs, bit))
        else:
            conditions.add(condition)
    return len(needed) + len(conditions - set(wires))


def _set_or_reset(values: torch.Tensor, wires: Sequence[tuple[int, ...]], ends: Sequence[torch.Tensor]
                  ) -> tuple[int, ...] | None:
    """A condition under which an output bit (``values`` over the truth table) is forced to a constant and
    outside which it is a wire or a constant; an input bit if one will do (it costs no LUT), else a
    saturation region of the output. ``None`` when there is none: the bit needs a LUT."""
    def is_wire(rest: torch.Tensor, where: torch.Tensor) -> bool:
        return len(set(rest.tolist())) <= 1 or any(rest.tolist() == torch.tensor(w)[where].tolist() for w in wires)

    for condition in [torch.tensor(w, dtype=torch.bool) for w in wires] + list(ends):
        if condition.all() or not condition.any():
            continue
        if len(set(values[condition].tolist())) == 1 and is_wire(values[~condition], ~condition):
            return tuple(condition.to(torch.int64).tolist())
    return None


def _small_cone(features: LayerFeatures, logic_bits: int) -> LayerFeatures:
    """An element-wise op on at most ``LUT_INPUTS`` input bits: ABC collapses each output bit into one LUT
    (its rounding carry included), so it costs one LUT per output bit that is a function of more than one
    input bit (``_logic_bits``), whatever the op computes. Not used for affine layers: their products and
    shift are adders that Yosys maps to carry chains before ABC, so they keep their adder count."""
    return LayerFeatures(cone_bits=logic_bits, register_bits=features.register_bits)


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


def netlist_features(netlist: Netlist, pipeline: str,
                     products: str = PRODUCT_STYLES[0]) -> list[tuple[str, str, LayerFeatures]]:
    """``(node, kind, features)`` of every layer module and every delay the top adds, in graph order."""
    rows = [(step.node, step.kind, layer_features(step, pipeline, products)) for step in netlist.compute]
    rows += [(node, "fixed_delay", features) for node, features in _join_delays(netlist, pipeline)]
    return rows


def estimate_design(prepared: fx.GraphModule, *, pipeline: str = "layer", products: str = PRODUCT_STYLES[0],
                    nodsp: bool = True, coefficients: Mapping[str, float] = COEFFICIENTS) -> DesignEstimate:
    """LUTs, FFs and CARRY4 of the design ``emit_rtl(prepared, pipeline=pipeline, products=products)``
    writes, per layer and in total, as Yosys ``synth_xilinx`` would map it; no Yosys runs."""
    if pipeline not in PIPELINES:
        raise HardwareError(f"unknown pipeline '{pipeline}'; use one of: {', '.join(PIPELINES)}")
    netlist = build_netlist(prepared)
    layers = tuple(_layer_estimate(node, kind, features, coefficients)
                   for node, kind, features in netlist_features(netlist, pipeline, products))
    return DesignEstimate(pipeline, nodsp, layers, dict(coefficients), products)
