"""RTL emission: a prepared graph as synthesisable SystemVerilog, fully parallel, valid in / valid out.

``emit_rtl(prepared, rtl_dir)`` writes the shared components (``components/*.sv``), one module
per layer holding its constants, and ``top.sv``; it returns an ``RtlDesign`` that
``chop.hardware.simulate`` and the synthesis flow take.
"""

from chop.hardware.rtl.components import dependence_files
from chop.hardware.rtl.da4ml_sums import LINEAR_IMPLS
from chop.hardware.rtl.design import RtlDesign, RtlLayer
from chop.hardware.rtl.emit import RtlPlan, emit_rtl, plan_rtl
from chop.hardware.rtl.layers import PIPELINES
from chop.hardware.rtl.products import PRODUCT_STYLES

__all__ = ["LINEAR_IMPLS", "PIPELINES", "PRODUCT_STYLES", "RtlDesign", "RtlLayer", "RtlPlan", "dependence_files",
           "emit_rtl", "plan_rtl"]
