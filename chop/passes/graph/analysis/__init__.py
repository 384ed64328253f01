"""Analysis passes: metadata, reports, statistics, costs (one pass per file)."""

from chop.passes.graph.analysis.add_common_metadata import add_common_metadata_analysis_pass
from chop.passes.graph.analysis.add_hardware_metadata import add_hardware_metadata_analysis_pass
from chop.passes.graph.analysis.add_software_metadata import add_software_metadata_analysis_pass
from chop.passes.graph.analysis.count_ops import count_ops_analysis_pass
from chop.passes.graph.analysis.init_metadata import init_metadata_analysis_pass
from chop.passes.graph.analysis.profile_statistics import profile_statistics_analysis_pass
from chop.passes.graph.analysis.report_graph import report_graph_analysis_pass
from chop.passes.graph.analysis.report_node_hardware_type import report_node_hardware_type_analysis_pass
from chop.passes.graph.analysis.report_node_meta_param import report_node_meta_param_analysis_pass
from chop.passes.graph.analysis.report_node_shape import report_node_shape_analysis_pass
from chop.passes.graph.analysis.report_node_type import report_node_type_analysis_pass
from chop.passes.graph.analysis.verify_common_metadata import verify_common_metadata_analysis_pass

__all__ = [
    "add_common_metadata_analysis_pass",
    "add_hardware_metadata_analysis_pass",
    "add_software_metadata_analysis_pass",
    "count_ops_analysis_pass",
    "init_metadata_analysis_pass",
    "profile_statistics_analysis_pass",
    "report_graph_analysis_pass",
    "report_node_hardware_type_analysis_pass",
    "report_node_meta_param_analysis_pass",
    "report_node_shape_analysis_pass",
    "report_node_type_analysis_pass",
    "verify_common_metadata_analysis_pass",
]
