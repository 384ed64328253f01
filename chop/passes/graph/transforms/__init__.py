"""Transform passes: quantisation (one pass per file) and the quantised modules and functions."""

from chop.passes.graph.transforms.architecture import channel_multiplier_config, redefine_linear_transform_pass
from chop.passes.graph.transforms.hardware import fold_batchnorm_transform_pass, prepare_hardware_transform_pass
from chop.passes.graph.transforms.quantize import quantize_transform_pass
from chop.passes.graph.transforms.quantized_weights import get_quantized_weights
from chop.passes.graph.transforms.summarize_quantization import summarize_quantization_analysis_pass
from chop.passes.graph.transforms.verilog import (
    emit_bram_transform_pass,
    emit_internal_rtl_transform_pass,
    emit_verilog_tb_transform_pass,
    emit_verilog_top_transform_pass,
)

__all__ = [
    "channel_multiplier_config",
    "emit_bram_transform_pass",
    "emit_internal_rtl_transform_pass",
    "emit_verilog_tb_transform_pass",
    "emit_verilog_top_transform_pass",
    "fold_batchnorm_transform_pass",
    "get_quantized_weights",
    "prepare_hardware_transform_pass",
    "quantize_transform_pass",
    "redefine_linear_transform_pass",
    "summarize_quantization_analysis_pass",
]
