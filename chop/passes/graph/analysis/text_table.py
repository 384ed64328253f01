"""A grid text table with multi-line cells (the layout of ``tabulate(..., tablefmt="grid")``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def grid_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Render ``rows`` under ``headers`` with ``+---+`` rules; cells may contain newlines."""
    cells = [[str(h).splitlines() or [""] for h in headers]]
    cells += [[str(c).splitlines() or [""] for c in row] for row in rows]
    widths = [max(len(line) for row in cells for line in row[i]) for i in range(len(headers))]

    def rule(char: str) -> str:
        return "+" + "+".join(char * (w + 2) for w in widths) + "+"

    def render(row: list[list[str]]) -> list[str]:
        height = max(len(c) for c in row)
        return ["| " + " | ".join((c[i] if i < len(c) else "").ljust(w) for c, w in zip(row, widths)) + " |"
                for i in range(height)]

    lines = [rule("-"), *render(cells[0]), rule("=")]
    for row in cells[1:]:
        lines += render(row) + [rule("-")]
    if len(cells) == 1:
        lines.append(rule("-"))
    return "\n".join(lines)
