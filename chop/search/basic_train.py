"""MASE's ``sw_runner.basic_train``: the candidates of an architecture space trained, then scored.

A batch of trials (``setup.batch_size``) is measured together. Its points are grouped by
architecture (``space.architecture_of``): each new architecture is trained once, from fresh
weights seeded by the search's seed, for ``max_epochs`` epochs through the engine
(``retrain.train_candidates``: one group per architecture, ``jobs`` groups at once in worker
processes). A trained architecture is kept for the rest of the search, so a later point of the
same architecture (another quantisation of it, in the combined space) is not trained again.

Each trained model is then scored as ``basic_evaluation`` scores a model (``loss``, ``accuracy``
on its configured split and rows, ``eval_mode``) and ``average_bitwidth`` measures its graph:
  - ``graph/architecture/channel_multiplier``: the trained float model itself;
  - ``graph/architecture_quantize``, ``qat_epochs = 0``: the point's quantisation of the trained
    model, post-training, all of one architecture's candidates through the stacked PTQ scorer
    (``chop.search.stacked``) where the graph allows, else one at a time on a trial copy;
  - ``qat_epochs > 0``: each quantised candidate fine-tuned for ``qat_epochs`` epochs (same
    learning rate and optimiser, same seed), an architecture's candidates as one engine ensemble
    started from their quantised models (``train_ensemble(initial_models=...)``), in this process.
    Models that quantise differently are not one program, so the engine trains them on its general
    (looped) path (``chop.engine.trainer.one_program``): each candidate's numbers are those of
    training it alone, whatever else is in its batch.
A point whose widths do not work (a multiplier that gives a fractional width) or whose
quantisation no quantiser accepts is reported as unusable (its trial is PRUNED with the reason).

Hardware metrics (LUT estimate, BitOPs, Yosys on the Pareto set) are measured on the graph the
software metrics were: the trained, quantised and (with QAT) fine-tuned candidate, which
``candidate_graph`` rebuilds for a sampled config (training again, deterministically, what this
process has not trained: a resumed study's candidates).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from torch import nn

from chop.engine import GroupConfig, RunConfig, train_ensemble
from chop.errors import PassError
from chop.ir.graph.mase_graph import MaseGraph
from chop.passes.graph.transforms.quantize import quantizable_nodes, quantize_transform_pass
from chop.search.config import TrainConfig
from chop.search.retrain import Architecture, Candidate, ResizedBuilder, TrainSettings, train_candidates
from chop.search.runners import Runners, basic_evaluation
from chop.search.stacked import StackedScorer, stacking_obstacle
from chop.search.strategy_base import Measured
from chop.search.trial_graph import trial_graph


class BasicTrain:
    """Trains an architecture space's candidates (``build``: a picklable factory of the untrained base model)."""

    def __init__(self, build: Callable[[], nn.Module], data: Any, config: TrainConfig, seed: int,
                 jobs: int = 1) -> None:
        self.build, self.data, self.config, self.seed, self.jobs = build, data, config, seed, jobs
        self.settings = TrainSettings(max_epochs=config.max_epochs, batch_size=config.batch_size,
                                      optimizer=config.optimizer, weight_decay=config.weight_decay)
        self.trained: dict[Architecture, Any] = {}  # architecture -> its trained float graph (traced)

    def measure(self, space: Any, configs: Sequence[dict[str, Any]], runners: Runners) -> list[Measured | str]:
        """The (software, hardware) metrics of every point config, in order, or why a point is unusable."""
        architectures = [space.architecture_of(config) for config in configs]
        unusable = self._train([a for a in dict.fromkeys(architectures) if a not in self.trained])
        results: list[Measured | str | None] = [None] * len(configs)
        by_architecture: dict[Architecture, list[int]] = {}
        for i, found in enumerate(architectures):
            if found in unusable:
                results[i] = unusable[found]
            else:
                by_architecture.setdefault(found, []).append(i)
        for found, members in by_architecture.items():
            graph = self.trained[found]
            quantizations = [space.quantization_of(configs[i]) for i in members]
            if quantizations[0] is None:
                measured = [_metrics(runners, graph, lambda: basic_evaluation(
                    graph.model, runners.rows, runners.strategy.eval_mode))] * len(members)
            elif self.config.qat_epochs > 0:
                measured = self._fine_tuned(found, graph, quantizations, runners)
            else:
                measured = self._post_training(graph, quantizations, runners)
            for i, result in zip(members, measured):
                results[i] = result
        return results  # type: ignore[return-value]

    def _train(self, architectures: Sequence[Architecture]) -> dict[Architecture, str]:
        """Train each architecture into ``self.trained``; those whose widths do not work, with the reason."""
        from chop.workflows.transform import dummy_input, graph_with_metadata

        unusable, usable = {}, []
        for found in architectures:
            try:
                ResizedBuilder(self.build, found)()
            except PassError as error:
                unusable[found] = str(error)
                continue
            usable.append(Candidate(found, self.seed, self.config.learning_rate))
        for trained in train_candidates(self.build, usable, self.data, self.settings, self.jobs):
            model = trained.model
            self.trained[trained.candidate.architecture] = graph_with_metadata(model, dummy_input(model,
                                                                                                  self.data.x_train))
        return unusable

    def candidate_graph(self, space: Any, sampled_config: dict[str, Any]) -> Any:
        """The graph a point's metrics are measured on; a ``PassError`` if it cannot be built."""
        found = space.architecture_of(sampled_config)
        if found not in self.trained:
            unusable = self._train([found])
            if found in unusable:
                raise PassError(unusable[found])
        graph, quantization = self.trained[found], space.quantization_of(sampled_config)
        if quantization is None:
            return graph
        if self.config.qat_epochs > 0:
            tuned = self._fine_tuned_graphs(found, graph, [quantization])
            candidate = next(iter(tuned.values()))
        else:
            candidate = _quantised(graph, _quantisable(graph), quantization)
        if isinstance(candidate, str):
            raise PassError(candidate)
        return candidate

    def _post_training(self, graph: Any, quantizations: Sequence[dict[str, Any]],
                       runners: Runners) -> list[Measured | str]:
        """PTQ metrics of one trained architecture's quantisations: stacked where the graph allows."""
        nodes = _quantisable(graph)

        def one_at_a_time(config: Any) -> Measured | str:
            candidate = _quantised(graph, nodes, config)
            return candidate if isinstance(candidate, str) else _metrics(runners, candidate,
                                                                         lambda: runners.software(candidate))

        def hardware(config: Any) -> dict[str, float] | str:
            candidate = _quantised(graph, nodes, config)
            return candidate if isinstance(candidate, str) else runners.hardware_or_reason(candidate)

        if stacking_obstacle(graph, runners) is not None:
            return [one_at_a_time(config) for config in quantizations]
        return StackedScorer(graph, runners).score(list(quantizations), one_at_a_time, hardware)

    def _fine_tuned(self, found: Architecture, graph: Any, quantizations: Sequence[dict[str, Any]],
                    runners: Runners) -> list[Measured | str]:
        """QAT metrics: each distinct quantisation of the trained model fine-tuned, all of them as one ensemble."""
        tuned = self._fine_tuned_graphs(found, graph, quantizations)
        results = {key: candidate if isinstance(candidate, str) else _metrics(
                       runners, candidate, lambda c=candidate: basic_evaluation(c.model, runners.rows,
                                                                                runners.strategy.eval_mode))
                   for key, candidate in tuned.items()}
        return [results[_key(config)] for config in quantizations]

    def _fine_tuned_graphs(self, found: Architecture, graph: Any,
                           quantizations: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """Each distinct quantisation (by its JSON) fine-tuned for ``qat_epochs`` as one ensemble, or why not.

        A fine-tuned model is a copy of its quantised GraphModule, metadata included, so it is
        wrapped as a graph of its own: its hardware is that of the weights QAT left.
        """
        nodes = _quantisable(graph)
        distinct: dict[str, Any] = {}
        results: dict[str, Any] = {}
        for config in quantizations:
            key = _key(config)
            if key in distinct or key in results:
                continue
            quantised = _quantised(graph, nodes, config, shares_modules=False)
            if isinstance(quantised, str):
                results[key] = quantised
            else:
                distinct[key] = quantised
        if distinct:
            runs = [RunConfig(seed=self.seed, learning_rate=self.config.learning_rate, optimizer=self.config.optimizer,
                              weight_decay=self.config.weight_decay)] * len(distinct)
            tuned = train_ensemble(ResizedBuilder(self.build, found), self.data, runs,
                                   GroupConfig(batch_size=self.config.batch_size, max_epochs=self.config.qat_epochs),
                                   progress=False, initial_models=[g.model for g in distinct.values()])
            results.update((key, MaseGraph(model)) for key, model in zip(distinct, tuned.models))
        return results


def _key(config: dict[str, Any]) -> str:
    return json.dumps(config, sort_keys=True)


def _quantisable(graph: Any) -> tuple[str, ...]:
    """The nodes a trial copy of ``graph`` gives their own copies (what the quantise pass may change)."""
    return tuple(node.name for node in quantizable_nodes(graph))


def _quantised(graph: Any, nodes: tuple[str, ...], config: dict[str, Any], shares_modules: bool = True) -> Any:
    """A trial copy of ``graph`` (copying ``nodes``) quantised by ``config``, or the quantise pass's reason it cannot be."""
    try:
        return quantize_transform_pass(trial_graph(graph, nodes, shares_modules=shares_modules), config)[0]
    except PassError as error:
        return str(error)


def _metrics(runners: Runners, graph: Any, software: Callable[[], dict[str, float]]) -> Measured | str:
    """``(software, hardware)`` of a candidate, hardware first: a design the hardware flow refuses is not scored."""
    hardware = runners.hardware_or_reason(graph)
    return hardware if isinstance(hardware, str) else (software(), hardware)
