"""The ``graph/quantize/mixed_precision_ptq`` search space: quantiser choices per graph node.

As in MASE, every node the quantise pass can handle gets its own copy of a seed's choices: with
``by = "name"`` the seed named after the node (else ``default``), with ``by = "type"`` the seed named
after the node's mase op (else ``default``). The choices are flattened to ``"<node>/config/<key>"``
names; a point picks one index per name, and ``pass_config(point)`` (MASE's
``flattened_indexes_to_config``) is the ``quantize_transform_pass`` config (``by = "name"``, every
node spelled out) that realises it. ``rebuild_model`` quantises a trial copy of the float graph
(``trial_graph``) with it.

MASE's example TOML carries seeds for both styles (``linear`` and ``seq_blocks_2``) and uses the
ones that match ``by``; a seed that names neither a quantisable node nor the op of one is a typo
and an error. A node without a matching seed and no ``default`` seed stays in float.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from torch import fx

from chop.errors import ConfigError, PassError, did_you_mean
from chop.passes.graph.transforms.quantize import check_node_config, quantizable_nodes, quantize_transform_pass
from chop.search.config import DEFAULT_SEED, Seed, SearchSpaceConfig, parse_mixed_precision_space, toml_value
from chop.search.space_base import SearchSpaceBase
from chop.search.trial_graph import trial_graph
from chop.tools.logger import get_logger

log = get_logger(__name__)

# Seeds with more combinations than this are checked on their first combination only; a bad
# combination met later is reported by the trial that samples it.
EXHAUSTIVE_CHECK_LIMIT = 4096
SKIP = {"name": None}


@dataclass(frozen=True)
class Choice:
    """One searchable key of one node: ``name`` is MASE's flattened ``"<node>/config/<key>"``."""

    name: str
    node: str
    key: str
    values: tuple[Any, ...]


class MixedPrecisionSpace(SearchSpaceBase):
    """The flattened choices of a traced graph; turns sampled indexes into quantise-pass configs (MASE's
    ``GraphSearchSpaceMixedPrecisionPTQ``)."""

    config: SearchSpaceConfig

    @classmethod
    def parse_config(cls, table: Mapping[str, Any], source: str) -> SearchSpaceConfig:
        return parse_mixed_precision_space(table, source)

    def build_search_space(self) -> None:
        nodes = quantizable_nodes(self.graph)
        self.nodes = tuple(node.name for node in nodes)
        seeds = _seeds_by_node(self.config, nodes, self.source)
        for node in nodes:
            if node.name in seeds:
                _check_seed(self.graph, node, seeds[node.name], self.source)
        self.choices = tuple(Choice(f"{node}/config/{key}", node, key, values)
                             for node in self.nodes if node in seeds for key, values in seeds[node].choices)
        self.choices_flattened = {choice.name: choice.values for choice in self.choices}

    def pass_config(self, indexes: Mapping[str, int]) -> dict[str, Any]:
        """The ``quantize_transform_pass`` config of one point (None values: the quantiser's default)."""
        configs: dict[str, dict[str, Any]] = {node: {} for node in self.nodes}
        for choice in self.choices:
            configs[choice.node][choice.key] = choice.values[indexes[choice.name]]
        result: dict[str, Any] = {"by": "name", "default": {"config": dict(SKIP)}}
        for node, config in configs.items():
            result[node] = {"config": config or dict(SKIP)}
        return result

    def flattened_indexes_to_config(self, indexes: Mapping[str, int]) -> dict[str, Any]:
        return self.pass_config(indexes)

    def rebuild_model(self, sampled_config: dict[str, Any], is_eval_mode: bool) -> Any:
        """A trial copy of the float graph, quantised as ``sampled_config`` says (a ``PassError`` if it cannot be)."""
        graph = trial_graph(self.graph, self.nodes, shares_modules=is_eval_mode)
        graph, _ = quantize_transform_pass(graph, sampled_config)
        return graph


def _seeds_by_node(config: SearchSpaceConfig, nodes: list[fx.Node], source: str) -> dict[str, Seed]:
    """Node name -> the seed that covers it; unknown seed keys are errors naming the known ones."""
    names = {node.name for node in nodes}
    ops = {node.meta["mase"]["common"]["mase_op"] for node in nodes}
    for seed in config.seeds:
        if seed.key == DEFAULT_SEED or seed.key in names or seed.key in ops:
            continue
        raise ConfigError(f"{source}: [search.search_space.seed.{seed.key}] names no quantisable node or op of this "
                          f"model{did_you_mean(seed.key, names | ops)}; nodes: {', '.join(sorted(names)) or 'none'}; "
                          f"ops: {', '.join(sorted(ops)) or 'none'}")
    default = config.seed(DEFAULT_SEED)
    chosen = {}
    for node in nodes:
        key = node.name if config.by == "name" else node.meta["mase"]["common"]["mase_op"]
        seed = config.seed(key) or default
        if seed is not None:
            chosen[node.name] = seed
    for seed in config.seeds:
        if seed.key != DEFAULT_SEED and seed not in chosen.values():
            log.info("[search.search_space.seed.%s] is not used with by = \"%s\"", seed.key, config.by)
    return chosen


def _check_seed(graph: Any, node: fx.Node, seed: Seed, source: str) -> None:
    """Refuse a choice no combination can use (a typo, a wrong type); combinations may still fail.

    MASE's files mix explicit widths and frac widths (``weight_width = [2, 8]``,
    ``weight_frac_width = [1, 4]``): a bad pairing (2 with 4) only skips the trials that sample it,
    but a choice that never works is the user's mistake and is reported before the search starts.
    """
    keys = [key for key, _ in seed.choices]
    combos = itertools.product(*(range(len(values)) for _, values in seed.choices))
    if math.prod(len(values) for _, values in seed.choices) > EXHAUSTIVE_CHECK_LIMIT:
        combos = itertools.islice(combos, 1)
    usable: set[tuple[str, int]] = set()
    first_error: dict[tuple[str, int], str] = {}
    for combo in combos:
        config = {key: values[i] for (key, values), i in zip(seed.choices, combo)}
        try:
            if config.get("name") is not None:
                check_node_config(graph, node, config)
        except PassError as error:
            for key, i in zip(keys, combo):
                first_error.setdefault((key, i), str(error))
            continue
        usable.update(zip(keys, combo))
    never = [(key, i, message) for (key, i), message in first_error.items() if (key, i) not in usable]
    if never:
        # blame the choice the quantiser's message names, if any (not `name`, present in every combination)
        key, i, message = next((n for n in never if n[0] in n[2]), never[0])
        value = dict(seed.choices)[key][i]
        raise ConfigError(f"{source}: [search.search_space.seed.{seed.key}.config] {key} choice "
                          f"{toml_value(value)} gives no usable config for node {node.name}: {message}")
