"""Per-node quantisation configs: MASE's flat keys parsed once into immutable values.

A MASE node config is ``{"name": "integer", "data_in_width": 8, "weight_frac_width": 4, ...}``:
the quantiser name plus ``<operand>_<key>`` entries for the operands ``data_in`` (every tensor
input), ``weight`` and ``bias``, and machop's ``<operand>_signed`` (and, for ``ap_fixed``,
``<operand>_type = "ap_fixed<8,3,AP_RND,AP_SAT>"`` as hls4ml writes it). ``parse_node_config`` checks
it against the quantiser's keys and returns a ``NodeQuantConfig``; errors name node and key.

MASE's binary and ternary configs carry more (lab-api §6): ``<operand>_width`` / ``_frac_width`` and
``binary_training`` are accepted and ignored (the formats have 1 and 2 bits); binary's
``stochastic`` / ``bipolar`` / ``seed`` may also be given once, un-prefixed, for every operand; a
ternary statistic (``mean``, ``median``, ``max``) given as ``"NA"`` is read from the node's profiled
software statistics. Linear twins binarise / ternarise only the weight, as MASE's ``LinearBinary``
and ``LinearTernary`` do (input and bias pass through); every other twin quantises all its operands.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chop.errors import QuantizerError, did_you_mean
from chop.quantizers.quantizer import Quantizer
from chop.quantizers.registry import format_type, make_quantizer

OPERANDS = ("data_in", "weight", "bias")

# mase_op -> operands it has; "relu" inputs are unsigned by default (MASE), all others signed.
QUANTIZABLE_OPS: dict[str, tuple[str, ...]] = {
    "linear": OPERANDS,
    "conv1d": OPERANDS,
    "conv2d": OPERANDS,
    "batch_norm1d": OPERANDS,
    "relu": ("data_in",),
    "add": ("data_in",),
    "sub": ("data_in",),
    "mul": ("data_in",),
    "matmul": ("data_in",),
    "bmm": ("data_in",),
}
UNSIGNED_INPUT_OPS = frozenset({"relu"})
SKIP_NAMES = (None, "NA", "None", "none")
NOT_AVAILABLE = "NA"

# formats whose linear twins quantise only the weight (MASE's LinearBinary, LinearTernary; its conv twins
# of these formats quantise every operand)
WEIGHT_ONLY_FORMATS = frozenset({"binary", "ternary"})
WEIGHT_ONLY_OPS = frozenset({"linear"})
# <operand>_<key> entries MASE writes for these formats that change nothing here
IGNORED_OPERAND_KEYS: dict[str, tuple[str, ...]] = {"binary": ("width", "frac_width"),
                                                     "ternary": ("width", "frac_width")}
# un-prefixed keys: ignored ones, and ones that apply to every operand unless an operand sets its own
IGNORED_NODE_KEYS: dict[str, tuple[str, ...]] = {"binary": ("binary_training",)}
NODE_WIDE_KEYS: dict[str, tuple[str, ...]] = {"binary": ("stochastic", "bipolar", "seed")}
# ternary statistic key -> (profiler statistic, its field), as MASE's get_stats reads them
PROFILED_STATS: dict[str, tuple[str, str]] = {"mean": ("abs_mean", "value"), "median": ("range_quantile", "max"),
                                              "max": ("range_min_max", "max")}


@dataclass(frozen=True)
class NodeQuantConfig:
    """The resolved quantisers of one node, plus the config it came from (kept on modules as ``.config``)."""

    name: str
    quantizers: tuple[tuple[str, Quantizer], ...]
    raw: tuple[tuple[str, Any], ...]

    def quantizer(self, operand: str) -> Quantizer | None:
        return dict(self.quantizers).get(operand)

    @property
    def config(self) -> dict[str, Any]:
        return dict(self.raw)


def is_skip(config: Mapping[str, Any]) -> bool:
    """``name = None`` / ``"NA"`` leaves the node alone."""
    return config.get("name") in SKIP_NAMES


def _known_keys(quantizer: str) -> list[str]:
    cls = format_type(quantizer)
    params = ([f.name for f in cls.keys()] + ["signed"] + (["type"] if cls.spelling is not None else [])
              + list(IGNORED_OPERAND_KEYS.get(quantizer, ())))
    node_keys = list(IGNORED_NODE_KEYS.get(quantizer, ())) + list(NODE_WIDE_KEYS.get(quantizer, ()))
    return ["name", *node_keys] + [f"{operand}_{param}" for operand in OPERANDS for param in params]


def _operand_values(name: str, operand: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """The keys of one operand without prefix: node-wide ones first, the operand's own on top, ignored ones dropped."""
    prefix = f"{operand}_"
    values = {key: config[key] for key in NODE_WIDE_KEYS.get(name, ()) if key in config}
    values.update({key[len(prefix):]: value for key, value in config.items() if key.startswith(prefix)})
    for key in IGNORED_OPERAND_KEYS.get(name, ()):
        values.pop(key, None)
    return values


