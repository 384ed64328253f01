"""MASE's ``chop.actions.search.strategies.runners``: what a trial measures (``chop.search.runners``).

``basic_evaluation`` is MASE's ``RunnerBasicEval`` (loss, accuracy), ``average_bitwidth`` its
``RunnerAvgBitwidth`` (average weight width, memory density).
"""

from chop.search.config import HW_RUNNERS, SW_RUNNERS
from chop.search.runners import Runners, average_bitwidth, basic_evaluation

__all__ = ["HW_RUNNERS", "Runners", "SW_RUNNERS", "average_bitwidth", "basic_evaluation"]
