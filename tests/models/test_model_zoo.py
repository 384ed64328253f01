"""Exact parameter counts, fx node names, the registry and ``--model-file`` errors, ``ch model info``."""

from __future__ import annotations

import copy
import json
import textwrap

import pytest
import torch
from torch import nn

from chop.cli import main
from chop.errors import ModelError
from chop.models import get_model, get_model_info, known_models, load_model_class, model_builder, register_model
from chop.models.summary import summarize, trainable_parameters


@pytest.mark.parametrize("name, count", [("jsc-tiny", 117), ("jsc-toy", 327), ("jsc-s", 5615), ("jsc-three-linear", 661),
                                         ("jsc-conv-res", 3299)])
def test_exact_trainable_parameter_counts(name, count):
    assert trainable_parameters(get_model(name)) == count


def test_jsc_tiny_fx_node_names_match_mase():
    graph = torch.fx.symbolic_trace(get_model("jsc-tiny")).graph
    assert [node.name for node in graph.nodes] == ["x", "seq_blocks_0", "seq_blocks_1", "seq_blocks_2",
                                                   "seq_blocks_3", "output"]


def test_jsc_toy_layer_sequence_is_the_spec():
    kinds = [type(m).__name__ for m in get_model("jsc-toy").seq_blocks]
    assert kinds == ["BatchNorm1d", "ReLU", "Linear", "BatchNorm1d", "ReLU", "Linear", "BatchNorm1d", "ReLU",
                     "Linear", "BatchNorm1d", "ReLU"]


def test_conv_model_declares_its_input_shape_and_runs_on_it():
    assert get_model_info("jsc-conv-res").input_shape == (1, 16)
    assert get_model_info("jsc-tiny").input_shape == (16,)
    assert get_model("jsc-conv-res").eval()(torch.randn(3, 1, 16)).shape == (3, 5)


