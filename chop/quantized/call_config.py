"""``QuantizedCallConfig``: the ``config=`` of a quantised function call, parsed once.

fx writes a node's keyword arguments into the GraphModule's code, and a pickled graph (``.mz``)
is rebuilt from that code when it loads, so the value must print as Python that re-imports.
fx prints a NamedTuple as ``Type(field, ...)`` and imports the type, so this is one: its fields
are the mase op and the config's items, both constants in the generated code. Building one
from fields seen before returns the instance parsed then, so the call a forward makes is one
lookup; nothing re-parses the dict. It reads like the config dict MASE put there
(``config["data_in_width"]``, ``config.get(...)``, ``dict(config)``); iterating it walks its two
fields, as fx expects of a NamedTuple.
"""

from __future__ import annotations

from collections.abc import KeysView, Mapping
from functools import lru_cache
from typing import Any, NamedTuple

from chop.quantized.node_config import NodeQuantConfig, parse_node_config
from chop.quantizers import Quantizer

Items = tuple[tuple[str, Any], ...]


class _Fields(NamedTuple):
    mase_op: str
    items: Items


class QuantizedCallConfig(_Fields):
    """One function node's config: its source items, and its quantisers by operand (``.quantizers``)."""

    quantizers: dict[str, Quantizer]

    def __new__(cls, mase_op: str, items: Items) -> QuantizedCallConfig:
        items = tuple(items)
        return _parsed(cls, mase_op, items, _kinds(items))

    @classmethod
    def of(cls, mase_op: str, config: Mapping[str, Any] | NodeQuantConfig | QuantizedCallConfig
           ) -> QuantizedCallConfig:
        """The call config of a parsed node config, or of a dict (as graphs saved before this type hold)."""
        if isinstance(config, QuantizedCallConfig):
            return config
        source = config.config if isinstance(config, NodeQuantConfig) else config
        # lists (block_size = [1, 16]) become tuples: the items key the parsed instances
        return cls(mase_op, tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in source.items()))

    @property
    def config(self) -> dict[str, Any]:
        """The config as a dict, MASE's form."""
        return dict(self.items)

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        """``config["data_in_width"]`` reads the config; an int index reads the fields, as fx does."""
        return self.config[key] if isinstance(key, str) else tuple.__getitem__(self, key)

    def keys(self) -> KeysView[str]:
        return self.config.keys()

    def get(self, key: str, default: Any = None) -> Any:
        return self.config.get(key, default)

    def __reduce__(self) -> tuple[Any, ...]:
        return QuantizedCallConfig, (self.mase_op, self.items)

    def __deepcopy__(self, memo: dict[int, Any]) -> QuantizedCallConfig:
        return self  # immutable, and one instance per config


def _kinds(value: Any) -> Any:
    """The types inside ``value``: ``8``, ``8.0`` and ``True`` are equal keys, but not equal configs."""
    return tuple(_kinds(v) for v in value) if isinstance(value, tuple) else type(value)


@lru_cache(maxsize=None)
def _parsed(cls: type[QuantizedCallConfig], mase_op: str, items: Items, kinds: Any) -> QuantizedCallConfig:
    """The one instance for these fields and their types (a graph holds a handful of configs)."""
    instance = tuple.__new__(cls, (mase_op, items))
    instance.quantizers = dict(parse_node_config(mase_op, mase_op, dict(items)).quantizers)
    return instance
