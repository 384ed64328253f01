"""MASE's home of the report passes (``chop.passes.graph.analysis.report``); each lives in its own file."""

from chop.passes.graph.analysis.report_graph import report_graph_analysis_pass
from chop.passes.graph.analysis.report_node_hardware_type import report_node_hardware_type_analysis_pass
from chop.passes.graph.analysis.report_node_meta_param import report_node_meta_param_analysis_pass
from chop.passes.graph.analysis.report_node_shape import report_node_shape_analysis_pass
from chop.passes.graph.analysis.report_node_type import report_node_type_analysis_pass

__all__ = [
    "report_graph_analysis_pass",
    "report_node_hardware_type_analysis_pass",
    "report_node_meta_param_analysis_pass",
    "report_node_shape_analysis_pass",
    "report_node_type_analysis_pass",
]
