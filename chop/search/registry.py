"""Search spaces and strategies by name (MASE's ``get_search_space_cls`` / ``get_search_strategy_cls``).

A name is a built-in one (``graph/quantize/mixed_precision_ptq``; ``optuna``, ``brute_force``) or
``FILE.py:Class``: a class in the user's own file, as ``ch`` names a model of the user's own. MASE's
users add their class to ``SEARCH_SPACE_MAP`` in MASE's source; here the TOML names the file, and
nothing global changes. A relative ``FILE.py`` is read from the TOML's folder (``relative_to``).
The built-ins are listed as import paths, so reading the names imports neither torch nor optuna.
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from typing import Any

from chop.errors import ConfigError, did_you_mean
from chop.tools.user_files import import_user_file

SEARCH_SPACES = {"graph/quantize/mixed_precision_ptq": "chop.search.space:MixedPrecisionSpace",
                 "graph/architecture/channel_multiplier": "chop.search.architecture_space:ChannelMultiplierSpace",
                 "graph/architecture_quantize": "chop.search.architecture_space:ArchitectureQuantizeSpace"}
SEARCH_STRATEGIES = {"optuna": "chop.search.strategy:Search", "brute_force": "chop.search.strategy:BruteForceSearch"}
USER_CLASS = "FILE.py:Class (a class of your own)"


def names_user_class(name: str) -> bool:
    """Whether a space or strategy name reads ``FILE.py:Class``."""
    file, sep, class_name = name.rpartition(":")
    return bool(sep and class_name) and file.endswith(".py")


def get_search_space_cls(name: str, relative_to: str | Path | None = None) -> type:
    """The space class a ``[search.search_space] name`` names (a ``SearchSpaceBase`` subclass)."""
    from chop.search.space_base import SearchSpaceBase

    return _lookup("search space", name, SEARCH_SPACES, SearchSpaceBase, relative_to,
                   "chop.actions.search.search_space")


def get_search_strategy_cls(name: str, relative_to: str | Path | None = None) -> type:
    """The strategy class a ``[search.strategy] name`` names (a ``SearchStrategyBase`` subclass)."""
    from chop.search.strategy_base import SearchStrategyBase

    return _lookup("search strategy", name, SEARCH_STRATEGIES, SearchStrategyBase, relative_to,
                   "chop.actions.search.strategies")


def _lookup(kind: str, name: Any, built_in: dict[str, str], base: type, relative_to: str | Path | None,
            base_module: str) -> type:
    if not isinstance(name, str):
        raise ConfigError(f"a {kind} name must be a string, got {name!r}; known: {', '.join(built_in)}, "
                          f"or {USER_CLASS}")
    if name in built_in:
        module, _, attribute = built_in[name].partition(":")
        return getattr(importlib.import_module(module), attribute)
    if not names_user_class(name):
        raise ConfigError(f"unknown {kind} '{name}'{did_you_mean(name, built_in)}; known: {', '.join(built_in)}, "
                          f"or {USER_CLASS}")
    file, _, class_name = name.rpartition(":")
    path = Path(file) if relative_to is None or Path(file).is_absolute() else Path(relative_to) / file
    cls = getattr(_import_file(path, kind), class_name, None)
    if cls is None:
        raise ConfigError(f"{kind} file {path} has no class '{class_name}'")
    if not (inspect.isclass(cls) and issubclass(cls, base)):
        raise ConfigError(f"{kind} {name}: {class_name} is not a subclass of {base.__name__}; "
                          f"derive it from {base_module}.{base.__name__}")
    if inspect.isabstract(cls):
        missing = ", ".join(sorted(cls.__abstractmethods__))
        raise ConfigError(f"{kind} {name}: {class_name} does not define {missing}, which {base.__name__} requires")
    return cls


def _import_file(path: Path, kind: str) -> Any:
    return import_user_file(path, f"{kind} file", ConfigError, "machop_user_search")
