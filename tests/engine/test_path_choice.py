"""Which path trains a group: the three paths share one interface, and a fallback is logged, never a bug hidden."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from chop.engine import GroupConfig, RunConfig, stacked, vmapped
from chop.engine.group import EnsembleGroup
from chop.engine.stacked import plan_for
from chop.engine.trainer import make_group
from chop.engine.vmapped import vmapped_group
from chop.models import get_model
from conftest import BatchNormNet

RUNS = [RunConfig(0, 1e-3), RunConfig(1, 2e-3)]


class Branchy(nn.Module):
    """Python control flow on a traced value: neither torch.fx nor vmap can trace it."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(16, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.linear(x)
        return h if h.sum() > 0 else -h


def _models(build, k: int = 2) -> list[nn.Module]:
    models = []
    for seed in range(k):
        torch.manual_seed(seed)
        models.append(build())
    return models


@pytest.mark.parametrize(("build", "path"), [(BatchNormNet, "stacked"), (lambda: get_model("jsc-conv-res"), "vmap"),
                                             (Branchy, "general")])
def test_each_path_is_an_ensemble_group(build, path):
    group = make_group(_models(build), RUNS, GroupConfig(32, 1), torch.device("cpu"), 16, None, "auto")
    assert group.path == path
    assert isinstance(group, EnsembleGroup)


def test_a_model_torch_fx_cannot_trace_takes_no_stacked_path_and_says_why(engine_log):
    assert plan_for(Branchy()) is None
    assert engine_log.messages == ["Branchy takes no stacked path: torch.fx cannot trace it "
                                   "(TraceError: symbolically traced variables cannot be used as inputs to control flow)"]


def test_a_bug_in_the_eligibility_check_propagates(monkeypatch):
    def broken(name: str, module: nn.Module) -> None:
        raise TypeError("a bug in machop")

    monkeypatch.setattr(stacked, "_layer_of", broken)
    with pytest.raises(TypeError, match="a bug in machop"):
        plan_for(get_model("jsc-tiny"))


def test_a_model_vmap_cannot_trace_falls_back_to_the_loop_and_says_why(engine_log):
    assert vmapped_group(_models(Branchy), RUNS, torch.device("cpu"), 16) is None
    assert len(engine_log.messages) == 1
    assert engine_log.messages[0].startswith("Branchy trains in the loop: torch.func.vmap cannot trace it (vmap: ")


def test_a_bug_in_the_vmap_path_propagates_instead_of_becoming_the_loop(monkeypatch):
    def broken(*args: object) -> None:
        raise TypeError("a bug in machop")

    monkeypatch.setattr(vmapped, "unflatten", broken)  # called inside the trial step
    with pytest.raises(TypeError, match="a bug in machop"):
        vmapped_group(_models(lambda: get_model("jsc-conv-res")), RUNS, torch.device("cpu"), 16)
