"""Quantisers: pure functions with straight-through gradients (one per file).

Each ``*_quantizer(x, ...)`` returns exactly quantised values in the forward pass and passes the
gradient through unchanged; ``*_quantize`` is the same arithmetic without gradient handling.
``make_quantizer`` turns a config (``{"width": 8, "frac_width": 4}``) into an immutable ``Quantizer``.
"""

from chop.quantizers.ap_fixed import ApFixed, ap_fixed_quantize, ap_fixed_quantizer
from chop.quantizers.binary import binary_quantize, binary_quantizer
from chop.quantizers.block_fp import block_fp_quantize, block_fp_quantizer
from chop.quantizers.block_log import block_log_quantize, block_log_quantizer
from chop.quantizers.block_minifloat import block_minifloat_quantize, block_minifloat_quantizer
from chop.quantizers.integer import integer_quantize, integer_quantizer, integer_range
from chop.quantizers.log import log_quantize, log_quantizer
from chop.quantizers.minifloat_denorm import minifloat_denorm_quantize, minifloat_denorm_quantizer
from chop.quantizers.minifloat_ieee import minifloat_ieee_quantize, minifloat_ieee_quantizer
from chop.quantizers.registry import SPECS, Quantizer, make_quantizer
from chop.quantizers.ternary import ternary_quantize, ternary_quantizer

__all__ = [
    "SPECS",
    "ApFixed",
    "Quantizer",
    "ap_fixed_quantize",
    "ap_fixed_quantizer",
    "binary_quantize",
    "binary_quantizer",
    "block_fp_quantize",
    "block_fp_quantizer",
    "block_log_quantize",
    "block_log_quantizer",
    "block_minifloat_quantize",
    "block_minifloat_quantizer",
    "integer_quantize",
    "integer_quantizer",
    "integer_range",
    "log_quantize",
    "log_quantizer",
    "make_quantizer",
    "minifloat_denorm_quantize",
    "minifloat_denorm_quantizer",
    "minifloat_ieee_quantize",
    "minifloat_ieee_quantizer",
    "ternary_quantize",
    "ternary_quantizer",
]
