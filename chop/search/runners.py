"""What a trial measures: MASE's ``basic_evaluation`` (software) and ``average_bitwidth`` (hardware) runners.

``basic_evaluation`` reports ``loss`` (mean cross-entropy) and ``accuracy`` (plain top-1, as every
machop metric) on the first ``num_samples`` rows of the split its ``data_loader`` names. The rows
are sliced once into one tensor, so a trial is a single forward pass (a few, in chunks, for many rows).

``average_bitwidth`` is MASE's weight-memory estimate: the width of every linear/conv weight element,
averaged over those elements, and ``memory_density = compare_to / average_bitwidth`` (``compare_to``
is the reference width, 32 for float32). Widths are read from the quantised graph's metadata
(``common.args.weight.precision``, which the quantise pass records), not from the config. MASE
counts only the quantised layers; here a layer left in float counts with its 32 bits, so leaving
layers unquantised never makes a model look smaller. Biases are not counted, as in MASE.

``bitops`` and ``resource_estimate`` (``chop.search.hardware_metrics``) read the whole quantised
graph: BitOPs from its metadata, LUTs/FFs/DSPs/latency from the design ``ch hardware`` would build
(``HardwareBuild``: its pipeline, input format and BatchNorm folding). A candidate that design
cannot be built from (a node left in float) raises the hardware flow's one-line error, which the
strategy records as the trial's reason for being skipped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from chop.errors import ConfigError, HardwareError, MachopError
from chop.hardware.fixed import FixedFormat
from chop.ir.graph.mase_metadata import TensorMeta
from chop.passes.graph.analysis.count_ops import MAC_OPS
from chop.search.config import HardwareBuild, StrategyConfig
from chop.search.hardware_metrics import HardwareSettings, bitops, resource_estimate
from chop.tools.logger import get_logger

log = get_logger(__name__)

FLOAT_WIDTH = 32
CHUNK_ROWS = 8192


@dataclass(frozen=True)
class EvaluationRows:
    """The rows every trial is evaluated on, already in the model's input shape."""

    x: Tensor
    y: Tensor
    split: str


def evaluation_rows(data: Any, split: str, num_samples: int, input_shape: tuple[int, ...]) -> EvaluationRows:
    """The first ``num_samples`` rows of ``split`` (all of them if it has fewer) of a ``DatasetSplits``."""
    x, y = {"train": (data.x_train, data.y_train), "validation": (data.x_val, data.y_val),
            "test": (data.x_test, data.y_test)}[split]
    rows = min(num_samples, len(x))
    if rows == 0:
        raise ConfigError(f"[search.strategy.sw_runner.basic_evaluation]: the {split} split of {data.name} has no rows")
    if rows < num_samples:
        log.warning("[search.strategy.sw_runner.basic_evaluation] num_samples = %d is more than the %d rows of the "
                    "%s split of %s; every trial is evaluated on those %d rows", num_samples, rows, split, data.name,
                    rows)
    xt = torch.as_tensor(np.ascontiguousarray(x[:rows]), dtype=torch.float32).reshape(rows, *input_shape)
    yt = torch.as_tensor(np.ascontiguousarray(y[:rows]), dtype=torch.int64)
    return EvaluationRows(xt, yt, split)


@torch.no_grad()
def basic_evaluation(model: nn.Module, rows: EvaluationRows, eval_mode: bool = True) -> dict[str, float]:
    """``{"loss", "accuracy"}`` of ``model`` on ``rows``.

    ``eval_mode = false`` (MASE's strategy key) runs the model in training mode: batch norm then
    normalises with the statistics of the evaluated rows, as MASE's runner does.
    """
    model.train(not eval_mode)
    loss = 0.0
    correct = 0
    for start in range(0, len(rows.y), CHUNK_ROWS):
        y = rows.y[start:start + CHUNK_ROWS]
        logits = model(rows.x[start:start + CHUNK_ROWS])
        loss += float(F.cross_entropy(logits, y, reduction="sum"))
        correct += int((logits.argmax(-1) == y).sum())
    return {"loss": loss / len(rows.y), "accuracy": correct / len(rows.y)}


