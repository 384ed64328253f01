"""A Conv1d with constant weights, lowered to the matrix of a linear layer over the flattened sample.

A convolution of a ``(C_in, L_in)`` sample is linear in its ``C_in * L_in`` inputs, so it is
``y = T x + b`` for a Toeplitz-like matrix ``T`` of ``C_out * L_out`` rows and ``C_in * L_in``
columns: row ``o * L_out + t`` (output channel ``o``, position ``t``) holds weight ``W[o, c, k]`` at
column ``c * L_in + j`` with ``j = t * stride - pad_left + k * dilation``, and 0 elsewhere. A tap that
lands in the zero padding (``j`` outside ``0..L_in-1``) has no column: it adds nothing. Rows and
columns are in torch's row-major ``(C, L)`` order, so the flattened codes of the conv's input and
output are the codes of the tensors themselves: the element-wise ops around it (ReLU, a residual
add) and a Flatten before a classifier need no reordering, and the bias of output channel ``o`` is
the offset of its ``L_out`` rows.

Why a matrix and no convolution block: the fully parallel design computes every output position
at once anyway, so a convolution *is* a constant matrix-vector product with many zero entries.
Lowering it reuses, unchanged, everything the linear path already proves: exact accumulators from
the row bounds, folding of a neighbouring BatchNorm (per row), the integer reference, the shared
constant products of the RTL (which skip zero weights, so the zeros cost nothing) and the resource
estimate. The price is a matrix with ``L_out`` copies of each weight; the
shared-products search finds the sums those copies have in common.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from chop.errors import HardwareError
from chop.hardware.prepare.fold import Affine


@dataclass(frozen=True)
class Conv1dGeometry:
    """Where each tap of a Conv1d reads: channels, lengths and the module's stride, padding, dilation."""

    in_channels: int
    in_length: int
    out_channels: int
    kernel_size: int
    stride: int
    pad_left: int
    pad_right: int
    dilation: int

    @property
    def out_length(self) -> int:
        span = self.dilation * (self.kernel_size - 1) + 1
        return (self.in_length + self.pad_left + self.pad_right - span) // self.stride + 1

    @property
    def in_size(self) -> int:
        return self.in_channels * self.in_length

    @property
    def out_size(self) -> int:
        return self.out_channels * self.out_length


def conv1d_geometry(conv: nn.Conv1d, in_length: int, where: str) -> Conv1dGeometry:
    """The geometry of ``conv`` on inputs of ``in_length`` positions; ``where`` names the node in errors.

    Supported: ``groups=1`` and zero padding (an int or ``"valid"``/``"same"``); anything else is a
    one-line ``HardwareError``.
    """
    if conv.groups != 1:
        raise HardwareError(f"{where} has groups={conv.groups}; the hardware flow supports conv1d with groups=1 "
                            f"(a dense convolution)")
    if conv.padding_mode != "zeros":
        raise HardwareError(f"{where} has padding_mode='{conv.padding_mode}'; the hardware flow supports conv1d "
                            f"with padding_mode='zeros'")
    (kernel,), (stride,), (dilation,) = conv.kernel_size, conv.stride, conv.dilation
    if conv.padding == "valid":
        left = right = 0
    elif conv.padding == "same":  # torch's split: the odd padding element goes to the right
        total = dilation * (kernel - 1)
        left, right = total // 2, total - total // 2
    else:
        left = right = int(conv.padding[0])
    geometry = Conv1dGeometry(conv.in_channels, in_length, conv.out_channels, kernel, stride, left, right, dilation)
    if geometry.out_length < 1:
        raise HardwareError(f"{where}: an input of {in_length} positions gives no output position "
                            f"(kernel {kernel}, dilation {dilation}, padding {left}); use a longer input")
    return geometry


def conv1d_matrix(weight: Tensor, geometry: Conv1dGeometry) -> Tensor:
    """The ``(C_out * L_out, C_in * L_in)`` matrix of a Conv1d of ``weight`` ``(C_out, C_in, K)``, in its dtype."""
    g = geometry
    matrix = torch.zeros(g.out_size, g.in_size, dtype=weight.dtype)
    rows = torch.arange(g.out_channels).unsqueeze(1) * g.out_length  # (C_out, 1)
    columns = torch.arange(g.in_channels).unsqueeze(1) * g.in_length  # (C_in, 1)
    for t in range(g.out_length):
        for k in range(g.kernel_size):
            j = t * g.stride - g.pad_left + k * g.dilation
            if 0 <= j < g.in_length:  # a tap in the padding reads a zero: no term
                matrix[rows + t, (columns + j).T] = weight[:, :, k]
    return matrix


def per_position(values: Tensor, length: int) -> Tensor:
    """Per-channel ``values`` ``(C,)`` repeated for each of ``length`` positions: one per flattened element."""
    return values.repeat_interleave(length)


def affine_per_position(affine: Affine | None, length: int) -> Affine | None:
    """A BatchNorm's per-channel affine map as one entry per flattened ``(C, L)`` element (channel of i: i // L)."""
    if affine is None:
        return None
    return Affine(per_position(affine.scale, length), per_position(affine.shift, length))
