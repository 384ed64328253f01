"""Interface passes: save and load graphs and node metadata."""

from chop.passes.graph.interface.load_mase_graph import load_mase_graph_interface_pass
from chop.passes.graph.interface.node_meta_param import (
    load_node_meta_param_interface_pass,
    save_node_meta_param_interface_pass,
)
from chop.passes.graph.interface.save_mase_graph import save_mase_graph_interface_pass

__all__ = [
    "load_mase_graph_interface_pass",
    "load_node_meta_param_interface_pass",
    "save_mase_graph_interface_pass",
    "save_node_meta_param_interface_pass",
]
