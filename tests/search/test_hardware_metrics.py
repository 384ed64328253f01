"""Hardware objectives of a trial: BitOPs from the metadata, the estimate, and Yosys as the check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from chop.dataset import get_dataset_info
from chop.errors import HardwareError
from chop.hardware.prepare import prepare
from chop.hardware.rtl import emit_rtl
from chop.models import get_model
from chop.passes.graph.transforms import quantize_transform_pass
from chop.search.hardware_metrics import HardwareSettings, bitops, resource_estimate, synthesised_resources
from chop.workflows.transform import graph_with_metadata


def integer(data: tuple[int, int], weight: tuple[int, int]) -> dict[str, Any]:
    return {"name": "integer", "data_in_width": data[0], "data_in_frac_width": data[1], "weight_width": weight[0],
            "weight_frac_width": weight[1], "bias_width": 8, "bias_frac_width": 4}


def quantised(name: str, config: dict[str, Any]) -> Any:
    torch.manual_seed(0)
    graph = graph_with_metadata(get_model(name, dataset_info=get_dataset_info("jsc")), torch.randn(8, 16))
    return quantize_transform_pass(graph, config)[0]


def test_bitops_are_macs_times_input_and_weight_bits_node_by_node() -> None:
    # jsc-toy: BatchNorm(16), then linears 16->8, 8->8, 8->5, each followed by BatchNorm and ReLU
    model = get_model("jsc-toy", dataset_info=get_dataset_info("jsc"))
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm1d)]
    config = {"by": "name", "default": {"config": integer((8, 4), (8, 4))}}
    graph = quantised("jsc-toy", config)
    first = next(node.name for node in graph.fx_graph.nodes if node.op == "call_module"
                 and isinstance(graph.modules[node.target], nn.Linear))
    config[first] = {"config": integer((6, 3), (3, 2))}
    graph = quantised("jsc-toy", config)
    expected = sum(m.in_features * m.out_features for m in linears) * 8 * 8 + sum(m.num_features for m in norms) * 64
    expected += linears[0].in_features * linears[0].out_features * (6 * 3 - 8 * 8)
    assert bitops(graph) == {"bitops": float(expected)}


@pytest.fixture(scope="module")
def tiny_8_4() -> Any:
    return quantised("jsc-tiny", {"by": "type", "default": {"config": integer((8, 4), (8, 4))}})


def test_the_estimate_names_the_latency_of_the_emitted_design(tiny_8_4: Any, tmp_path: Path) -> None:
    prepared = prepare(tiny_8_4.model).module
    emitted = {pipeline: emit_rtl(prepared, tmp_path / pipeline, pipeline=pipeline).latency
               for pipeline in ("none", "layer", "split")}
    # affine, ReLU, linear, ReLU; split adds a register to the affine and the linear
    assert emitted == {"none": 0, "layer": 4, "split": 6}
    for pipeline, latency in emitted.items():
        assert resource_estimate(tiny_8_4, HardwareSettings(pipeline=pipeline))["latency_cycles"] == latency


def test_the_estimate_against_yosys_on_jsc_tiny(tiny_8_4: Any, tmp_path: Path) -> None:
    """FFs are counted exactly; LUTs are within the estimate's calibrated worst case (docs/hardware.md)."""
    estimate = resource_estimate(tiny_8_4)
    measured = synthesised_resources(tiny_8_4, work_dir=tmp_path)
    assert measured["yosys_ffs"] == estimate["ffs"] > 0
    assert measured["yosys_dsps"] == estimate["dsps"] == 0
    assert abs(estimate["luts"] - measured["yosys_luts"]) <= 0.25 * measured["yosys_luts"]
    assert (tmp_path / "synth" / "synth.json").is_file() and (tmp_path / "rtl" / "top.sv").is_file()


def test_a_candidate_the_hardware_flow_cannot_build_raises_its_one_line_error() -> None:
    graph = quantised("jsc-tiny", {"by": "type", "linear": {"config": integer((8, 4), (8, 4))}})
    with pytest.raises(HardwareError, match=r"node 'seq_blocks_0' \(batch_norm1d\) is not quantised"):
        resource_estimate(graph)
