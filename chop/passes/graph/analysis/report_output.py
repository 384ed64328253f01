"""Where a report pass's table goes: stdout, or a file when the user gives ``save_path``."""

from __future__ import annotations

from pathlib import Path

from chop.tools.atomic import atomic_write_text


def print_or_save(table: str, save_path: str | Path | None) -> None:
    """MASE's report passes print their table unless ``save_path`` names a file for it."""
    if save_path:
        atomic_write_text(save_path, table + "\n")
    else:
        print(table)
