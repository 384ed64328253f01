"""Write files so that a crash never leaves a half-written one behind: temp file, fsync, rename."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from chop.errors import MachopError


@contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; on success it replaces ``target`` atomically."""
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as error:
        raise MachopError(f"cannot write {target}: {error.strerror or error}") from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes files owner-only; keep the usual permissions
        os.replace(tmp, target)
    except OSError as error:
        tmp.unlink(missing_ok=True)
        raise MachopError(f"cannot write {target}: {error.strerror or error}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def ensure_writable(directory: str | Path, error: type[MachopError] = MachopError, advice: str = "") -> Path:
    """Create ``directory`` if needed and check a file can be made in it: fail before a long job,
    not after it. ``error`` and ``advice`` (appended after ``; ``) let a caller say what to change."""
    directory = Path(directory)
    suffix = f"; {advice}" if advice else ""
    if directory.exists() and not directory.is_dir():
        raise error(f"directory {directory} is a file, not a directory{suffix}")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as problem:
        raise error(f"directory {directory} is not writable ({problem.strerror or problem}){suffix}") from None
    return directory


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def atomic_write(target: str | Path, write: Callable[[IO[Any]], Any], mode: str = "wb") -> None:
    """Call ``write(handle)`` on a temp file, then rename it to ``target``."""
    with atomic_path(target) as tmp, open(tmp, mode) as handle:
        write(handle)


def atomic_write_text(target: str | Path, text: str) -> None:
    atomic_write(target, lambda handle: handle.write(text), mode="w")


def atomic_save_png(figure: Any, target: str | Path, *, tight: bool = True) -> None:
    """Save a matplotlib figure as PNG (110 dpi, as every machop plot), written atomically."""
    with atomic_path(target) as tmp:
        figure.savefig(tmp, format="png", dpi=110, **({"bbox_inches": "tight"} if tight else {}))


def atomic_torch_save(obj: Any, target: str | Path) -> None:
    import torch

    atomic_write(target, lambda handle: torch.save(obj, handle))
