"""The lab study documents' scripts and configs (docs/lab*-study/) still run on today's machop.

The studies' searches take minutes, so their configs are parsed here and the scripts' functions
run on their own; the numbers in the documents come from the commands they show.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

import pytest
import torch
from torch import nn

from chop.errors import MachopError
from chop.models import get_model
from chop.search import parse_search_config
from chop.tools.user_files import import_user_file

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DOCS = Path(__file__).parents[1] / "docs"


def study_file(name: str) -> ModuleType:
    return import_user_file(DOCS / name, "study script", MachopError, "machop_lab_study")


def linear_widths(model: nn.Module) -> list[tuple[int, int]]:
    return [(m.in_features, m.out_features) for m in model.modules() if isinstance(m, nn.Linear)]


@pytest.mark.parametrize("config", sorted(str(p.relative_to(DOCS)) for p in DOCS.glob("lab*-study/*.toml")))
def test_every_study_config_parses_as_a_search(config: str) -> None:
    path = DOCS / config
    parsed = parse_search_config(tomllib.loads(path.read_text())["search"], str(path))
    assert parsed.strategy.metrics


def test_lab4_resizes_give_the_lab_widths_and_three_linears_collapse_to_one() -> None:
    resize = study_file("lab4-study/resize.py")
    torch.manual_seed(0)
    assert resize.collapsed(resize.ThreeLinearNoActivation()) < 1e-5
    assert linear_widths(resize.resized(resize.ThreeLinear(), resize.DOUBLED).model) == [(16, 32), (32, 32), (32, 5)]
    assert linear_widths(resize.resized(resize.ThreeLinear(), resize.WIDENING).model) == [(16, 32), (32, 64), (64, 5)]


def test_lab4_parameter_counts_are_the_resized_models_own() -> None:
    resize, architectures = study_file("lab4-study/resize.py"), study_file("lab4-study/architectures.py")
    assert architectures.parameters((16, 16)) == 661  # the zoo docstring's count
    for config, widths in ((resize.DOUBLED, (32, 32)), (resize.WIDENING, (32, 64))):
        model = resize.resized(get_model("jsc-three-linear"), config).model
        assert architectures.parameters(widths) == sum(p.numel() for p in model.parameters())


def test_lab4_logits_twin_has_the_zoo_network_layers_without_the_last_relu() -> None:
    torch.manual_seed(0)
    twin = study_file("lab4-study/three_linear_logits.py").ThreeLinearLogits()
    zoo = get_model("jsc-three-linear")
    assert linear_widths(twin) == linear_widths(zoo) == [(16, 16), (16, 16), (16, 5)]
    assert [type(m) for m in twin.seq_blocks] == [type(m) for m in zoo.seq_blocks][:-1]
    assert twin.eval()(torch.full((2, 16), -3.0)).min() < 0  # a logit may be negative: no ReLU at the end
