"""The number formats by config name, and ``make_quantizer``, which builds one from a config.

A quantiser config is ``{"name": "integer", "width": 8, "frac_width": 4}`` (the per-node config
parser strips the operand prefix from MASE keys such as ``weight_frac_width``). ``make_quantizer``
checks each key's value against the format's declared kind, fills defaults and builds the frozen
format, which validates itself; inner code never digs through dicts. A new format is a file with
its ``Quantizer`` subclass and one entry in ``FORMATS``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from chop.errors import QuantizerError, unknown
from chop.quantizers.ap_fixed import ApFixed
from chop.quantizers.binary import Binary
from chop.quantizers.block_fp import BlockFP
from chop.quantizers.block_log import BlockLog
from chop.quantizers.block_minifloat import BlockMinifloat
from chop.quantizers.integer import Fixed, Integer
from chop.quantizers.log import Log
from chop.quantizers.minifloat_denorm import MinifloatDenorm
from chop.quantizers.minifloat_ieee import MinifloatIEEE
from chop.quantizers.quantizer import KIND, OPERAND_DEFAULT, REQUIRED, Quantizer
from chop.quantizers.ternary import Ternary

FORMATS: dict[str, type[Quantizer]] = {
    cls.name: cls
    for cls in (Integer, Fixed, ApFixed, MinifloatIEEE, MinifloatDenorm, Log, BlockFP, BlockLog, BlockMinifloat,
                Binary, Ternary)
}


def format_type(name: str, where: str = "") -> type[Quantizer]:
    """The format called ``name`` in configs; ``where`` (``"node fc1 (linear): "``) prefixes the error."""
    if name not in FORMATS:
        raise QuantizerError(f"{where}{unknown('quantizer', str(name), FORMATS)}")
    return FORMATS[name]


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


# key kinds whose values are not a single Python type: (parser, what the user should write)
_PARSERS: dict[type, tuple[Callable[[Any], Any], str]] = {
    tuple: (_block_size, "an int or a list of ints (each >= 1, or -1 for the whole dim), e.g. 16 or [1, 16]"),
    bool: (_flag, "true/false (or 1/0)"),
}


def _value(name: str, kind: type, value: Any, where: str) -> Any:
    """``value`` checked against ``kind``: ints widen to floats, block sizes become tuples."""
    if kind in _PARSERS:
        parse, expected = _PARSERS[kind]
        parsed = parse(value)
        if parsed is None:
            raise QuantizerError(f"{where}{name} must be {expected}, got {value!r}")
        return parsed
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise QuantizerError(f"{where}{name} must be {kind.__name__}, got {value!r}")
    return value


def _resolve(field: dataclasses.Field[Any], values: Mapping[str, Any], operand: str, quantizer: str,
             where: str) -> Any:
    """One key's value: the config's (checked), else what the operand implies, else the format's default."""
    if values.get(field.name) is not None:
        return _value(field.name, field.metadata[KIND], values[field.name], where)
    if field.metadata[OPERAND_DEFAULT] is not None:
        return field.metadata[OPERAND_DEFAULT](operand)
    if field.default is REQUIRED:
        raise QuantizerError(f"{where}{field.name} is required by quantizer '{quantizer}' but missing")
    return field.default


def make_quantizer(name: str, values: Mapping[str, Any], signed: bool = True, node: str = "",
                   operand: str = "") -> Quantizer:
    """Check ``values`` (keys without operand prefix) against format ``name`` and build it.

    ``node`` (e.g. ``"node fc1 (linear)"``) and ``operand`` (``"weight"``) make error messages name
    the node and the full key (``weight_frac_width``). The operand also sets one default: block
    formats skip the batch dim (``skip_first_dim``) for ``data_in`` only, as MASE's modules do.
    ``signed`` applies to the formats with a sign choice (integer, fixed, ap_fixed).
    """
    cls = format_type(name, f"{node}: " if node else "")
    where = (f"{node}: " if node else "") + (f"{operand}_" if operand else "")
    params = {field.name: _resolve(field, values, operand, name, where) for field in cls.keys()}
    if cls.takes_signed():
        params["signed"] = signed
    try:
        return cls(**params)
    except QuantizerError as error:
        raise QuantizerError(f"{where}{error}") from None
