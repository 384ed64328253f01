"""Quantisers by config name, their keys, and an immutable ``Quantizer`` value that applies one.

A quantiser config is ``{"name": "integer", "width": 8, "frac_width": 4}`` (the quantise pass
strips the operand prefix from MASE keys such as ``weight_frac_width``). ``make_quantizer`` checks
it once, fills defaults and returns a frozen ``Quantizer``; inner code never digs through dicts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from torch import Tensor

from chop.errors import PassError, unknown
from chop.quantizers.ap_fixed import OVERFLOW_MODES, ROUNDING_MODES, ApFixed, ap_fixed_quantizer, normalize_mode
from chop.quantizers.binary import binary_quantizer
from chop.quantizers.block_fp import block_fp_quantizer, block_fp_range
from chop.quantizers.integer import integer_quantizer, integer_range
from chop.quantizers.log import log_quantizer, log_range
from chop.quantizers.minifloat_denorm import minifloat_denorm_quantizer, minifloat_denorm_range
from chop.quantizers.minifloat_ieee import minifloat_ieee_quantizer, minifloat_ieee_range
from chop.quantizers.ternary import ternary_quantizer

REQUIRED = object()


@dataclass(frozen=True)
class Param:
    """One key of a quantiser: its value type and default (``REQUIRED`` when it has none)."""

    name: str
    kind: type
    default: Any = REQUIRED


@dataclass(frozen=True)
class QuantizerSpec:
    name: str
    function: Callable[..., Tensor]
    params: tuple[Param, ...]
    takes_signed: bool
    value_range: Callable[..., tuple[float, float]] | None
    precision: Callable[[Mapping[str, Any]], list[int]]


_WIDTH = Param("width", int)
_EXP = Param("exponent_width", int)
_BIAS = Param("exponent_bias", int, None)


SPECS: dict[str, QuantizerSpec] = {
    spec.name: spec
    for spec in (
        QuantizerSpec("integer", integer_quantizer, (_WIDTH, Param("frac_width", int, None)), True, integer_range,
                      lambda p: [p["width"], p["frac_width"]]),
        QuantizerSpec("fixed", integer_quantizer, (_WIDTH, Param("frac_width", int, None)), True, integer_range,
                      lambda p: [p["width"], p["frac_width"]]),
        QuantizerSpec("ap_fixed", ap_fixed_quantizer,
                      (_WIDTH, Param("int_width", int), Param("rounding", str, "TRN"), Param("overflow", str, "WRAP")),
                      True, None, lambda p: [p["width"], p["int_width"]]),
        QuantizerSpec("minifloat_ieee", minifloat_ieee_quantizer, (_WIDTH, _EXP, _BIAS), False, minifloat_ieee_range,
                      lambda p: [p["width"], p["exponent_width"], p["exponent_bias"]]),
        QuantizerSpec("minifloat_denorm", minifloat_denorm_quantizer, (_WIDTH, _EXP, _BIAS), False,
                      minifloat_denorm_range, lambda p: [p["width"], p["exponent_width"], p["exponent_bias"]]),
        QuantizerSpec("log", log_quantizer, (_WIDTH, _BIAS), False, log_range,
                      lambda p: [p["width"], p["exponent_bias"]]),
        QuantizerSpec("block_fp", block_fp_quantizer, (_WIDTH, _EXP, _BIAS, Param("block_size", int, 16)), False,
                      block_fp_range, lambda p: [p["width"], p["exponent_width"], p["exponent_bias"], p["block_size"]]),
        QuantizerSpec("binary", binary_quantizer,
                      (Param("stochastic", bool, False), Param("bipolar", bool, True), Param("seed", int, 0)),
                      False, None, lambda p: [1]),
        QuantizerSpec("ternary", ternary_quantizer,
                      (Param("threshold", float, None), Param("mean", float, None), Param("median", float, None),
                       Param("max", float, None), Param("scaling_factor", bool, False)),
                      False, None, lambda p: [2]),
    )
}


def get_spec(name: str, where: str = "") -> QuantizerSpec:
    if name not in SPECS:
        raise PassError(f"{where}{unknown('quantizer', str(name), SPECS)}")
    return SPECS[name]


def _check(spec: QuantizerSpec, params: dict[str, Any], where: str) -> None:
    """Refuse values no hardware number type has; messages name the key and the value."""
    width = params.get("width")
    if width is not None and width <= 0:
        raise PassError(f"{where}width must be a positive integer, got {width}")
    if spec.name in ("integer", "fixed") and params["frac_width"] > width:
        raise PassError(f"{where}frac_width {params['frac_width']} is larger than width {width}")
    if spec.name == "ap_fixed":
        if params["int_width"] < 0:
            raise PassError(f"{where}int_width {params['int_width']} makes the frac width "
                            f"{width - params['int_width']} larger than width {width}")
        params["rounding"] = _mode(params["rounding"], ROUNDING_MODES, "rounding", where)
        params["overflow"] = _mode(params["overflow"], OVERFLOW_MODES, "overflow", where)
    if "exponent_width" in params:
        lowest = 2 if spec.name == "minifloat_ieee" else 1
        highest = width - 2 if spec.name.startswith("minifloat") else width  # minifloats keep a mantissa bit
        if not lowest <= params["exponent_width"] <= highest:
            raise PassError(f"{where}exponent_width {params['exponent_width']} must lie in [{lowest}, {highest}] "
                            f"for width {width}")
    if spec.name == "log" and width < 2:
        raise PassError(f"{where}width must be at least 2 for 'log' (sign + exponent), got {width}")
    if spec.name == "block_fp" and (width < 2 or params["block_size"] <= 0):
        raise PassError(f"{where}block_fp needs width >= 2 and block_size >= 1, got {width} and {params['block_size']}")


def _mode(value: str, modes: tuple[str, ...], what: str, where: str) -> str:
    try:
        return normalize_mode(value, modes, what)
    except PassError as error:
        raise PassError(f"{where}{error}") from None


@dataclass(frozen=True)
class Quantizer:
    """One operand's number format, fully resolved: ``quantizer(x)`` fake-quantises ``x`` (STE)."""

    name: str
    params: tuple[tuple[str, Any], ...]
    signed: bool = True

    @property
    def spec(self) -> QuantizerSpec:
        return SPECS[self.name]

    @property
    def kwargs(self) -> dict[str, Any]:
        extra = {"is_signed": self.signed} if self.spec.takes_signed else {}
        return {**dict(self.params), **extra}

    def __call__(self, x: Tensor) -> Tensor:
        return self.spec.function(x, **self.kwargs)

    def value_range(self) -> tuple[float, float] | None:
        """Representable range, or None where values are never clamped (binary, ternary)."""
        if self.name == "ap_fixed":
            p = dict(self.params)
            return ApFixed(p["width"], p["int_width"], p["rounding"], p["overflow"], self.signed).range()
        return None if self.spec.value_range is None else self.spec.value_range(**self.kwargs)

    def precision(self) -> list[int]:
        return self.spec.precision(dict(self.params))

    def __str__(self) -> str:
        if self.name == "ap_fixed":
            p = dict(self.params)
            return str(ApFixed(p["width"], p["int_width"], p["rounding"], p["overflow"], self.signed))
        shown = ", ".join(f"{k}={v}" for k, v in self.params)
        return f"{self.name}({shown}{'' if self.signed or not self.spec.takes_signed else ', unsigned'})"


