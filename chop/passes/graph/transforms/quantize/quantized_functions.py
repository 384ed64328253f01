"""Where the function twins of :mod:`chop.quantized.functions` lived; saved graphs (``.mz``) name this path."""

from chop.quantized.functions import *  # noqa: F403
