"""``ch transform`` as a library call: trace, run the TOML's ``[passes.*]`` in order, save, report.

As in MASE's CLI, a quantize pass is always followed by its summary (``quantize_table.csv`` and
``quantize_histogram.csv`` in ``software/transform/quantize/``) and the transformed graph is always
saved to ``software/transform/transformed_ckpt/`` (``graph_module.mz`` + state dict + node metadata,
and the metadata as ``node_meta_param.toml``). MASE's folders always hold the latest run: an
earlier run's ``quantize/`` and ``transformed_ckpt/`` are first renamed to the next free
``quantize-vN/`` / ``transformed_ckpt-vN/`` (``chop.tools.versions``), so a rerun loses nothing.
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
from chop.models.input_shape import example_batch
from chop.workflows.quantization_report import QuantizationReport, quantization_report
from chop.passes.graph.transforms.quantize import quantize_transform_pass
from chop.passes.graph.transforms.summarize_quantization import TypeCount, summarize_quantization_analysis_pass
from chop.tools.atomic import atomic_write_text
from chop.tools.versions import keep_earlier_run

TRANSFORM_DIR = "transform"
QUANTIZE_DIR = "quantize"
CHECKPOINT_DIR = "transformed_ckpt"
META_PARAM_FILE = "node_meta_param.toml"
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
    kept: tuple[Path, ...]  # where an earlier run's folders were moved (empty on a first run)


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
    return example_batch(model, x_rows[:DUMMY_ROWS])


def run_transform(model: nn.Module, passes: Mapping[str, Any], data: Any, software_dir: str | Path,
                  report: bool = False) -> TransformOutcome:
    """Run ``passes`` (the ``[passes.*]`` tables, in order) on ``model``; ``data`` is a ``DatasetSplits``."""
    if not passes:
        raise ConfigError("ch transform: the config has no [passes.*] table; add e.g. [passes.quantize] "
                          "(see configs/examples/jsc_toy_by_type.toml)")
    for name in passes:
        if name not in TRANSFORM_PASSES:
            raise ConfigError(f"[passes.{name}]: {unknown('transform pass', name, TRANSFORM_PASSES)}")
    from chop.passes.graph.interface import save_mase_graph_interface_pass, save_node_meta_param_interface_pass

    transform_dir = Path(software_dir) / TRANSFORM_DIR
    quantize_dir, checkpoint_dir = transform_dir / QUANTIZE_DIR, transform_dir / CHECKPOINT_DIR
    graph = graph_with_metadata(model, dummy_input(model, data.x_train))
    float_graph = copy.deepcopy(graph)
    summaries = []  # (pass name, graph before it, graph after it), summarised once every pass has succeeded
    for name, pass_args in passes.items():
        before = copy.deepcopy(graph)
        graph, _ = TRANSFORM_PASSES[name](graph, pass_args)
        if name == "quantize":
            summaries.append((name, before, graph))
    kept = keep_earlier_run(quantize_dir, checkpoint_dir)  # only now: a failing pass leaves the earlier run
    histograms = {name: summarize_quantization_analysis_pass(before, after, quantize_dir)[1]["histogram"]
                  for name, before, after in summaries}
    save_mase_graph_interface_pass(graph, {"save_dir": checkpoint_dir})
    save_node_meta_param_interface_pass(graph, {"save_path": checkpoint_dir / META_PARAM_FILE})
    outcome_report = quantization_report(float_graph, graph, data) if report else None
    if outcome_report is not None:
        atomic_write_text(quantize_dir / REPORT_FILE, json.dumps(outcome_report.as_json(), indent=2) + "\n")
    return TransformOutcome(graph, checkpoint_dir, histograms, outcome_report, kept)