def profiled_stat(stats: Mapping[str, Any] | None, operand: str, key: str, where: str = "") -> float | None:
    """A ternary statistic read from a node's ``software.args``; None when it was not profiled."""
    arg = "data_in_0" if operand == "data_in" else operand
    if stats is None or arg not in stats:
        return None
    statistic, field = PROFILED_STATS[key]
    found = stats[arg]["stat"].get(statistic)
    if found is None or found.get(field) is None:
        return None
    value = found[field]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise QuantizerError(f"{where}{operand}_{key} = \"NA\" needs one number, but the profiled {statistic} of {arg} is "
                        f"per channel ({type(value).__name__}); profile it with dims = \"all\"")
    return float(value)


def _resolve_stats(config: Mapping[str, Any], stats: Mapping[str, Any] | None, where: str) -> dict[str, Any]:
    """``<operand>_mean = "NA"`` (and median, max) replaced by the profiled value, or None without one."""
    resolved = dict(config)
    for operand in OPERANDS:
        for key in PROFILED_STATS:
            full = f"{operand}_{key}"
            if resolved.get(full) == NOT_AVAILABLE:
                resolved[full] = profiled_stat(stats, operand, key, where)
    return resolved


def parse_node_config(node: str, mase_op: str, config: Mapping[str, Any], operands: tuple[str, ...] | None = None,
                      stats: Mapping[str, Any] | None = None) -> NodeQuantConfig:
    """Check ``config`` for node ``node`` (op ``mase_op``) and resolve every operand's quantiser.

    ``operands`` narrows the op's operands (a Linear without bias has no ``bias``). Keys for
    operands the op lacks are accepted, so one ``default`` config can serve linear and relu alike.
    ``stats`` is the node's ``software.args`` (profiled statistics), where ternary ``"NA"`` values are looked up.
    """
    where = f"node {node} ({mase_op})"
    if not isinstance(config, Mapping):
        raise QuantizerError(f"{where}: quantize config must be a table/dict, got {config!r}")
    if "name" not in config:
        raise QuantizerError(f"{where}: quantize config is missing the key 'name' (e.g. name = \"integer\")")
    name = config["name"]
    cls = format_type(str(name), f"{where}: ")
    known = _known_keys(name)
    for key in config:
        if key not in known:
            raise QuantizerError(f"{where}: unknown key '{key}' for quantizer '{name}'{did_you_mean(str(key), known)}")
    config = _resolve_stats(config, stats, f"{where}: ") if name == "ternary" else config
    operands = operands if operands is not None else QUANTIZABLE_OPS[mase_op]
    if name in WEIGHT_ONLY_FORMATS and mase_op in WEIGHT_ONLY_OPS:
        operands = ("weight",)
    quantizers = []
    for operand in operands:
        prefix = f"{operand}_"
        values = _operand_values(name, operand, config)
        default_signed = mase_op not in UNSIGNED_INPUT_OPS or operand != "data_in"
        if "type" in values:
            values, default_signed = _spelled_type(cls, f"{where}: {prefix}type", values)
        signed = values.pop("signed", default_signed)
        if not isinstance(signed, bool):
            raise QuantizerError(f"{where}: {operand}_signed must be true or false, got {signed!r}")
        quantizers.append((operand, make_quantizer(name, values, signed, node=where, operand=operand)))
    return NodeQuantConfig(name, tuple(quantizers), tuple(config.items()))


def _spelled_type(cls: type[Quantizer], key: str, values: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """``weight_type = "ap_fixed<8,3,AP_RND,AP_SAT>"`` instead of the separate keys (hls4ml style)."""
    spelled = [f.name for f in cls.keys() if f.name in values]
    if spelled:
        raise QuantizerError(f"{key} already sets {', '.join(spelled)}; give either the type or the separate keys")
    if not isinstance(values["type"], str):
        raise QuantizerError(f"{key} must be a string like \"{cls.spelling}\", got {values['type']!r}")
    try:
        number = cls.parse(values["type"])
    except QuantizerError as error:
        raise QuantizerError(f"{key}: {error}") from None
    rest = {k: v for k, v in values.items() if k != "type"}
    return {**rest, **dict(number.params)}, getattr(number, "signed", True)