def average_bitwidth(graph: Any, compare_to: float) -> dict[str, float]:
    """``{"average_bitwidth", "memory_density"}`` from the graph's recorded weight precisions."""
    widths = []
    for node in graph.fx_graph.nodes:
        common = node.meta["mase"].parameters.common
        weight = common.args.get("weight")
        if common.mase_op in MAC_OPS and isinstance(weight, TensorMeta):
            widths.append((math.prod(weight.shape), int(weight.precision[0])))
    return bitwidth_metrics(widths, compare_to)


def bitwidth_metrics(widths: list[tuple[int, int]], compare_to: float) -> dict[str, float]:
    """``{"average_bitwidth", "memory_density"}`` of weights given as (elements, width) per layer."""
    bits = sum(count * width for count, width in widths)
    elements = sum(count for count, _ in widths)
    average = bits / elements if elements else float(FLOAT_WIDTH)  # MASE: 32 when there is nothing to count
    return {"average_bitwidth": average, "memory_density": compare_to / average}


def hardware_settings(build: HardwareBuild, runner: str) -> HardwareSettings:
    """The hardware flow's settings for ``hw_runner.<runner>``'s ``[hardware]``-style keys."""
    fmt = build.input_format
    try:
        input_format = None if fmt is None else FixedFormat(fmt[0], fmt[1], bool(fmt[2]) if len(fmt) == 3 else True)
    except HardwareError as error:
        raise ConfigError(f"[search.strategy.hw_runner.{runner}] input_format = {list(fmt)}: {error}") from None
    return HardwareSettings(pipeline=build.pipeline, input_format=input_format, fold_batchnorm=build.fold_batchnorm)


class Runners:
    """The runners a strategy configures, bound to their evaluation rows."""

    def __init__(self, strategy: StrategyConfig, data: Any, input_shape: tuple[int, ...],
                 training: Any = None) -> None:
        self.strategy = strategy
        self.training = training  # chop.search.basic_train.BasicTrain for a space that retrains, else None
        evaluation = strategy.evaluation
        self.rows = (evaluation_rows(data, evaluation.split, evaluation.num_samples, input_shape)
                     if evaluation is not None else None)
        estimate = strategy.hardware.estimate
        self.estimate = None if estimate is None else hardware_settings(estimate, "resource_estimate")
        synthesis = strategy.hardware.synthesis  # checked here, before the search, though used after it
        self.synthesis = None if synthesis is None else hardware_settings(synthesis, "synthesis")

    def software(self, graph: Any) -> dict[str, float]:
        if self.rows is None:
            return {}
        return basic_evaluation(graph.model, self.rows, self.strategy.eval_mode)

    def hardware(self, graph: Any) -> dict[str, float]:
        """Every per-trial hardware metric; the hardware flow's ``MachopError`` if it cannot build the design."""
        metrics = {} if self.strategy.bitwidth is None else average_bitwidth(graph, self.strategy.bitwidth.compare_to)
        return metrics | self.graph_hardware(graph)

    def hardware_or_reason(self, graph: Any) -> dict[str, float] | str:
        """:meth:`hardware`, or the hardware flow's one-line refusal: the trial is then skipped with it."""
        try:
            return self.hardware(graph)
        except MachopError as error:
            return f"hardware: {error}"

    @property
    def needs_graph(self) -> bool:
        """Whether the hardware metrics need each candidate's quantised graph (not only its weight widths)."""
        return self.strategy.hardware.per_trial

    def graph_hardware(self, graph: Any) -> dict[str, float]:
        """``bitops`` and ``resource_estimate`` of a quantised graph, where configured."""
        hardware = self.strategy.hardware
        metrics = bitops(graph) if hardware.bitops else {}
        if self.estimate is not None:
            metrics |= resource_estimate(graph, self.estimate)
        return metrics
