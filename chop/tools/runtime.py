"""Process-wide runtime settings for training tiny models."""

from __future__ import annotations

import os
from collections.abc import Mapping

from chop.errors import ConfigError

THREADS_VARIABLE = "MACHOP_THREADS"


def thread_count(environ: Mapping[str, str] = os.environ) -> int:
    """``MACHOP_THREADS`` as a positive integer (1 when unset), or a one-line error naming it."""
    text = environ.get(THREADS_VARIABLE, "1")
    try:
        threads = int(text)
    except ValueError:
        threads = 0
    if threads < 1:
        raise ConfigError(f"{THREADS_VARIABLE}={text!r} is not a thread count; expected a positive integer "
                          f"(e.g. {THREADS_VARIABLE}=1)")
    return threads


def configure_threads() -> int:
    """Use one intra-op thread unless ``MACHOP_THREADS`` says otherwise.

    Tiny models are dominated by per-op overhead; with several threads torch spin-waits and a
    plain training loop runs ~16x slower on a 2-core machine (performance notes).
    """
    import torch

    threads = thread_count()
    torch.set_num_threads(threads)
    return threads
