"""One root for every error a user can fix.

The CLI prints a ``MachopError`` as a single line and exits non-zero; anything else is a bug and
keeps its traceback. Library code raises these instead of printing or calling ``sys.exit``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class MachopError(Exception):
    """A mistake the user can correct; the message says what to change."""


class ConfigError(MachopError):
    """A bad flag, TOML file or key."""


class DataError(MachopError):
    """A dataset that cannot be found, read or prepared."""


class ModelError(MachopError):
    """An unknown model, a bad model file or a checkpoint that does not fit."""


class PassError(MachopError):
    """A graph pass given arguments it cannot use."""


class QuantizerError(PassError):
    """A number format or quantiser config that no hardware type has.

    Raised by ``chop.quantizers`` and ``chop.quantized``, below the passes; it subclasses
    ``PassError`` because the quantise pass is where users meet it, and callers catch that.
    """


class HardwareError(MachopError):
    """A graph, format or tool that the hardware flow cannot use as it is (the message says what to do)."""


class ExportError(MachopError):
    """A model, op or number format that an export target (ONNX, ...) cannot express."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def unknown(kind: str, word: str, choices: Iterable[str]) -> str:
    """Message for an unknown name: the closest match and the full list of known names."""
    known = sorted(choices)
    return f"unknown {kind} '{word}'{did_you_mean(word, known)}; known: {', '.join(known)}"
