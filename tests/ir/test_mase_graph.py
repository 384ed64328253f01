"""MaseGraph: tracing, public attributes, leaf modules, trace errors, drawing, copying."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pytest
import torch
from torch import nn

from chop.errors import MachopError
from chop.ir.graph.mase_graph import GraphTraceError, MaseGraph
from chop.models import get_model
from chop.passes.graph import add_common_metadata_analysis_pass, init_metadata_analysis_pass


class Gate(nn.Module):
    """Data-dependent control flow: untraceable unless kept as a leaf."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.sum() > 0:
            return x * 2
        return -x


class Gated(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.gate = Gate()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.gate(self.fc(x))


class RootBranch(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.mean() > 0:
            return x
        return x + 1


def test_public_attributes_of_jsc_tiny() -> None:
    model = get_model("jsc-tiny")
    mg = MaseGraph(model)
    assert [n.name for n in mg.nodes] == ["x", "seq_blocks_0", "seq_blocks_1", "seq_blocks_2", "seq_blocks_3", "output"]
    assert mg.fx_graph is mg.model.graph
    assert isinstance(mg.model, torch.fx.GraphModule)
    assert isinstance(mg.modules["seq_blocks.2"], nn.Linear)
    assert mg.modules["seq_blocks.2"].weight is model.seq_blocks[2].weight
    x = torch.randn(3, 16)
    model.eval()
    mg.model.eval()
    assert torch.equal(mg.model(x), model(x))


def test_trace_error_names_module_line_and_suggests_leaf() -> None:
    with pytest.raises(GraphTraceError) as caught:
        MaseGraph(Gated())
    message = str(caught.value)
    assert "module 'gate' (Gate)" in message
    assert f"{Path(__file__)}:" in message and "`if x.sum() > 0:`" in message
    assert "leaf_modules=[Gate]" in message
    assert "\n" not in message


def test_root_control_flow_suggests_a_submodule() -> None:
    with pytest.raises(GraphTraceError, match=r"module '<root>' \(RootBranch\).*`if x.mean\(\) > 0:`.*into a submodule"):
        MaseGraph(RootBranch())


def test_leaf_module_makes_it_traceable() -> None:
    torch.manual_seed(0)
    model = Gated()
    mg = MaseGraph(model, leaf_modules=[Gate])
    assert [n.op for n in mg.nodes] == ["placeholder", "call_module", "call_module", "output"]
    x = torch.randn(5, 4)
    assert torch.equal(mg.model(x), model(x))
    mg, _ = init_metadata_analysis_pass(mg)
    mg, _ = add_common_metadata_analysis_pass(mg, {"dummy_in": {"x": x}})
    assert mg.node("gate").meta["mase"]["common"]["mase_op"] == "gate"
    assert mg.node("gate").meta["mase"]["common"]["mase_type"] == "module"


def test_draw_dot_file(tmp_path: Path) -> None:
    mg = MaseGraph(get_model("jsc-tiny"))
    path = mg.draw(tmp_path / "g.dot")
    text = path.read_text()
    assert text.startswith("digraph")
    for name in ("seq_blocks_0", "seq_blocks_3"):
        assert name in text
    assert "x -> seq_blocks_0" in text and "seq_blocks_3 -> output" in text


def test_draw_svg_needs_graphviz(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(MachopError, match=r"graphviz's 'dot' program is not installed.*\.dot file"):
        MaseGraph(get_model("jsc-tiny")).draw(tmp_path / "g.svg")
    assert not (tmp_path / "g.svg").exists()


def test_deepcopy_owns_its_metadata() -> None:
    mg, _ = init_metadata_analysis_pass(MaseGraph(get_model("jsc-tiny")))
    mg, _ = add_common_metadata_analysis_pass(mg, {"dummy_in": {"x": torch.randn(2, 16)}})
    clone = copy.deepcopy(mg)
    clone.node("seq_blocks_2").meta["mase"]["common"]["args"]["weight"]["type"] = "integer"
    assert mg.node("seq_blocks_2").meta["mase"]["common"]["args"]["weight"]["type"] == "float"
    assert clone.node("seq_blocks_2").meta["mase"].node is clone.node("seq_blocks_2")
    assert clone.modules["seq_blocks.2"] is not mg.modules["seq_blocks.2"]


def test_not_a_module_is_an_error() -> None:
    with pytest.raises(MachopError, match="MaseGraph expects a torch.nn.Module, got str"):
        MaseGraph("jsc-tiny")  # type: ignore[arg-type]
