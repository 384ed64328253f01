"""MASE's toy models (``chop.models.toys``): ``toy`` and ``toy_custom_fn``, for the quantisation test configs."""

from chop.models.toys.toy import ToyNet
from chop.models.toys.toy_custom_fn import ToyCustomFnNet

__all__ = ["ToyCustomFnNet", "ToyNet"]
