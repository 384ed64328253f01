"""Hardware twins: the ops of a prepared graph, each computing in two independent ways.

A prepared graph (``chop.passes.graph.transforms.hardware``) is an fx GraphModule whose compute
nodes call these modules. Every twin holds integer constants (weights, biases, scales as int64
codes) and the fixed-point formats of its input, accumulator and output, and computes

- ``forward(x)``: real values in float64, fake-quantised at the output: what the prepared
  PyTorch model computes (exact, since every accumulator fits in 53 bits);
- ``integer_forward(x)``: int64 codes in, int64 codes out, with shifts and integer
  round-half-even: what the integer reference (``chop.hardware.reference``) runs and the RTL
  mirrors operation for operation.

Accumulators are exact (``acc_format`` is wide enough for every input in range); the only
rounding is the requantisation of the accumulator to ``out_format``, the format the consumer's
``data_in`` quantiser asks for.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from chop.errors import HardwareError
from chop.hardware.fixed import FixedFormat


class HardwareOp(nn.Module):
    """Base of the twins: ``kind`` names the RTL component (``fixed_linear``, ...)."""

    kind: str = ""
    out_format: FixedFormat

    def integer_forward(self, *codes: Tensor) -> Tensor:
        raise NotImplementedError


class FixedInput(HardwareOp):
    """The graph input: real values to codes of ``out_format`` (the input of the RTL)."""

    kind = "fixed_input"

    def __init__(self, out_format: FixedFormat) -> None:
        super().__init__()
        self.out_format = out_format

    def forward(self, x: Tensor) -> Tensor:
        return self.out_format.fake(x)

    def integer_forward(self, x: Tensor) -> Tensor:
        return self.out_format.quantize(x)


class FixedLinear(HardwareOp):
    """``y = requant(x @ W^T + b)``: constant int weights at ``weight_format``, bias at the accumulator's frac."""

    kind = "fixed_linear"

    def __init__(self, weight: Tensor, bias: Tensor, in_format: FixedFormat, weight_format: FixedFormat,
                 acc_format: FixedFormat, out_format: FixedFormat) -> None:
        super().__init__()
        self.register_buffer("weight", weight.to(torch.int64))  # (out, in) codes of weight_format
        self.register_buffer("bias", bias.to(torch.int64))  # (out,) codes at acc_format.frac
        self.in_format, self.weight_format = in_format, weight_format
        self.acc_format, self.out_format = acc_format, out_format

    @property
    def product_shift(self) -> int:
        """How far a product (frac in + frac weight) moves left to sit at the accumulator's frac."""
        return self.acc_format.frac - self.in_format.frac - self.weight_format.frac

    def forward(self, x: Tensor) -> Tensor:
        weight = self.weight.to(torch.float64) * self.weight_format.step
        bias = self.bias.to(torch.float64) * self.acc_format.step
        return self.out_format.fake(F.linear(x.to(torch.float64), weight, bias))

    def integer_forward(self, x: Tensor) -> Tensor:
        acc = ((x.unsqueeze(-2) * self.weight).sum(-1) << self.product_shift) + self.bias
        return self.out_format.requantize(acc, self.acc_format.frac)


def affine_channels(size: int, channels: int) -> list[int]:
    """The channel of each element of a flattened sample of ``size`` elements, for a per-channel op.

    The channel is dimension 1, as in ``BatchNorm1d``: a sample ``(C,)`` has element ``i`` in channel
    ``i``, a sample ``(C, L)`` (flattened row-major) has it in channel ``i // L``. The RTL and the
    estimate read this list; ``FixedAffine.forward`` and ``integer_forward`` broadcast the same way.
    """
    if channels < 1 or size % channels:
        raise HardwareError(f"a per-channel op of {channels} channels cannot read a sample of {size} elements; "
                            f"its channels must be dimension 1 of the input")
    return [i // (size // channels) for i in range(size)]


def _per_channel(values: Tensor, x: Tensor) -> Tensor:
    """``values`` (one per channel) shaped to broadcast along dimension 1 of ``x`` (N, C) or (N, C, L)."""
    return values.reshape(-1, *([1] * (x.dim() - 2)))


class FixedAffine(HardwareOp):
    """BatchNorm that cannot fold: ``y = requant(x * scale + shift)`` per channel (dimension 1, see ``affine_channels``)."""

    kind = "fixed_affine"

    def __init__(self, scale: Tensor, shift: Tensor, in_format: FixedFormat, scale_format: FixedFormat,
                 acc_format: FixedFormat, out_format: FixedFormat) -> None:
        super().__init__()
        self.register_buffer("scale", scale.to(torch.int64))  # (channels,) codes of scale_format
        self.register_buffer("shift", shift.to(torch.int64))  # (channels,) codes at acc_format.frac
        self.in_format, self.scale_format = in_format, scale_format
        self.acc_format, self.out_format = acc_format, out_format

    @property
    def product_shift(self) -> int:
        return self.acc_format.frac - self.in_format.frac - self.scale_format.frac

    def forward(self, x: Tensor) -> Tensor:
        scale = self.scale.to(torch.float64) * self.scale_format.step
        shift = self.shift.to(torch.float64) * self.acc_format.step
        return self.out_format.fake(x.to(torch.float64) * _per_channel(scale, x) + _per_channel(shift, x))

    def integer_forward(self, x: Tensor) -> Tensor:
        acc = ((x * _per_channel(self.scale, x)) << self.product_shift) + _per_channel(self.shift, x)
        return self.out_format.requantize(acc, self.acc_format.frac)


class FixedReLU(HardwareOp):
    """``y = requant(max(x, 0))``: the input's codes, clipped at zero, moved to ``out_format``."""

    kind = "fixed_relu"

    def __init__(self, in_format: FixedFormat, out_format: FixedFormat) -> None:
        super().__init__()
        self.in_format, self.out_format = in_format, out_format

    def forward(self, x: Tensor) -> Tensor:
        return self.out_format.fake(torch.relu(x.to(torch.float64)))

    def integer_forward(self, x: Tensor) -> Tensor:
        return self.out_format.requantize(torch.clamp(x, min=0), self.in_format.frac)


class FixedAdd(HardwareOp):
    """``y = requant(a + b)``, both aligned to the accumulator's frac (the larger of theirs)."""

    kind = "fixed_add"

    def __init__(self, a_format: FixedFormat, b_format: FixedFormat, acc_format: FixedFormat,
                 out_format: FixedFormat) -> None:
        super().__init__()
        self.a_format, self.b_format = a_format, b_format
        self.acc_format, self.out_format = acc_format, out_format

    def forward(self, a: Tensor, b: Tensor) -> Tensor:
        return self.out_format.fake(a.to(torch.float64) + b.to(torch.float64))

    def integer_forward(self, a: Tensor, b: Tensor) -> Tensor:
        frac = self.acc_format.frac
        acc = (a << (frac - self.a_format.frac)) + (b << (frac - self.b_format.frac))
        return self.out_format.requantize(acc, frac)
