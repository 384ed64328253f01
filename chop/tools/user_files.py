"""Importing a Python file of the user's (``FILE.py:Class`` names a model, a search space or a strategy).

The module gets a name fixed by the file's resolved path (a sha256 prefix, not ``hash()``, which
Python salts per process), so a class defined there pickles in one process and unpickles in a
worker (``ch search --jobs``). The file is executed afresh on each import: it may have changed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from chop.errors import MachopError


def import_user_file(path: Path, kind: str, error: type[MachopError], prefix: str) -> ModuleType:
    """The module of ``path``; a missing file, a non-Python file or one that fails to run is one ``error`` line.

    ``kind`` names the file in messages ("model file", "search space file"); ``prefix`` starts the
    module name (``machop_user_model``).
    """
    if not path.is_file():
        raise error(f"{kind} {path} does not exist")
    module_name = f"{prefix}_{hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise error(f"{kind} {path} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pickling look classes up by their module
    try:
        spec.loader.exec_module(module)
    except MachopError:
        raise
    except Exception as failure:  # the user's file: where it broke, in one line (--debug shows the traceback)
        raise error(f"{kind} {path} failed to import: {type(failure).__name__}: {failure}") from failure
    return module
