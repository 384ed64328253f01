"""One way to name and build a model: the ``FILE.py:Class`` grammar, checkpoints, the input-shape convention."""

from __future__ import annotations

import textwrap

import pytest
import torch
from torch import nn

from chop.errors import ModelError
from chop.models import build_model, get_model, model_source, register_model
from chop.models.builder import ModelFile, names_model_file
from chop.models.conv import JSCConvRes
from chop.models.input_shape import DEFAULT_NUM_FEATURES, declared_input_shape, example_batch, input_shape_of
from chop.models.jsc import JSCTiny


@pytest.fixture
def net_file(tmp_path):
    path = tmp_path / "net.py"
    path.write_text(textwrap.dedent("""
        from torch import nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(16, 5)
            def forward(self, x):
                return self.fc(x)
    """))
    return path


@pytest.mark.parametrize("text, source", [
    ("jsc-tiny", ("jsc-tiny", None)),
    ("models/net.py:Net", (None, "models/net.py:Net")),
    ("C:/models/net.py:Net", (None, "C:/models/net.py:Net")),
    ("net.txt:Net", ("net.txt:Net", None)),  # not a Python file: a (misspelt) registered name
])
def test_a_model_argument_names_a_registered_model_or_a_file(text, source):
    assert model_source(text) == source
    assert names_model_file(text) == (source[1] is not None)


def test_model_file_keeps_the_name_it_is_given_alongside():
    assert model_source("jsc", "net.py:Net") == ("jsc", "net.py:Net")
    assert ModelFile.parse("./a/b.py:Net") == ModelFile("./a/b.py", "Net")
    with pytest.raises(ModelError, match="--model-file expects FILE.py:ClassName, got 'net.py'"):
        ModelFile.parse("net.py")


def test_both_spellings_build_the_same_file_model(net_file):
    torch.manual_seed(0)
    by_name = build_model(f"{net_file}:Net")
    torch.manual_seed(0)
    by_flag = build_model(None, f"{net_file}:Net")
    assert type(by_name).__name__ == type(by_flag).__name__ == "Net"
    assert all(torch.equal(a, b) for a, b in zip(by_name.state_dict().values(), by_flag.state_dict().values()))


@pytest.mark.parametrize("suffix, load_type", [(".pt", None), (".pt", "pt"), (".ckpt", "pl"), (".mz", "mz")])
def test_build_model_loads_a_checkpoint_of_every_load_type(tmp_path, suffix, load_type):
    torch.manual_seed(3)
    source = get_model("jsc-tiny")
    path = tmp_path / f"weights{suffix}"
    if suffix == ".ckpt":
        torch.save({"state_dict": {f"model.{k}": v for k, v in source.state_dict().items()}}, path)
    elif suffix == ".mz":
        torch.save(torch.fx.symbolic_trace(source), path)
    else:
        torch.save(source.state_dict(), path)
    loaded = build_model("jsc-tiny", checkpoint=path, load_type=load_type)
    assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), source.state_dict().values()))
    assert input_shape_of(loaded) == (16,)


def test_register_model_leaves_the_class_alone_and_the_registry_holds_the_shape():
    @register_model("test-builder-shape", input_shape=(1, 16))
    class Shaped(nn.Module):
        def forward(self, x):
            return x

    assert "input_shape" not in vars(Shaped)
    assert declared_input_shape(Shaped()) == (1, 16)  # built outside the registry: its entry still says
    assert get_model("test-builder-shape").input_shape == (1, 16)


def test_input_shape_convention():
    assert declared_input_shape(JSCConvRes(None)) == (1, 16)
    assert input_shape_of(JSCTiny(None), 7) == (16,)

    class Sub(JSCConvRes):
        pass

    assert declared_input_shape(Sub(None)) == (1, 16)  # a subclass of a registered model takes its entry

    class Undeclared(nn.Module):
        pass

    assert declared_input_shape(Undeclared()) is None
    assert input_shape_of(Undeclared(), 7) == (7,)
    assert input_shape_of(Undeclared()) == (DEFAULT_NUM_FEATURES,)


def test_example_batch_reshapes_rows_or_makes_a_seeded_batch_of_one():
    rows = torch.arange(32.0).reshape(2, 16).numpy()
    assert example_batch(get_model("jsc-conv-res"), rows).shape == (2, 1, 16)
    assert example_batch(get_model("jsc-tiny"), rows).shape == (2, 16)
    assert torch.equal(example_batch(get_model("jsc-conv-res")), example_batch(get_model("jsc-conv-res")))
    assert example_batch(nn.Linear(3, 1)) is None


def test_ch_model_info_takes_the_file_as_name_or_as_flag(net_file, capsys):
    from chop.cli import main

    assert main(["model", "info", f"{net_file}:Net", "--json"]) == 0
    as_name = capsys.readouterr().out
    assert main(["model", "info", "--model-file", f"{net_file}:Net", "--json"]) == 0
    assert capsys.readouterr().out == as_name
