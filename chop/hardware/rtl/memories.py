"""The constants of each layer as readable memory files (``$readmemh`` hex, one row per line).

The fully parallel design holds its constants in the layer modules' logic, not in memories;
these files document them in the form MASE's ``emit_bram_transform_pass`` wrote (one file per
parameter), so a student can check a layer's numbers or load them into a memory-based design.
"""

from __future__ import annotations

from collections.abc import Sequence

from chop.hardware.fixed import FixedFormat
from chop.hardware.ops import FixedAffine, FixedLinear
from chop.hardware.rtl.netlist import Netlist
from chop.hardware.rtl.verilog import signed_width


def _memory(title: str, rows: Sequence[Sequence[int]], width: int) -> str:
    digits = (width + 3) // 4
    mask = (1 << width) - 1
    lines = [f"// {title}", f"// {width}-bit two's complement hex, one row per line (element 0 first)"]
    lines += [" ".join(f"{value & mask:0{digits}x}" for value in row) for row in rows]
    return "\n".join(lines) + "\n"


def _offsets_width(values: Sequence[int]) -> int:
    return signed_width(min(values), max(values))


def _vector_memory(node: str, what: str, values: list[int], frac: int) -> str:
    width = _offsets_width(values)
    return _memory(f"{node} {what}: {len(values)} codes at fraction bits {frac} "
                   f"(decimal: {', '.join(map(str, values))})", [values], width)


def _matrix_memory(node: str, what: str, values: list[list[int]], fmt: FixedFormat) -> str:
    title = f"{node} {what}: {len(values)} x {len(values[0]) if values else 0} codes of {fmt}, row-major (out, in)"
    return _memory(title, values, fmt.width)


def constant_memories(netlist: Netlist) -> dict[str, str]:
    """``{node}_{parameter}.mem`` text for the constants of every linear and affine layer."""
    files: dict[str, str] = {}
    for step in netlist.compute:
        op = step.op
        if isinstance(op, FixedLinear):
            files[f"{step.node}_weight.mem"] = _matrix_memory(step.node, "weight", op.weight.tolist(), op.weight_format)
            files[f"{step.node}_bias.mem"] = _vector_memory(step.node, "bias", op.bias.tolist(), op.acc_format.frac)
        elif isinstance(op, FixedAffine):
            scale = op.scale.tolist()
            files[f"{step.node}_scale.mem"] = _memory(f"{step.node} scale: {len(scale)} codes of {op.scale_format}",
                                                      [scale], op.scale_format.width)
            files[f"{step.node}_shift.mem"] = _vector_memory(step.node, "shift", op.shift.tolist(), op.acc_format.frac)
    return files
