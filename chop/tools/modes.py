"""``eval_mode``: run a module in eval mode for a while and give it back in the mode it was in."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from torch import nn


@contextmanager
def eval_mode(module: nn.Module) -> Iterator[nn.Module]:
    """``module`` in eval mode inside the block; afterwards, exception or not, ``module.train(was_training)``.

    Analyses, evaluations and clamp counts read a model without training it: BatchNorm must use
    its running statistics and must not update them, and the caller's model must come back as it
    went in. Like ``train(was_training)``, the restore sets every submodule to the top module's mode.
    """
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)
