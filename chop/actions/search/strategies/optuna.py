"""MASE's ``chop.actions.search.strategies.optuna``: the optuna strategy (``chop.search.strategy``)."""

from chop.search.strategy import BruteForceSearch as SearchStrategyBruteForce
from chop.search.strategy import Search as SearchStrategyOptuna

__all__ = ["SearchStrategyBruteForce", "SearchStrategyOptuna"]
