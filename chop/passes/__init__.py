"""Graph passes under MASE's names: ``from chop.passes import report_graph_analysis_pass``."""

from chop.passes import graph
from chop.passes.graph import *  # noqa: F403  (the names of graph.__all__)

for _name in graph.__all__:
    globals()[_name] = getattr(graph, _name)

__all__ = list(graph.__all__)
