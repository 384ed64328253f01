"""Typed node metadata behind MASE's dictionary view.

MASE keeps node metadata as nested plain dicts, so a misspelt key silently creates a new entry.
machop stores dataclass records instead and lets them be read and written like those dicts:
``meta.parameters["common"]["args"]["weight"]["type"] = "integer"`` sets a field of a record,
and a key that is not a field raises ``MetadataKeyError`` naming the known keys.

Records whose keys are names chosen by the graph (``args``, ``results``, ``stat``) are plain dicts
of records, since their keys are data, not a schema.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch

from chop.errors import PassError, did_you_mean



class MetadataKeyError(PassError, KeyError):
    """A metadata key that is not a field of its record (a typo, usually)."""

    def __str__(self) -> str:  # KeyError would print the message with quotes around it
        return str(self.args[0])


def same_value(a: Any, b: Any) -> bool:
    """Equality that also works for tensors (same dtype, shape and elements) nested in containers."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.dtype == b.dtype
                and a.shape == b.shape and bool(torch.equal(a, b)))
    if isinstance(a, Record) or isinstance(b, Record):  # a record equals its dict view
        if isinstance(a, Record) and isinstance(b, Record) and type(a) is not type(b):
            return False
        return same_value(to_plain(a), to_plain(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:  # NaN == NaN here
        return True
    return bool(a == b)


def to_plain(value: Any) -> Any:
    """Records to dicts, recursively; other values unchanged."""
    if isinstance(value, Record):
        return value.to_plain()
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    return value


class Record:
    """Dataclass mixin: fields readable and writable as fixed dictionary keys.

    ``KEY_ALIASES`` maps a dictionary key to a field name where the key is not a Python
    identifier (``"from"``). Subclasses may hide keys from ``keys()`` (optional fields).
    """

    KEY_ALIASES: ClassVar[dict[str, str]] = {}

    def _field(self, key: str) -> str:
        name = self.KEY_ALIASES.get(key, key)
        if not isinstance(key, str) or name not in {f.name for f in dataclasses.fields(self)} or name.startswith("_"):
            known = self._all_keys()
            raise MetadataKeyError(
                f"{type(self).__name__} has no key '{key}'{did_you_mean(str(key), known)}; keys: {', '.join(known)}")
        return name

    def _all_keys(self) -> list[str]:
        reverse = {v: k for k, v in self.KEY_ALIASES.items()}
        return [reverse.get(f.name, f.name) for f in dataclasses.fields(self) if not f.name.startswith("_")]

    def keys(self) -> list[str]:
        return self._all_keys()

    def __getitem__(self, key: str) -> Any:
        return getattr(self, self._field(key))

    def __setitem__(self, key: str, value: Any) -> None:
        setattr(self, self._field(key), value)

    def __contains__(self, key: object) -> bool:
        return key in self.keys()

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self.keys() else default

    def items(self) -> list[tuple[str, Any]]:
        return [(k, self[k]) for k in self.keys()]

    def values(self) -> list[Any]:
        return [self[k] for k in self.keys()]

    def to_plain(self) -> dict[str, Any]:
        return {k: to_plain(self[k]) for k in self.keys()}

    def __eq__(self, other: object) -> bool:
        """Equal to a record of the same type, or to a dict, with the same (plain) content."""
        if not isinstance(other, (type(self), dict)):
            return NotImplemented
        return same_value(self, other)

    def __repr__(self) -> str:
        return repr(self.to_plain())


@dataclass(eq=False, repr=False)
class TensorMeta(Record):
    """One tensor operand or result: ``{"type", "precision", "shape", "torch_dtype", "value"}``.

    ``precision`` is ``[32]`` for float32 and ``[width, frac_width]`` once quantised to integers.
    Module parameters also carry ``"from": None`` (MASE's marker for a parameter operand).
    ``value`` is present only when the common pass was asked to keep values.
    """

    KEY_ALIASES: ClassVar[dict[str, str]] = {"from": "source"}

    type: str = "float"
    precision: list[int] = field(default_factory=lambda: [32])
    shape: list[int] = field(default_factory=list)
    torch_dtype: Any = None
    value: Any = None
    source: Any = None
    is_parameter: bool = False

    def keys(self) -> list[str]:
        keys = ["type", "precision", "shape", "torch_dtype"]
        if self.value is not None:
            keys.append("value")
        if self.is_parameter:
            keys.append("from")
        return keys

    def _all_keys(self) -> list[str]:
        return ["type", "precision", "shape", "torch_dtype", "value", "from"]

    @classmethod
    def from_plain(cls, data: dict[str, Any], is_parameter: bool | None = None) -> TensorMeta:
        return cls(type=data.get("type", "float"), precision=list(data.get("precision", [32])),
                   shape=list(data.get("shape", [])), torch_dtype=data.get("torch_dtype"),
                   value=data.get("value"), source=data.get("from"),
                   is_parameter="from" in data if is_parameter is None else is_parameter)


@dataclass(eq=False, repr=False)
class CommonMeta(Record):
    """What the node computes: ``mase_type``, ``mase_op``, operand and result descriptions."""

    mase_type: str | None = None
    mase_op: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_plain(cls, data: dict[str, Any]) -> CommonMeta:
        def entries(d: dict[str, Any]) -> dict[str, Any]:
            return {k: TensorMeta.from_plain(v) if _looks_like_tensor_meta(v) else v for k, v in d.items()}

        return cls(mase_type=data.get("mase_type"), mase_op=data.get("mase_op"),
                   args=entries(data.get("args", {})), results=entries(data.get("results", {})))


def _looks_like_tensor_meta(value: Any) -> bool:
    return isinstance(value, dict) and {"type", "precision", "shape"} <= value.keys()


@dataclass(eq=False, repr=False)
class StatMeta(Record):
    """Statistics of one operand, filled by the profiler: ``{"stat": {name: {...}}}``."""

    stat: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(eq=False, repr=False)
class CostMeta(Record):
    """Per-sample arithmetic cost of a node (``count_ops_analysis_pass``)."""

    flops: int = 0
    macs: int = 0
    bitops: int = 0
    param_bits: int = 0
    data_in_bits: int = 0
    weight_bits: int = 0


@dataclass(eq=False, repr=False)
class SoftwareMeta(Record):
    """Software view: statistics per operand, and the cost once counted (absent until then)."""

    args: dict[str, StatMeta] = field(default_factory=dict)
    results: dict[str, StatMeta] = field(default_factory=dict)
    cost: CostMeta | None = None

    def keys(self) -> list[str]:
        return ["args", "results"] + (["cost"] if self.cost is not None else [])

    @classmethod
    def from_plain(cls, data: dict[str, Any]) -> SoftwareMeta:
        return cls(args={k: StatMeta(dict(v.get("stat", {}))) for k, v in data.get("args", {}).items()},
                   results={k: StatMeta(dict(v.get("stat", {}))) for k, v in data.get("results", {}).items()},
                   cost=CostMeta(**data["cost"]) if data.get("cost") is not None else None)


@dataclass(eq=False, repr=False)
class HardwareMeta(Record):
    """How a node becomes hardware: MASE's fields, plus machop's fixed-point ``formats``.

    ``is_implicit`` marks nodes with no hardware block (input, output, reshapes); ``toolchain`` is
    ``"INTERNAL"`` for ops machop emits itself; ``module`` the RTL component (``fixed_linear``);
    ``dependence_files`` the component files it needs; ``interface`` how each constant operand is
    stored; ``parallelism`` the elements per cycle of each operand's last dimension;
    ``verilog_param`` the component's parameters under MASE's names (``DATA_IN_0_PRECISION_0``);
    ``formats`` operand -> ``[width, frac, signed]``, the accumulator included once prepared.
    Graphs saved before the last three fields existed load with them empty.
    """

    is_implicit: bool = False
    toolchain: str | None = None
    module: str | None = None
    device_id: int = -1
    interface: dict[str, Any] = field(default_factory=dict)
    parallelism: dict[str, Any] = field(default_factory=dict)
    dependence_files: list[str] = field(default_factory=list)
    verilog_param: dict[str, int] = field(default_factory=dict)
    formats: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def from_plain(cls, data: dict[str, Any]) -> HardwareMeta:
        return cls(**{k: v for k, v in data.items()})


@dataclass(eq=False, repr=False)
class Parameters(Record):
    """The three sections, ``{"common": ..., "software": ..., "hardware": ...}``."""

    common: CommonMeta = field(default_factory=CommonMeta)
    software: SoftwareMeta = field(default_factory=SoftwareMeta)
    hardware: HardwareMeta = field(default_factory=HardwareMeta)

    @classmethod
    def from_plain(cls, data: dict[str, Any]) -> Parameters:
        return cls(common=CommonMeta.from_plain(data.get("common", {})),
                   software=SoftwareMeta.from_plain(data.get("software", {})),
                   hardware=HardwareMeta.from_plain(data.get("hardware", {})))


class MaseMetadata:
    """``node.meta["mase"]``: the node's parameters plus links back to its node and model.

    ``meta["common"]`` is short for ``meta.parameters["common"]``; ``meta.module`` is the
    ``nn.Module`` a ``call_module`` node calls (looked up live, so swapped modules are seen).
    """

    def __init__(self, node: torch.fx.Node, model: torch.nn.Module, parameters: Parameters | None = None) -> None:
        self.node = node
        self.model = model
        self.parameters = parameters if parameters is not None else Parameters()

    @property
    def module(self) -> torch.nn.Module | None:
        if self.node.op != "call_module":
            return None
        return self.model.get_submodule(str(self.node.target))

    def __getitem__(self, key: str) -> Any:
        return self.parameters[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.parameters[key] = value

    def __contains__(self, key: object) -> bool:
        return key in self.parameters

    def __repr__(self) -> str:
        return f"MaseMetadata({self.node.name}: {self.parameters!r})"
