"""MASE's ``chop.actions.search.search_space``: the base of every search space and the lookup by name.

Re-exports of ``chop.search`` (the code lives there). A space of your own subclasses
``SearchSpaceBase`` in your file and is named ``FILE.py:Class`` in ``[search.search_space] name``.
"""

from chop.search.registry import SEARCH_SPACES as SEARCH_SPACE_MAP
from chop.search.registry import get_search_space_cls
from chop.search.space import MixedPrecisionSpace as GraphSearchSpaceMixedPrecisionPTQ
from chop.search.space_base import SearchSpaceBase

__all__ = ["SEARCH_SPACE_MAP", "GraphSearchSpaceMixedPrecisionPTQ", "SearchSpaceBase", "get_search_space_cls"]
