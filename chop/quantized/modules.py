"""Quantised twins of nn modules: float master weights, fake-quantised operands in ``forward``.

Each twin subclasses the module it replaces (``LinearInteger`` is an ``nn.Linear``), so code that
asks ``isinstance(m, nn.Linear)`` still works and the state_dict keys are unchanged. Inputs,
weights and biases go through their quantiser on every call; the gradient passes straight through
to the float parameters, which is what quantisation-aware training updates.

Classes are named ``<Module><Format>`` as in MASE: ``LinearInteger``, ``Conv1dMinifloatIEEE``,
``ReLUApFixed``, ``BatchNorm1dLog``, ... (``integer`` and ``fixed`` share the ``Integer`` twins).

As in MASE, ``twin.x_quantizer`` (every twin) and ``twin.w_quantizer`` / ``twin.b_quantizer``
(twins with a weight and bias) quantise a tensor exactly as ``forward`` does; an operand the
format leaves alone (the input of ``LinearBinary``) gets the identity, as MASE's passthrough.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from chop.quantized.node_config import NodeQuantConfig
from chop.quantizers import FORMATS, Quantizer

# config name -> the suffix of its twin classes (``fixed`` shares the ``Integer`` twins)
FORMAT_SUFFIX: dict[str, str] = {name: cls.module_suffix for name, cls in FORMATS.items()}


class QuantizedModule(nn.Module):
    """Mixin: holds the node's config (``.config``, as MASE) and one quantiser per operand."""

    config: dict[str, Any]
    quantizers: dict[str, Quantizer]

    @classmethod
    def from_module(cls, module: nn.Module, node_config: NodeQuantConfig) -> QuantizedModule:
        """A copy of ``module`` (own parameters and buffers) that quantises as ``node_config`` says."""
        twin = copy.deepcopy(module)
        twin.__class__ = cls
        twin.config = node_config.config
        twin.quantizers = dict(node_config.quantizers)
        return twin

    def quantize(self, operand: str, value: Tensor | None) -> Tensor | None:
        quantizer = self.quantizers.get(operand)
        return value if value is None or quantizer is None else quantizer(value)

    def operand_quantizer(self, operand: str) -> Callable[[Tensor], Tensor]:
        """What ``forward`` applies to ``operand``: its quantiser, or the identity where it has none."""
        return self.quantizers.get(operand, passthrough)

    @property
    def x_quantizer(self) -> Callable[[Tensor], Tensor]:
        """MASE's name for the input quantiser (lab 2 calls it on tensors)."""
        return self.operand_quantizer("data_in")

    def extra_repr(self) -> str:
        shown = ", ".join(f"{operand}={quantizer}" for operand, quantizer in self.quantizers.items())
        return f"{super().extra_repr()}, {shown}" if super().extra_repr() else shown


def passthrough(x: Tensor) -> Tensor:
    """The identity: what an operand that a format leaves alone goes through (MASE's ``quantiser_passthrough``)."""
    return x


class _Weighted(QuantizedModule):
    """Twins with a weight and a bias: MASE's ``w_quantizer`` and ``b_quantizer`` as well."""

    @property
    def w_quantizer(self) -> Callable[[Tensor], Tensor]:
        return self.operand_quantizer("weight")

    @property
    def b_quantizer(self) -> Callable[[Tensor], Tensor]:
        return self.operand_quantizer("bias")


class _Linear(_Weighted, nn.Linear):
    def forward(self, x: Tensor) -> Tensor:
        return F.linear(self.quantize("data_in", x), self.quantize("weight", self.weight), self.quantize("bias", self.bias))


class _Conv1d(_Weighted, nn.Conv1d):
    def forward(self, x: Tensor) -> Tensor:
        return self._conv_forward(self.quantize("data_in", x), self.quantize("weight", self.weight),
                                  self.quantize("bias", self.bias))


class _Conv2d(_Weighted, nn.Conv2d):
    def forward(self, x: Tensor) -> Tensor:
        return self._conv_forward(self.quantize("data_in", x), self.quantize("weight", self.weight),
                                  self.quantize("bias", self.bias))


class _ReLU(QuantizedModule, nn.ReLU):
    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.quantize("data_in", x), inplace=self.inplace)


class _BatchNorm1d(_Weighted, nn.BatchNorm1d):
    """Quantises the input and the affine weight and bias; running statistics stay float
    (hardware folds them into the affine constants after training)."""

    def forward(self, x: Tensor) -> Tensor:
        self._check_input_dim(x)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            factor = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
        use_batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        keep_stats = not self.training or self.track_running_stats
        return F.batch_norm(self.quantize("data_in", x),
                            self.running_mean if keep_stats else None, self.running_var if keep_stats else None,
                            self.quantize("weight", self.weight), self.quantize("bias", self.bias),
                            use_batch_stats, factor, self.eps)


_BASES: dict[str, tuple[str, type[QuantizedModule]]] = {
    "linear": ("Linear", _Linear),
    "conv1d": ("Conv1d", _Conv1d),
    "conv2d": ("Conv2d", _Conv2d),
    "relu": ("ReLU", _ReLU),
    "batch_norm1d": ("BatchNorm1d", _BatchNorm1d),
}
MODULE_BASES: dict[str, type[nn.Module]] = {
    "linear": nn.Linear, "conv1d": nn.Conv1d, "conv2d": nn.Conv2d, "relu": nn.ReLU, "batch_norm1d": nn.BatchNorm1d,
}


def _twin(op: str, suffix: str) -> type[QuantizedModule]:
    prefix, base = _BASES[op]
    name = f"{prefix}{suffix}"
    doc = f"``{MODULE_BASES[op].__name__}`` with {suffix} fake quantisation of its operands (straight-through)."
    return type(name, (base,), {"__module__": __name__, "__qualname__": name, "__doc__": doc})


# Every twin is a module-level name, so a pickled GraphModule (``.mz``) finds its class again.
TWINS: dict[tuple[str, str], type[QuantizedModule]] = {}
for _op in _BASES:
    for _suffix in dict.fromkeys(FORMAT_SUFFIX.values()):
        TWINS[(_op, _suffix)] = globals()[f"{_BASES[_op][0]}{_suffix}"] = _twin(_op, _suffix)


def quantized_module_class(mase_op: str, quantizer: str) -> type[QuantizedModule]:
    """The twin class for ``mase_op`` under quantiser ``quantizer`` (``LinearInteger`` for linear/integer)."""
    return TWINS[(mase_op, FORMAT_SUFFIX[quantizer])]
