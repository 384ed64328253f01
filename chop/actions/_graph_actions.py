"""What ``ch transform`` and ``ch search`` share: the flags they take and the warnings they give."""

from __future__ import annotations

from chop.tools.logger import get_logger

log = get_logger(__name__)


def warn_untrained(action: str) -> None:
    """Without ``--load`` the model is freshly initialised: quantising or searching it measures noise."""
    log.warning("ch %s: no --load given, so the model has untrained (random) weights; "
                "pass --load CKPT (e.g. a best.ckpt of ch train) to work on a trained model", action)
