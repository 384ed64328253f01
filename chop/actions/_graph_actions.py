"""What ``ch transform`` and ``ch search`` share: the model they work on and the flags they take."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chop.tools.logger import get_logger

log = get_logger(__name__)


def initial_model(build: Callable[[], Any], settings: Any, action: str) -> Any:
    """The model to transform or search: ``--load``'s weights, else a fresh model seeded with ``--seed``.

    Seeding before building makes a run without ``--load`` the same in every process (an unseeded
    fresh model made two ``ch search`` runs disagree); the warning says that its weights are untrained.
    """
    import torch

    from chop.tools.checkpoint_load import load_model

    torch.manual_seed(settings.seed)
    model = build()
    if settings.load_name:
        return load_model(settings.load_name, settings.load_type, model=model)
    log.warning("ch %s: no --load given, so the model has untrained (random) weights; "
                "pass --load CKPT (e.g. a best.ckpt of ch train) to work on a trained model", action)
    return model
