"""MASE's ``transforms.quantize.quantized_modules``: the module twins of :mod:`chop.quantized.modules`.

Graphs saved before the twins moved (``graph_module.mz`` pickles) name their classes by this path.
"""

from chop.quantized.modules import *  # noqa: F403
