"""``ch transform`` as a library call: trace, run the TOML's ``[passes.*]`` in order, save, report.

As in MASE's CLI, a quantize pass is always followed by its summary (``quantize_table.csv`` and
``quantize_histogram.csv`` in ``software/transform/``) and the transformed graph is always saved
to ``software/transform/transformed_ckpt/`` (``graph_module.mz`` + state dict + node metadata).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from chop.errors import ConfigError, unknown
from chop.ir.graph.mase_graph import MaseGraph
from chop.passes.graph.transforms.quantization_report import QuantizationReport, quantization_report
from chop.passes.graph.transforms.quantize import quantize_transform_pass
from chop.passes.graph.transforms.summarize_quantization import TypeCount, summarize_quantization_analysis_pass
from chop.tools.atomic import atomic_write_text

TRANSFORM_DIR = "transform"
CHECKPOINT_DIR = "transformed_ckpt"
REPORT_FILE = "quantize_report.json"
DUMMY_ROWS = 32

# TOML pass name -> the pass; quantize is the one MASE's transform action runs
TRANSFORM_PASSES: dict[str, Callable[..., tuple[Any, dict[str, Any]]]] = {"quantize": quantize_transform_pass}


@dataclass(frozen=True)
class TransformOutcome:
    graph: MaseGraph
    checkpoint_dir: Path
    histograms: dict[str, list[TypeCount]]
    report: QuantizationReport | None


def graph_with_metadata(model: nn.Module, dummy_x: torch.Tensor) -> MaseGraph:
    """Trace ``model`` and attach common and software metadata from one run on ``dummy_x``."""
    from chop.passes.graph import (
        add_common_metadata_analysis_pass,
        add_software_metadata_analysis_pass,
        init_metadata_analysis_pass,
    )

    graph = MaseGraph(model.eval())
    graph, _ = init_metadata_analysis_pass(graph, None)
    graph, _ = add_common_metadata_analysis_pass(graph, {"dummy_in": {"x": dummy_x}, "add_value": False})
    graph, _ = add_software_metadata_analysis_pass(graph, None)
    return graph


def dummy_input(model: nn.Module, x_rows: Any) -> torch.Tensor:
    """A few real rows, reshaped to the model's ``input_shape`` (e.g. ``(1, 16)`` for a Conv1d net)."""
    rows = torch.as_tensor(x_rows[:DUMMY_ROWS], dtype=torch.float32)
    shape = tuple(getattr(model, "input_shape", (rows.shape[1],)))
    return rows.reshape(len(rows), *shape)


def run_transform(model: nn.Module, passes: Mapping[str, Any], data: Any, software_dir: str | Path,
                  report: bool = False) -> TransformOutcome:
    """Run ``passes`` (the ``[passes.*]`` tables, in order) on ``model``; ``data`` is a ``DatasetSplits``."""
    if not passes:
        raise ConfigError("ch transform: the config has no [passes.*] table; add e.g. [passes.quantize] "
                          "(see configs/examples/jsc_toy_by_type.toml)")
    for name in passes:
        if name not in TRANSFORM_PASSES:
            raise ConfigError(f"[passes.{name}]: {unknown('transform pass', name, TRANSFORM_PASSES)}")
    from chop.passes.graph.interface import save_mase_graph_interface_pass

    transform_dir = Path(software_dir) / TRANSFORM_DIR
    graph = graph_with_metadata(model, dummy_input(model, data.x_train))
    float_graph = copy.deepcopy(graph)
    histograms = {}
    for name, pass_args in passes.items():
        before = copy.deepcopy(graph)
        graph, _ = TRANSFORM_PASSES[name](graph, pass_args)
        if name == "quantize":
            _, summary = summarize_quantization_analysis_pass(before, graph, transform_dir)
            histograms[name] = summary["histogram"]
    checkpoint_dir = transform_dir / CHECKPOINT_DIR
    save_mase_graph_interface_pass(graph, {"save_dir": checkpoint_dir})
    outcome_report = quantization_report(float_graph, graph, data) if report else None
    if outcome_report is not None:
        atomic_write_text(transform_dir / REPORT_FILE, json.dumps(outcome_report.as_json(), indent=2) + "\n")
    return TransformOutcome(graph, checkpoint_dir, histograms, outcome_report)
