"""What every pass returns: the graph and what the pass found, still unpacking like MASE's tuple."""

from __future__ import annotations

from typing import Any, NamedTuple


class PassResult(NamedTuple):
    """``graph, info = some_pass(graph, args)`` works as in MASE; ``result.graph`` / ``result.info`` read better."""

    graph: Any
    info: dict[str, Any]
