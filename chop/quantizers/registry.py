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

from chop.errors import QuantizerError, unknown
from chop.quantizers.ap_fixed import (
    MAX_INT_WIDTH,
    OVERFLOW_MODES,
    ROUNDING_MODES,
    ApFixed,
    ap_fixed_quantizer,
    normalize_mode,
)
from chop.quantizers.binary import binary_quantizer
from chop.quantizers.block_fp import block_fp_quantizer, block_fp_range
from chop.quantizers.block_log import block_log_quantizer, block_log_range
from chop.quantizers.block_minifloat import block_minifloat_quantizer, block_minifloat_range
from chop.quantizers.integer import MAX_FIXED_WIDTH, integer_quantizer, integer_range
from chop.quantizers.log import log_exponent_limits, log_quantizer, log_range
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


def _block_size(value: Any) -> tuple[int, ...] | None:
    """An int or a list of ints, each >= 1 or -1 (the whole dim); None when it is neither."""
    sizes = [value] if isinstance(value, int) else value
    if not isinstance(sizes, (list, tuple)) or not sizes:
        return None
    if not all(isinstance(n, int) and not isinstance(n, bool) and (n >= 1 or n == -1) for n in sizes):
        return None
    return tuple(sizes)


def _flag(value: Any) -> bool | None:
    """true/false, or MASE's 0/1 (its generated TOML arrays stay homogeneous); None otherwise."""
    return bool(value) if isinstance(value, bool) or (type(value) is int and value in (0, 1)) else None


# keys whose values are not a single Python type: (parser, what the user should write)
_PARSERS: dict[type, tuple[Callable[[Any], Any], str]] = {
    tuple: (_block_size, "an int or a list of ints (each >= 1, or -1 for the whole dim), e.g. 16 or [1, 16]"),
    bool: (_flag, "true/false (or 1/0)"),
}


@dataclass(frozen=True)
class QuantizerSpec:
    name: str
    function: Callable[..., Tensor]
    params: tuple[Param, ...]
    takes_signed: bool
    value_range: Callable[..., tuple[float, float]] | None
    precision: Callable[[Mapping[str, Any]], list[Any]]


_WIDTH = Param("width", int)
_EXP = Param("exponent_width", int)
_BIAS = Param("exponent_bias", int, None)
_BIAS_WIDTH = Param("exponent_bias_width", int)
# MASE's default block is [16] along the last dim; data_in blocks skip the batch dim unless told
_BLOCK = (Param("block_size", tuple, (16,)), Param("skip_first_dim", bool, None))


def _blocks(p: Mapping[str, Any]) -> list[int]:
    return list(p["block_size"])


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
        QuantizerSpec("block_fp", block_fp_quantizer, (_WIDTH, _EXP, _BIAS, *_BLOCK), False, block_fp_range,
                      lambda p: [p["width"], p["exponent_width"], p["exponent_bias"], _blocks(p)]),
        QuantizerSpec("block_log", block_log_quantizer, (_WIDTH, _BIAS_WIDTH, *_BLOCK), False, block_log_range,
                      lambda p: [p["width"], p["exponent_bias_width"], _blocks(p)]),
        QuantizerSpec("block_minifloat", block_minifloat_quantizer, (_WIDTH, _EXP, _BIAS_WIDTH, *_BLOCK), False,
                      block_minifloat_range,
                      lambda p: [p["width"], p["exponent_width"], p["exponent_bias_width"], _blocks(p)]),
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
        raise QuantizerError(f"{where}{unknown('quantizer', str(name), SPECS)}")
    return SPECS[name]


def _check(spec: QuantizerSpec, params: dict[str, Any], where: str) -> None:
    """Refuse values no hardware number type has; messages name the key and the value."""
    width = params.get("width")
    if width is not None and width <= 0:
        raise QuantizerError(f"{where}width must be a positive integer, got {width}")
    if spec.name in ("integer", "fixed", "ap_fixed", "block_fp") and width > MAX_FIXED_WIDTH:
        raise QuantizerError(f"{where}width {width} is wider than {MAX_FIXED_WIDTH}, the most '{spec.name}' computes "
                        f"exactly (float64 holds integers of up to 53 bits)")
    if spec.name in ("integer", "fixed"):
        _check_frac_width(params["frac_width"], width, where)
    if spec.name == "ap_fixed":
        _check_ap_fixed(params, where)
    if "exponent_width" in params:
        _check_exponent_width(spec.name, params["exponent_width"], width, where)
    if spec.name in ("log", "block_log", "block_fp", "block_minifloat") and width < 2:
        raise QuantizerError(f"{where}width must be at least 2 for '{spec.name}' (a sign bit and more), got {width}")
    if params.get("exponent_bias_width", 0) < 0:
        raise QuantizerError(f"{where}exponent_bias_width must be >= 0, got {params['exponent_bias_width']}")
    _check_float64_exponents(spec.name, params, where)


def _check_ap_fixed(params: dict[str, Any], where: str) -> None:
    """``I > W`` is a coarser grid (valid, as in HLS); ``I < 0`` is refused; modes are normalised."""
    width, int_width = params["width"], params["int_width"]
    if int_width < 0:
        raise QuantizerError(f"{where}int_width {int_width} makes the frac width {width - int_width} larger than "
                        f"width {width}")
    if int_width > MAX_INT_WIDTH:
        raise QuantizerError(f"{where}int_width {int_width} is larger than {MAX_INT_WIDTH}: the largest value "
                        f"2^(int_width-1) would not be a finite float64")
    params["rounding"] = _mode(params["rounding"], ROUNDING_MODES, "rounding", where)
    params["overflow"] = _mode(params["overflow"], OVERFLOW_MODES, "overflow", where)


