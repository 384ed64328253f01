"""MaseGraph and its node metadata."""

from chop.ir.graph.mase_graph import GraphTraceError, MaseGraph
from chop.ir.graph.mase_metadata import (
    CommonMeta,
    CostMeta,
    HardwareMeta,
    MaseMetadata,
    MetadataKeyError,
    Parameters,
    SoftwareMeta,
    StatMeta,
    TensorMeta,
)

__all__ = ["CommonMeta", "CostMeta", "GraphTraceError", "HardwareMeta", "MaseGraph", "MaseMetadata",
           "MetadataKeyError", "Parameters", "SoftwareMeta", "StatMeta", "TensorMeta"]
