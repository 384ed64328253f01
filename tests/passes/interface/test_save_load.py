"""Save/load of a MaseGraph (.mz) and of node metadata (TOML): identical graph, outputs and metadata."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import tomli_w
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from chop.errors import ModelError, PassError
from chop.ir.graph.mase_graph import MaseGraph
from chop.ir.graph.mase_metadata import same_value
from chop.models import get_model
from chop.passes.graph import (
    add_hardware_metadata_analysis_pass,
    count_ops_analysis_pass,
    init_metadata_analysis_pass,
    load_mase_graph_interface_pass,
    load_node_meta_param_interface_pass,
    profile_statistics_analysis_pass,
    save_mase_graph_interface_pass,
)
from chop.passes.graph.interface import save_node_meta_param_interface_pass
from chop.passes.graph.interface.meta_codec import collect


def full_graph(make_graph, model, x):
    mg = make_graph(model, x)
    mg, _ = add_hardware_metadata_analysis_pass(mg)
    mg, _ = count_ops_analysis_pass(mg, {"verbose": False})
    weight_nodes = [n.name for n in mg.nodes if n.op == "call_module" and list(mg.modules[n.target].parameters())]
    mg, _ = profile_statistics_analysis_pass(mg, {
        "by": "name", "target_weight_nodes": weight_nodes, "weight_statistics": {"variance_precise": {}},
        "target_activation_nodes": weight_nodes, "activation_statistics": {"range_min_max": {"dims": None}},
        "input_generator": [{"x": x}], "num_samples": len(x)})
    return mg


@pytest.mark.parametrize("kind", ["jsc-toy", "conv", "functional"])
def test_mz_round_trip(make_graph, small_model, seeded, tmp_path: Path, kind) -> None:
    model, x = small_model(kind)
    mg = full_graph(make_graph, model, x)
    _, info = save_mase_graph_interface_pass(mg, {"save_dir": str(tmp_path / "saved")})
    assert sorted(p.name for p in (tmp_path / "saved").iterdir()) == ["graph_module.mz", "node_meta.pt", "state_dict.pt"]
    for source in (tmp_path / "saved", tmp_path / "saved" / "graph_module.mz"):
        loaded, _ = load_mase_graph_interface_pass(None, {"load_dir": str(source)})
        assert str(loaded.fx_graph) == str(mg.fx_graph)
        assert [n.name for n in loaded.nodes] == [n.name for n in mg.nodes]
        assert same_value(collect(loaded), collect(mg))
        assert loaded.node(mg.nodes[1].name).meta["mase"].node is loaded.nodes[1]
        mg.model.eval()
        loaded.model.eval()
        probe = torch.randn_like(x)
        assert torch.equal(loaded.model(probe), mg.model(probe))


def test_quantised_precision_survives(make_graph, seeded, tmp_path: Path) -> None:
    mg = make_graph(get_model("jsc-tiny"), torch.randn(4, 16))
    mg.node("seq_blocks_2").meta["mase"]["common"]["args"]["weight"]["type"] = "integer"
    mg.node("seq_blocks_2").meta["mase"]["common"]["args"]["weight"]["precision"] = [8, 4]
    save_mase_graph_interface_pass(mg, {"save_dir": str(tmp_path)})
    loaded, _ = load_mase_graph_interface_pass(None, {"load_dir": str(tmp_path)})
    weight = loaded.node("seq_blocks_2").meta["mase"]["common"]["args"]["weight"]
    assert (weight["type"], weight["precision"]) == ("integer", [8, 4])


def test_load_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=f"no saved graph at {tmp_path / 'missing'}"):
        load_mase_graph_interface_pass(None, {"load_dir": str(tmp_path / "missing")})
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "graph_module.mz").write_bytes(b"not a pickle")
    with pytest.raises(ModelError, match="cannot read saved graph .*graph_module.mz"):
        load_mase_graph_interface_pass(None, {"load_dir": str(tmp_path / "bad")})
    torch.save({"weight": torch.ones(2)}, tmp_path / "plain.mz")
    with pytest.raises(ModelError, match="holds a dict, not a saved graph module"):
        load_mase_graph_interface_pass(None, {"load_dir": str(tmp_path / "plain.mz")})
    (tmp_path / "file").write_text("x")
    with pytest.raises(PassError, match="save_dir .*file exists and is not a directory"):
        save_mase_graph_interface_pass(init_metadata_analysis_pass(MaseGraph(get_model("jsc-tiny")))[0],
                                       {"save_dir": str(tmp_path / "file")})


def test_toml_round_trip(make_graph, seeded, tmp_path: Path) -> None:
    mg = full_graph(make_graph, get_model("jsc-tiny"), torch.randn(5, 16))
    save_node_meta_param_interface_pass(mg, {"save_path": str(tmp_path / "meta.toml")})
    text = (tmp_path / "meta.toml").read_text()
    data = tomllib.loads(text)
    weight = data["seq_blocks_2"]["common"]["args"]["weight"]
    assert weight["from"] == "NA" and weight["torch_dtype"] == "torch.float32" and weight["shape"] == [5, 16]
    assert data["seq_blocks_2"]["software"]["args"]["weight"]["stat"]["variance_precise"]["count"] == 80
    fresh, _ = init_metadata_analysis_pass(MaseGraph(get_model("jsc-tiny")))
    load_node_meta_param_interface_pass(fresh, {"load_path": str(tmp_path / "meta.toml")})
    assert same_value(collect(fresh), collect(mg))
    save_node_meta_param_interface_pass(mg, str(tmp_path / "positional.toml"))
    assert (tmp_path / "positional.toml").read_text() == text


def test_toml_of_another_graph_is_refused(make_graph, seeded, tmp_path: Path) -> None:
    save_node_meta_param_interface_pass(make_graph(get_model("jsc-tiny"), torch.randn(2, 16)), str(tmp_path / "m.toml"))
    other, _ = init_metadata_analysis_pass(MaseGraph(get_model("jsc-toy")))
    with pytest.raises(PassError, match="does not fit the graph: nodes only in the file: none; nodes only in the graph: seq_blocks_10"):
        load_node_meta_param_interface_pass(other, {"load_path": str(tmp_path / "m.toml")})


keys = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=8)
scalars = st.one_of(st.booleans(), st.integers(-2**63, 2**63 - 1), st.floats(allow_nan=False), st.text(max_size=10))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3), max_leaves=6)
tables = st.recursive(st.dictionaries(keys, values, max_size=4),
                      lambda inner: st.dictionaries(keys, st.one_of(values, inner), max_size=4), max_leaves=8)


@settings(max_examples=60, deadline=None)
@given(tables)
@example({"0\n": {}})  # a key with a newline: the old hand-written writer emitted it bare
def test_toml_writer_round_trips(data) -> None:
    """The metadata TOML is written with tomli-w; whatever it writes, tomllib reads back the same."""
    assert tomllib.loads(tomli_w.dumps(data)) == data


LEGACY = Path(__file__).resolve().parents[2] / "fixtures" / "legacy_mz"


@pytest.mark.parametrize("generation", ["", "v2_"])
@pytest.mark.parametrize(("directory", "key"), [("jsc_tiny_integer", "tiny"), ("functional_integer", "functional")])
def test_graphs_saved_by_earlier_versions_still_load(generation: str, directory: str, key: str) -> None:
    """Fixtures written by earlier code, whose pickles name its module paths: stop 8 (``""``:
    ``transforms.quantized_modules``) and stop 9 (``"v2_"``: ``transforms.quantize.quantized_modules``)."""
    from chop.passes.graph.interface import load_mase_graph_interface_pass

    expected = torch.load(LEGACY / f"{generation}expected.pt")
    graph, _ = load_mase_graph_interface_pass(None, {"load_dir": LEGACY / f"{generation}{directory}"})
    assert torch.equal(graph.model(expected["x"]), expected[key])


def test_save_takes_the_directory_itself_as_mase_does(tmp_path: Path) -> None:
    """MASE's ``save_mase_graph_interface_pass(mg, pass_args=save_dir)`` passes the path, not a dict."""
    torch.manual_seed(0)
    graph, _ = init_metadata_analysis_pass(MaseGraph(get_model("jsc-tiny").eval()))
    _, info = save_mase_graph_interface_pass(graph, str(tmp_path / "saved"))
    assert info["graph_module"] == str(tmp_path / "saved" / "graph_module.mz")
    loaded, _ = load_mase_graph_interface_pass(None, {"load_dir": tmp_path / "saved"})
    x = torch.randn(4, 16)
    assert torch.equal(loaded.model(x), graph.model(x))
