"""Metadata for a graph a hardware pass builds: common metadata from one dummy sample, then hardware."""

from __future__ import annotations

import torch
from torch import Tensor, fx

from chop.errors import PassError
from chop.hardware.ops import HardwareOp
from chop.hardware.prepare.metadata import describe_twin
from chop.ir.graph.mase_graph import MaseGraph
from chop.models.input_shape import example_batch
from chop.passes.graph.analysis.add_common_metadata import add_common_metadata_analysis_pass
from chop.passes.graph.analysis.add_hardware_metadata import add_hardware_metadata_analysis_pass
from chop.passes.graph.analysis.init_metadata import init_metadata_analysis_pass


def dummy_sample(pass_name: str, graph: MaseGraph) -> Tensor:
    """A seeded batch of one of the source graph's input shape (its metadata's, else the model's declared one)."""
    placeholder = next(node for node in graph.fx_graph.nodes if node.op == "placeholder")
    meta = placeholder.meta.get("mase")
    result = meta.parameters.common.results.get("data_out_0") if meta is not None else None
    if result is not None and len(result.shape) >= 1:
        return torch.randn((1, *result.shape[1:]), generator=torch.Generator().manual_seed(0))
    batch = example_batch(graph.model)
    if batch is None:
        raise PassError(f"{pass_name}: the input shape is unknown; run init_metadata_analysis_pass and "
                        f"add_common_metadata_analysis_pass on the graph first")
    return batch


def with_metadata(module: fx.GraphModule, sample: Tensor, hardware: bool) -> MaseGraph:
    """``module`` as a MaseGraph with common metadata (and, if ``hardware``, twin descriptions and hardware)."""
    graph = MaseGraph(module)
    graph, _ = init_metadata_analysis_pass(graph)
    placeholder = next(node for node in graph.fx_graph.nodes if node.op == "placeholder")
    graph, _ = add_common_metadata_analysis_pass(graph, {"dummy_in": {placeholder.name: sample}, "add_value": False})
    if hardware:
        modules = graph.modules
        for node in graph.fx_graph.nodes:
            twin = modules.get(str(node.target)) if node.op == "call_module" else None
            if isinstance(twin, HardwareOp):
                describe_twin(node.meta["mase"].parameters.common, twin)
        graph, _ = add_hardware_metadata_analysis_pass(graph)
    return graph
