"""Ternary quantiser (lab-api §6): ``{-1, 0, +1}``, or ``{-α, 0, +α}`` with ``scaling_factor``.

The threshold is ``threshold`` when given, else ``0.75·mean`` (Ternary Weight Networks, Li & Liu
2016), else ``0.05·max``, else ``0.75·median``, else ``0.75·mean|x|`` of the tensor itself; ``mean``,
``median`` and ``max`` are the profiled statistics the quantise pass looks up (MASE's order of
preference as the spec gives it). Values above the threshold become ``+1``, below minus it ``-1``,
the rest ``0``. With ``scaling_factor``, ``α`` is the mean ``|x|`` of the elements beyond the
threshold, computed per tensor.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from chop.quantizers.quantizer import Quantizer, key
from chop.quantizers.ste import straight_through


def ternary_threshold(x: Tensor, threshold: float | None = None, mean: float | None = None,
                      median: float | None = None, max: float | None = None) -> Tensor | float:  # noqa: A002
    """The threshold the rule above picks (``max`` is named as MASE's config key)."""
    if threshold is not None:
        return threshold
    if mean is not None:
        return 0.75 * mean
    if max is not None:
        return 0.05 * max
    if median is not None:
        return 0.75 * median
    return 0.75 * x.abs().mean()


def ternary_quantize(x: Tensor, threshold: float | None = None, mean: float | None = None,
                     median: float | None = None, max: float | None = None,  # noqa: A002
                     scaling_factor: bool = False) -> Tensor:
    """The ternarised values, without gradient handling."""
    limit = ternary_threshold(x, threshold, mean, median, max)
    beyond = x.abs() > limit
    signs = torch.where(beyond, torch.sign(x), torch.zeros_like(x))
    if not scaling_factor:
        return signs
    alpha = (x.abs() * beyond).sum() / beyond.sum().clamp(min=1)
    return signs * alpha


def ternary_quantizer(x: Tensor, threshold: float | None = None, mean: float | None = None,
                      median: float | None = None, max: float | None = None,  # noqa: A002
                      scaling_factor: bool = False) -> Tensor:
    """MASE's ``ternary_quantizer``: ternarised values forward, identity gradient backward."""
    return straight_through(ternary_quantize, x, threshold=threshold, mean=mean, median=median, max=max,
                            scaling_factor=scaling_factor)


@dataclass(frozen=True)
class Ternary(Quantizer):
    """The ``ternary`` format: two bits, never clamped; the statistics pick the threshold (see above)."""

    threshold: float | None = key(float, None)
    mean: float | None = key(float, None)
    median: float | None = key(float, None)
    max: float | None = key(float, None)  # noqa: A003 (MASE's key)
    scaling_factor: bool = key(bool, False)
    name = "ternary"
    function = ternary_quantizer
    module_suffix = "Ternary"
    function_suffix = "ternary"

    def precision(self) -> list[int]:
        return [2]
