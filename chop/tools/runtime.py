"""Process-wide runtime settings for training tiny models."""

from __future__ import annotations

import os


def configure_threads() -> int:
    """Use one intra-op thread unless ``MACHOP_THREADS`` says otherwise.

    Tiny models are dominated by per-op overhead; with several threads torch spin-waits and a
    plain training loop runs ~16x slower on a 2-core machine (performance notes).
    """
    import torch

    threads = int(os.environ.get("MACHOP_THREADS", "1"))
    torch.set_num_threads(threads)
    return threads
