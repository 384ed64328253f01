"""``EnsembleGroup``: what the trainer asks of K models trained together, whichever path trains them.

Three classes answer it: ``StackedGroup`` (``stacked_group.py``), ``VmappedGroup`` (``vmapped.py``)
and ``LoopedGroup`` (``looped.py``). ``train_ensemble`` picks one and drives it through an epoch
as ``begin_epoch`` then ``train_range`` over consecutive step ranges, then ``evaluate``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from torch import Tensor, nn


@runtime_checkable
class EnsembleGroup(Protocol):
    """K models of one architecture, their optimisers and their place in the current epoch."""

    path: str   # "stacked", "vmap" or "general": reported in ``EnsembleResult.path``

    def begin_epoch(self, lrs: Sequence[float], first_step: int, bounds: Sequence[tuple[int, int]],
                    order: Tensor) -> None:
        """Set each model's learning rate and the epoch's batches: ``order[:, start:stop]`` per bound.

        ``first_step`` is the epoch's first global optimiser step (1-based, as torch.optim counts).
        """
        ...

    def train_range(self, x_all: Tensor, y_all: Tensor, start: int, stop: int) -> tuple[Tensor, Tensor]:
        """Steps ``start .. stop-1`` of the epoch; the last step's per-model ``(K,)`` loss and accuracy."""
        ...

    def evaluate(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        """Per-model ``(K,)`` accuracy and mean cross-entropy on ``x``/``y``, in eval mode."""
        ...

    def modules(self) -> list[nn.Module]:
        """The K models holding the current weights."""
        ...

    def optimizer_states(self, global_step: int) -> list[dict[str, Any]]:
        """Each model's optimiser state in ``torch.optim.Optimizer.state_dict()`` layout."""
        ...
