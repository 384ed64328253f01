"""A small TOML writer for nested metadata (tomllib reads TOML but the standard library cannot write it)."""

from __future__ import annotations

import json
import math
import re
from typing import Any

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _string(text: str) -> str:
    """A TOML basic string: JSON's escapes for quotes, backslashes and control characters (DEL too)."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _key(key: Any) -> str:
    text = str(key)
    return text if _BARE_KEY.match(text) else _string(text)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def dumps(data: dict[str, Any]) -> str:
    """TOML text for nested dicts of str/int/float/bool/lists; an empty dict still gets its table."""
    lines: list[str] = []

    def table(path: list[str], content: dict[str, Any]) -> None:
        scalars = [(k, v) for k, v in content.items() if not isinstance(v, dict)]
        tables = [(k, v) for k, v in content.items() if isinstance(v, dict)]
        if path and (scalars or not tables):
            lines.append(f"[{'.'.join(_key(p) for p in path)}]")
        for key, value in scalars:
            lines.append(f"{_key(key)} = {_value(value)}")
        if scalars:
            lines.append("")
        for key, value in tables:
            table([*path, key], value)

    table([], data)
    return "\n".join(lines).rstrip() + "\n"