def _check_frac_width(frac_width: int, width: int, where: str) -> None:
    """A negative frac width is a coarser grid (a step of 2^|f|), as ``ap_fixed<W,I>`` with ``I > W``."""
    if frac_width > width:
        raise QuantizerError(f"{where}frac_width {frac_width} is larger than width {width}")
    if width - frac_width > MAX_INT_WIDTH:
        raise QuantizerError(f"{where}frac_width {frac_width} is below {width - MAX_INT_WIDTH}: the largest value "
                        f"2^(width-1-frac_width) would not be a finite float64")


def _check_exponent_width(name: str, exponent_width: int, width: int, where: str) -> None:
    """Minifloats keep a mantissa bit; block_fp's shared exponent is separate from its ``width`` bits."""
    if name == "block_fp":
        if exponent_width < 1:
            raise QuantizerError(f"{where}exponent_width must be at least 1, got {exponent_width}")
        return
    lowest = 1 if name == "minifloat_denorm" else 2  # an IEEE-style top code needs 2 bits
    if not lowest <= exponent_width <= width - 2:
        raise QuantizerError(f"{where}exponent_width {exponent_width} must lie in [{lowest}, {width - 2}] for width {width}")


def _exponent_span(name: str, p: Mapping[str, Any]) -> tuple[int, int] | None:
    """Exponents of a format's smallest step and of its largest binade, or None for fixed point."""
    if name == "log":
        return log_exponent_limits(p["width"], p["exponent_bias"])
    if name == "block_log":
        return 1 - 2 ** p["exponent_bias_width"], 2 ** (p["width"] - 1) - 1
    if name in ("minifloat_ieee", "minifloat_denorm", "block_minifloat"):
        bias_low, bias_high = (0, 2 ** p["exponent_bias_width"] - 1) if name == "block_minifloat" else \
            (p["exponent_bias"], p["exponent_bias"])
        top_code = 2 ** p["exponent_width"] - (1 if name == "minifloat_denorm" else 2)
        return 1 - bias_high - (p["width"] - 1 - p["exponent_width"]), top_code - bias_low
    if name == "block_fp":
        bias = p["exponent_bias"]
        return -bias - p["width"] + 1, 2 ** p["exponent_width"] - 2 - bias
    return None


def _check_float64_exponents(name: str, params: Mapping[str, Any], where: str) -> None:
    """The arithmetic runs in float64: every value of the format must be a float64 (no inf, no flush to 0)."""
    span = _exponent_span(name, params)
    if span is not None and not (-1074 <= span[0] and span[1] <= 1023):
        raise QuantizerError(f"{where}width {params['width']} and the exponent keys of '{name}' reach values "
                        f"2^{span[0]} .. 2^{span[1]}, outside float64's 2^-1074 .. 2^1023; use fewer exponent bits "
                        f"or another bias")


def _mode(value: str, modes: tuple[str, ...], what: str, where: str) -> str:
    try:
        return normalize_mode(value, modes, what)
    except QuantizerError as error:
        raise QuantizerError(f"{where}{error}") from None


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

    def precision(self) -> list[Any]:
        """The metadata ``precision`` list (MASE's order; block formats end with the block size list)."""
        return self.spec.precision(dict(self.params))

    def __str__(self) -> str:
        if self.name == "ap_fixed":
            p = dict(self.params)
            return str(ApFixed(p["width"], p["int_width"], p["rounding"], p["overflow"], self.signed))
        shown = ", ".join(f"{k}={v}" for k, v in self.params)
        return f"{self.name}({shown}{'' if self.signed or not self.spec.takes_signed else ', unsigned'})"


def _value(param: Param, value: Any, where: str) -> Any:
    """``value`` checked against ``param``'s kind: ints widen to floats, block sizes become tuples."""
    if param.kind in _PARSERS:
        parse, expected = _PARSERS[param.kind]
        parsed = parse(value)
        if parsed is None:
            raise QuantizerError(f"{where}{param.name} must be {expected}, got {value!r}")
        return parsed
    if param.kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, param.kind) or isinstance(value, bool):
        raise QuantizerError(f"{where}{param.name} must be {param.kind.__name__}, got {value!r}")
    return value


def make_quantizer(name: str, values: Mapping[str, Any], signed: bool = True, node: str = "",
                   operand: str = "") -> Quantizer:
    """Check ``values`` (keys without operand prefix) against quantiser ``name`` and resolve defaults.

    ``node`` (e.g. ``"node fc1 (linear)"``) and ``operand`` (``"weight"``) make error messages name
    the node and the full key (``weight_frac_width``). The operand also sets one default: block
    formats skip the batch dim (``skip_first_dim``) for ``data_in`` only, as MASE's modules do.
    """
    spec = get_spec(name, f"{node}: " if node else "")
    where = (f"{node}: " if node else "") + (f"{operand}_" if operand else "")
    params: dict[str, Any] = {}
    for param in spec.params:
        if param.name not in values or values[param.name] is None:
            if param.default is REQUIRED:
                raise QuantizerError(f"{where}{param.name} is required by quantizer '{name}' but missing")
            params[param.name] = param.default
            continue
        params[param.name] = _value(param, values[param.name], where)
    # defaults that depend on other keys: MASE's frac width w // 2, the usual exponent biases
    if "frac_width" in params and params["frac_width"] is None:
        params["frac_width"] = params["width"] // 2
    if "skip_first_dim" in params and params["skip_first_dim"] is None:
        params["skip_first_dim"] = operand == "data_in"
    if params.get("exponent_bias", 0) is None:
        bits = params["exponent_width"] if "exponent_width" in params else params["width"] - 1
        params["exponent_bias"] = 2 ** (bits - 1) - 1
    _check(spec, params, where)
    return Quantizer(name, tuple(params.items()), signed)