def make_quantizer(name: str, values: Mapping[str, Any], signed: bool = True, node: str = "",
                   operand: str = "") -> Quantizer:
    """Check ``values`` (keys without operand prefix) against quantiser ``name`` and resolve defaults.

    ``node`` (e.g. ``"node fc1 (linear)"``) and ``operand`` (``"weight"``) make error messages name
    the node and the full key (``weight_frac_width``).
    """
    spec = get_spec(name, f"{node}: " if node else "")
    where = (f"{node}: " if node else "") + (f"{operand}_" if operand else "")
    params: dict[str, Any] = {}
    for param in spec.params:
        if param.name not in values or values[param.name] is None:
            if param.default is REQUIRED:
                raise PassError(f"{where}{param.name} is required by quantizer '{name}' but missing")
            params[param.name] = param.default
            continue
        value = values[param.name]
        if param.kind is bool:  # MASE's TOML files write flags as 0/1 to keep arrays homogeneous
            if not (isinstance(value, bool) or (type(value) is int and value in (0, 1))):
                raise PassError(f"{where}{param.name} must be true/false (or 1/0), got {value!r}")
            params[param.name] = bool(value)
            continue
        if param.kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, param.kind) or isinstance(value, bool):
            raise PassError(f"{where}{param.name} must be {param.kind.__name__}, got {value!r}")
        params[param.name] = value
    # defaults that depend on other keys: MASE's frac width w // 2, the usual exponent biases
    if "frac_width" in params and params["frac_width"] is None:
        params["frac_width"] = params["width"] // 2
    if params.get("exponent_bias", 0) is None:
        bits = params["exponent_width"] if "exponent_width" in params else params["width"] - 1
        params["exponent_bias"] = 2 ** (bits - 1) - 1
    _check(spec, params, where)
    return Quantizer(name, tuple(params.items()), signed)
