"""Quantisers: pure functions with straight-through gradients (one per file).

Each ``*_quantizer(x, ...)`` returns exactly quantised values in the forward pass and passes the
gradient through unchanged; ``*_quantize`` is the same arithmetic without gradient handling.
Each number format is a frozen ``Quantizer`` subclass in its format's file (``Integer``, ``ApFixed``,
``MinifloatIEEE``, ...); ``FORMATS`` maps config names to them and ``make_quantizer`` turns a config
(``{"width": 8, "frac_width": 4}``) into one.
"""

from chop.quantizers.ap_fixed import ApFixed, ap_fixed_quantize, ap_fixed_quantizer
from chop.quantizers.binary import Binary, binary_quantize, binary_quantizer
from chop.quantizers.block_fp import BlockFP, block_fp_quantize, block_fp_quantizer
from chop.quantizers.block_log import BlockLog, block_log_quantize, block_log_quantizer
from chop.quantizers.block_minifloat import BlockMinifloat, block_minifloat_quantize, block_minifloat_quantizer
from chop.quantizers.integer import Fixed, Integer, integer_quantize, integer_quantizer, integer_range
from chop.quantizers.log import Log, log_quantize, log_quantizer
from chop.quantizers.minifloat_denorm import MinifloatDenorm, minifloat_denorm_quantize, minifloat_denorm_quantizer
from chop.quantizers.minifloat_ieee import MinifloatIEEE, minifloat_ieee_quantize, minifloat_ieee_quantizer
from chop.quantizers.quantizer import Quantizer
from chop.quantizers.registry import FORMATS, format_type, make_quantizer
from chop.quantizers.ternary import Ternary, ternary_quantize, ternary_quantizer

__all__ = [
    "FORMATS",
    "ApFixed",
    "Binary",
    "BlockFP",
    "BlockLog",
    "BlockMinifloat",
    "Fixed",
    "Integer",
    "Log",
    "MinifloatDenorm",
    "MinifloatIEEE",
    "Quantizer",
    "Ternary",
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
    "format_type",
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
