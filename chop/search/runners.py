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
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from chop.errors import ConfigError
from chop.ir.graph.mase_metadata import TensorMeta
from chop.passes.graph.analysis.count_ops import MAC_OPS
from chop.search.config import StrategyConfig
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


class Runners:
    """The runners a strategy configures, bound to their evaluation rows."""

    def __init__(self, strategy: StrategyConfig, data: Any, input_shape: tuple[int, ...],
                 training: Any = None) -> None:
        self.strategy = strategy
        self.training = training  # chop.search.basic_train.BasicTrain for a space that retrains, else None
        evaluation = strategy.evaluation
        self.rows = (evaluation_rows(data, evaluation.split, evaluation.num_samples, input_shape)
                     if evaluation is not None else None)

    def software(self, graph: Any) -> dict[str, float]:
        if self.rows is None:
            return {}
        return basic_evaluation(graph.model, self.rows, self.strategy.eval_mode)

    def hardware(self, graph: Any) -> dict[str, float]:
        if self.strategy.bitwidth is None:
            return {}
        return average_bitwidth(graph, self.strategy.bitwidth.compare_to)
