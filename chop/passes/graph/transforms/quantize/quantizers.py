"""MASE's path to the quantiser functions (``...transforms.quantize.quantizers``): :mod:`chop.quantizers`."""

from chop.quantizers import *  # noqa: F403
from chop.quantizers import __all__  # noqa: F401
