"""``eval_mode`` puts a module in eval mode for a block and gives it back in the mode it came in."""

from __future__ import annotations

import pytest
from torch import nn

from chop.tools.modes import eval_mode


@pytest.mark.parametrize("training", [True, False])
def test_the_module_is_in_eval_mode_inside_and_as_before_afterwards(training):
    model = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4)).train(training)
    with eval_mode(model) as inside:
        assert inside is model
        assert not any(m.training for m in model.modules())
    assert all(m.training == training for m in model.modules())


def test_the_mode_is_restored_when_the_block_raises():
    model = nn.BatchNorm1d(4).train()
    with pytest.raises(ValueError, match="inside"):
        with eval_mode(model):
            raise ValueError("inside")
    assert model.training
