"""Versioned names ``NAME``, ``NAME-v1``, ``NAME-v2``...: earlier runs are kept, never overwritten.

Lightning's ``ModelCheckpoint`` names a second run's checkpoint ``best-v1.ckpt``; machop uses the
same ``-vN`` suffix for its checkpoints (``chop.engine.checkpoints``) and for the output folders a
rerun of ``ch transform`` / ``ch search`` would overwrite: MASE's path (``quantize/``,
``search_ckpts/``) always holds the latest run and the earlier one is renamed to the next free
``quantize-vN/``, so scripts written for MASE find the newest results where they always were.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from chop.errors import MachopError
from chop.tools.logger import get_logger

log = get_logger(__name__)


def versioned_name(stem: str, version: int, suffix: str = "") -> str:
    """``stem + suffix`` for version 0, else ``stem-vN + suffix`` (``best.ckpt``, ``best-v1.ckpt``)."""
    return f"{stem}{suffix}" if version == 0 else f"{stem}-v{version}{suffix}"


def versions(directory: Path, stem: str, suffix: str = "") -> list[int]:
    """The versions of ``stem`` present in ``directory`` (0 is the plain name), in no particular order."""
    pattern = re.compile(rf"^{re.escape(stem)}(?:-v(\d+))?{re.escape(suffix)}$")
    if not directory.is_dir():
        return []
    return [int(m.group(1) or 0) for entry in directory.iterdir() if (m := pattern.match(entry.name))]


def move_aside(path: str | Path) -> Path | None:
    """Rename ``path`` (a file or folder) to the next free ``-vN`` name; None when it does not exist.

    A rename within a folder is atomic: ``path`` is either still the earlier run or already free.
    """
    path = Path(path)
    if not path.exists():
        return None
    version = max(versions(path.parent, path.name)) + 1
    while (target := path.parent / versioned_name(path.name, version)).exists():  # e.g. a -vN made meanwhile
        version += 1
    try:
        os.rename(path, target)
    except OSError as error:
        raise MachopError(f"cannot move the earlier run {path} aside to {target}: {error.strerror or error}") from None
    return target


def keep_earlier_run(*paths: Path) -> tuple[Path, ...]:
    """Move an earlier run's outputs aside (``quantize`` -> ``quantize-v1``...) and say so in one line."""
    moves = [(path, moved) for path in paths if (moved := move_aside(path)) is not None]
    if moves:
        log.info("earlier run kept: %s", ", ".join(f"{path} -> {moved.name}" for path, moved in moves))
    return tuple(moved for _, moved in moves)


@contextmanager
def replacing(path: str | Path) -> Iterator[Path | None]:
    """Make room at ``path`` for a new run: the earlier one is moved aside (the value is where it went,
    or None). If the new run fails or is interrupted, its partial output is removed and the earlier run
    put back, so ``path`` never holds half a run."""
    path = Path(path)
    kept = move_aside(path)
    try:
        yield kept
    except BaseException:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        if kept is not None and not path.exists():
            kept.rename(path)
        raise
