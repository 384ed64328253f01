"""Small pieces of SystemVerilog text that every generated module uses: widths, literals, names.

Kept in one place so that the emitted files write numbers one way (two's complement hex in a
stated width, decimal in the comments) and every signed width is derived by one rule.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from chop.errors import HardwareError
from chop.hardware.fixed import FixedFormat

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def signed_width(lo: int, hi: int) -> int:
    """The fewest bits of a signed (two's complement) wire that holds every integer in ``[lo, hi]``."""
    below = (-lo - 1).bit_length() + 1 if lo < 0 else 1
    above = hi.bit_length() + 1 if hi > 0 else 1
    return max(below, above)


def hex_literal(value: int, width: int) -> str:
    """``value`` as a ``width``-bit two's complement hex literal, e.g. ``-3`` in 4 bits: ``4'hd``."""
    return f"{width}'h{value & ((1 << width) - 1):x}"


def packed_constants(values: Sequence[int], width: int, per_line: int = 8, indent: str = "        ") -> str:
    """A concatenation holding ``values[i]`` at bits ``[i*width +: width]``: the last value comes first."""
    literals = [hex_literal(v, width) for v in reversed(values)]
    lines = [", ".join(literals[i:i + per_line]) for i in range(0, len(literals), per_line)]
    return "{\n" + ",\n".join(indent + line for line in lines) + "\n    }"


def decimal_list(values: Sequence[int], per_line: int = 16, indent: str = "    //   ") -> str:
    """The values in decimal, as comment lines (what a student reads next to the hex)."""
    chunks = [", ".join(str(v) for v in values[i:i + per_line]) for i in range(0, len(values), per_line)]
    return "\n".join(indent + chunk for chunk in chunks)


def vector(width: int) -> str:
    """The range of a packed vector of ``width`` bits: ``[width-1:0]``."""
    return f"[{width - 1}:0]"


def describe(fmt: FixedFormat, size: int | None = None) -> str:
    """A format as the comments write it: ``16 x fixed<8,3>`` or ``fixed<8,3>``."""
    return f"{size} x {fmt}" if size is not None else str(fmt)


def check_identifier(name: str, what: str) -> str:
    """``name`` when it can name a SystemVerilog module or wire, else a ``HardwareError``."""
    if not IDENTIFIER.fullmatch(name):
        raise HardwareError(f"{what} '{name}' is not a SystemVerilog identifier; use letters, digits and _")
    return name
