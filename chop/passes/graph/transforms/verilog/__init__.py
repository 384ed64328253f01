"""MASE's emit passes: the prepared graph as RTL, its constants and its Verilator testbench."""

from chop.passes.graph.transforms.verilog.emit_bram import emit_bram_transform_pass
from chop.passes.graph.transforms.verilog.emit_internal import emit_internal_rtl_transform_pass
from chop.passes.graph.transforms.verilog.emit_tb import emit_verilog_tb_transform_pass
from chop.passes.graph.transforms.verilog.emit_top import emit_verilog_top_transform_pass

__all__ = ["emit_bram_transform_pass", "emit_internal_rtl_transform_pass", "emit_verilog_tb_transform_pass",
           "emit_verilog_top_transform_pass"]