def test_one_decorator_registers_a_user_model():
    @register_model("test-zoo-linear", input_shape=(16,))
    class Tiny(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(16, 5)

        def forward(self, x):
            return self.fc(x)

    assert "test-zoo-linear" in known_models()
    assert trainable_parameters(model_builder("test-zoo-linear")()) == 85
    with pytest.raises(ModelError, match="already registered"):
        register_model("test-zoo-linear")(Tiny)


def test_unknown_model_lists_the_known_ones():
    with pytest.raises(ModelError, match=r"unknown model 'jsc-tinny' \(did you mean 'jsc-tiny'\?\); known: .*jsc-s"):
        get_model("jsc-tinny")


def test_model_file_builds_the_users_class(tmp_path):
    path = tmp_path / "net.py"
    path.write_text(textwrap.dedent("""
        from torch import nn
        class Net(nn.Module):
            input_shape = (1, 16)
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv1d(1, 2, 3)
                self.fc = nn.Linear(28, 5)
            def forward(self, x):
                return self.fc(self.conv(x).flatten(1))
        NOT_A_MODULE = 3
    """))
    model = model_builder(None, f"{path}:Net")()
    assert model.input_shape == (1, 16)
    assert trainable_parameters(model) == 2 * 3 + 2 + 28 * 5 + 5
    with pytest.raises(ModelError, match=r"has no class 'Missing'; nn.Module classes there: Net"):
        load_model_class(f"{path}:Missing")
    with pytest.raises(ModelError, match="NOT_A_MODULE is not a torch.nn.Module subclass"):
        load_model_class(f"{path}:NOT_A_MODULE")
    with pytest.raises(ModelError, match="does not exist"):
        load_model_class(f"{tmp_path / 'absent.py'}:Net")


def test_summary_lists_layers_with_shapes_and_counts():
    summary = summarize("jsc-tiny")
    assert [(r.name, r.kind, r.output_shape, r.parameters) for r in summary.layers] == [
        ("seq_blocks.0", "BatchNorm1d", (16,), 32), ("seq_blocks.1", "ReLU", (16,), 0),
        ("seq_blocks.2", "Linear", (5,), 85), ("seq_blocks.3", "ReLU", (5,), 0)]
    assert summary.trainable_parameters == 117


def test_ch_model_info_prints_table_and_json(capsys):
    assert main(["model", "info", "jsc-toy"]) == 0
    out = capsys.readouterr().out
    assert "trainable parameters: 327" in out and "seq_blocks.10" in out
    assert main(["model", "info", "jsc-s", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["trainable_parameters"] == 5615 and data["input_shape"] == [16]


def test_ch_model_info_unknown_name_is_one_line_error(capsys):
    assert main(["model", "info", "jsc-big"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ch: error: unknown model 'jsc-big'") and err.count("\n") == 1 and "Traceback" not in err


def _seeded_tiny() -> nn.Module:
    torch.manual_seed(1)
    model = get_model("jsc-tiny")
    for parameter in model.parameters():
        parameter.data.normal_()
    model.seq_blocks[0].running_mean.normal_()
    return model


def _same_tensors(a: nn.Module, b: nn.Module) -> bool:
    return a.state_dict().keys() == b.state_dict().keys() and all(
        torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())


def test_get_model_loads_a_checkpoint_of_each_load_type(tmp_path):
    source = _seeded_tiny()
    state = source.state_dict()
    torch.save(state, tmp_path / "w.pt")
    torch.save({"state_dict": {f"model.{k}": v for k, v in state.items()}, "epoch": 3}, tmp_path / "w.ckpt")
    torch.save(torch.fx.symbolic_trace(source), tmp_path / "w.mz")
    torch.save(state, tmp_path / "weights")  # no suffix: the contents tell
    for name in ("w.pt", "w.ckpt", "w.mz", "weights"):
        loaded = get_model("jsc-tiny", checkpoint=tmp_path / name)
        assert _same_tensors(loaded, source), name
    assert isinstance(get_model("jsc-tiny", checkpoint=str(tmp_path / "w.mz")), torch.fx.GraphModule)
    with pytest.raises(ModelError, match=r"checkpoint .*absent\.pt does not exist"):
        get_model("jsc-tiny", checkpoint=tmp_path / "absent.pt")


def _integer(x: torch.Tensor, width: int, frac: int) -> torch.Tensor:
    """Independent reference: signed fixed point, round half to even, saturate."""
    scale = 2 ** frac
    return torch.clamp(torch.round(x * scale), -(2 ** (width - 1)), 2 ** (width - 1) - 1) / scale


INTEGER_LINEAR = {"by": "type", "default": {"config": {"name": None}},
                  "linear": {"config": {"name": "integer", "data_in_width": 8, "data_in_frac_width": 3,
                                        "weight_width": 6, "weight_frac_width": 4,
                                        "bias_width": 8, "bias_frac_width": 2}}}


def test_get_model_with_quant_config_returns_the_quantised_graph(tmp_path):
    source = _seeded_tiny()
    torch.save(source.state_dict(), tmp_path / "w.pt")
    config = copy.deepcopy(INTEGER_LINEAR)
    model = get_model("jsc-tiny", checkpoint=tmp_path / "w.pt", quant_config=config)
    assert config == INTEGER_LINEAR  # the caller's dict is left alone
    assert isinstance(model, torch.fx.GraphModule) and model.input_shape == (16,)
    assert type(model.get_submodule("seq_blocks.2")).__name__ == "LinearInteger"
    assert _same_tensors(model, source)  # float master weights from the checkpoint
    x = torch.randn(7, 16, generator=torch.Generator().manual_seed(2)) * 3
    source.eval(), model.eval()
    with torch.no_grad():
        hidden = source.seq_blocks[1](source.seq_blocks[0](x))
        linear = source.seq_blocks[2]
        expected = torch.relu(torch.nn.functional.linear(
            _integer(hidden, 8, 3), _integer(linear.weight, 6, 4), _integer(linear.bias, 8, 2)))
        assert torch.equal(model(x), expected)
        assert not torch.equal(source(x), expected)  # quantisation changed the numbers
