"""MASE's home of the profiler (``chop.passes.graph.analysis.statistical_profiler``)."""

from chop.passes.graph.analysis.profile_statistics import profile_statistics_analysis_pass

__all__ = ["profile_statistics_analysis_pass"]
