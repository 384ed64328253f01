"""Architecture search spaces (MASE lab 4): channel multipliers of the hidden linears, and with quantisation.

``graph/architecture/channel_multiplier``: each seed's ``config.channel_multiplier`` is a list of
output multipliers. ``seed.default`` is one choice shared by every hidden linear without a seed of
its own (lab 4 Q1/Q2: the whole network doubled); ``seed.<linear node>`` is that node's own choice
(lab 4 Q3: 16→32→64→5 as multipliers 2 and 4 on jsc-three-linear). A hidden linear with neither
keeps its width. Inputs follow the linear before (``channel_multiplier_config``), BatchNorms follow
their input, and the last linear keeps its outputs (the classes), so it cannot be named. A point's
config, as ``log.json`` records it, spells out every hidden linear's multiplier:
``{"channel_multiplier": {"seq_blocks_2": 2, "seq_blocks_4": 4}}``.

``graph/architecture_quantize``: an ``architecture`` table as above × a ``quantize`` table as
``graph/quantize/mixed_precision_ptq`` reads it (``setup.by``, seeds per node or op); a point's
config adds ``"quantize"``, the quantise-pass config of the resized graph (resizing keeps node names).

Both spaces ``retrain``: a point is a new model, trained from fresh weights by
``sw_runner.basic_train`` (``chop.search.basic_train``), not a transform of the given model.
``rebuild_model`` gives the point's architecture untrained (resized layers freshly initialised,
quantised as the point says), for a look at its shape; the search measures trained candidates.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from chop.errors import ConfigError, did_you_mean
from chop.ir.graph.mase_graph import MaseGraph
from chop.passes.graph.transforms.quantize import quantize_transform_pass
from chop.search.config import (
    DEFAULT_SEED,
    ArchitectureSpaceConfig,
    CombinedSpaceConfig,
    parse_architecture_space,
    parse_combined_space,
)
from chop.search.retrain import Architecture, ResizedBuilder, architecture
from chop.search.space import MixedPrecisionSpace
from chop.search.space_base import SearchSpaceBase

MULTIPLIER = "channel_multiplier"


def linear_nodes(graph: Any) -> list[str]:
    """The graph's linear layers in order; all but the last are hidden (their outputs can be resized)."""
    return [node.name for node in graph.fx_graph.nodes
            if node.op == "call_module" and isinstance(graph.modules[str(node.target)], nn.Linear)]


def _hidden_linears(graph: Any, config: ArchitectureSpaceConfig, source: str, path: str) -> tuple[str, ...]:
    """The hidden linears; a seed that names another node (or the last linear) is an error naming the seed."""
    linears = linear_nodes(graph)
    if len(linears) < 2:
        raise ConfigError(f"{source}: [{path}] the model has {len(linears)} linear layer(s) and no hidden one to "
                          "resize (the last linear's outputs are the classes)")
    hidden = tuple(linears[:-1])
    for key, _ in config.multipliers:
        if key == DEFAULT_SEED or key in hidden:
            continue
        where = f"{source}: [{path}.seed.{key}]"
        if key == linears[-1]:
            raise ConfigError(f"{where} {key} is the last linear: its outputs are the classes and keep their "
                              f"number; hidden linears: {', '.join(hidden)}")
        raise ConfigError(f"{where} names no hidden linear node of this model{did_you_mean(key, hidden)}; "
                          f"hidden linears: {', '.join(hidden)}")
    return hidden


class ChannelMultiplierSpace(SearchSpaceBase):
    """``graph/architecture/channel_multiplier``: one multiplier choice per seed, resolved per hidden linear."""

    retrains = True
    config: ArchitectureSpaceConfig
    path = "search.search_space"  # where the architecture seeds sit in the TOML, for messages

    @classmethod
    def parse_config(cls, table: Mapping[str, Any], source: str) -> Any:
        return parse_architecture_space(table, source)

    def architecture_config(self) -> ArchitectureSpaceConfig:
        return self.config

    def build_search_space(self) -> None:
        config = self.architecture_config()
        self.hidden = _hidden_linears(self.graph, config, self.source, self.path)
        self.multiplier_choices = {f"{key}/config/{MULTIPLIER}": values for key, values in config.multipliers}
        self.choices_flattened = dict(self.multiplier_choices)

    def multipliers(self, indexes: Mapping[str, int]) -> dict[str, float]:
        """Every hidden linear's multiplier at a point: its own seed's choice, else ``default``'s, else 1."""
        chosen = {name.split("/")[0]: values[indexes[name]] for name, values in self.multiplier_choices.items()}
        return {node: chosen.get(node, chosen.get(DEFAULT_SEED, 1)) for node in self.hidden}

    def flattened_indexes_to_config(self, indexes: Mapping[str, int]) -> dict[str, Any]:
        return {MULTIPLIER: self.multipliers(indexes)}

    def architecture_of(self, sampled_config: Mapping[str, Any]) -> Architecture:
        """The point's architecture: the key its candidates are grouped (and trained once) by."""
        return architecture(sampled_config[MULTIPLIER])

    def quantization_of(self, sampled_config: Mapping[str, Any]) -> dict[str, Any] | None:
        """The quantise-pass config of the point's trained model; None: it is measured in float."""
        return None

    def resized(self, sampled_config: Mapping[str, Any]) -> MaseGraph:
        """The point's architecture with untrained resized layers (a ``PassError`` if the widths do not work)."""
        from chop.workflows.transform import graph_with_metadata

        model = ResizedBuilder(lambda: copy.deepcopy(self.model), self.architecture_of(sampled_config))()
        return graph_with_metadata(model, self._dummy_input())

    def _dummy_input(self) -> torch.Tensor:
        """Zeros of the traced input's shape (the traced graph keeps no rows)."""
        placeholder = next(node for node in self.graph.fx_graph.nodes if node.op == "placeholder")
        return torch.zeros(placeholder.meta["mase"].parameters.common.results["data_out_0"]["shape"])

    def rebuild_model(self, sampled_config: dict[str, Any], is_eval_mode: bool) -> Any:
        return self.resized(sampled_config)


class ArchitectureQuantizeSpace(ChannelMultiplierSpace):
    """``graph/architecture_quantize``: channel multipliers × the mixed-precision PTQ space's per-node choices."""

    config: CombinedSpaceConfig
    path = "search.search_space.architecture"

    @classmethod
    def parse_config(cls, table: Mapping[str, Any], source: str) -> Any:
        return parse_combined_space(table, source)

    def architecture_config(self) -> ArchitectureSpaceConfig:
        return self.config.architecture

    def build_search_space(self) -> None:
        super().build_search_space()
        self.quantize = MixedPrecisionSpace(self.config.quantize, self.graph, self.source)
        self.choices_flattened = {**self.multiplier_choices, **self.quantize.choices_flattened}

    def flattened_indexes_to_config(self, indexes: Mapping[str, int]) -> dict[str, Any]:
        quantize = {name: indexes[name] for name in self.quantize.choices_flattened}
        return {MULTIPLIER: self.multipliers(indexes), "quantize": self.quantize.pass_config(quantize)}

    def quantization_of(self, sampled_config: Mapping[str, Any]) -> dict[str, Any] | None:
        return sampled_config["quantize"]

    def rebuild_model(self, sampled_config: dict[str, Any], is_eval_mode: bool) -> Any:
        graph, _ = quantize_transform_pass(self.resized(sampled_config), self.quantization_of(sampled_config))
        return graph
