"""MASE's ``chop.actions.search.strategies``: the base of every search strategy and the lookup by name.

Re-exports of ``chop.search`` (the code lives there). A strategy of your own subclasses
``SearchStrategyBase`` in your file and is named ``FILE.py:Class`` in ``[search.strategy] name``;
``TrialRecord`` and ``SearchResult`` are what its ``search`` returns.
"""

from chop.search.registry import SEARCH_STRATEGIES as SEARCH_STRATEGY_MAP
from chop.search.registry import get_search_strategy_cls
from chop.search.strategy_base import SearchResult, SearchStrategyBase, TrialRecord

__all__ = ["SEARCH_STRATEGY_MAP", "SearchResult", "SearchStrategyBase", "TrialRecord", "get_search_strategy_cls"]
