"""Where the quantised function twins lived before ``transforms/quantize/`` became a package.

Graphs saved then (``graph_module.mz`` pickles) name their functions by this path, so it stays.
"""

from chop.quantized.functions import *  # noqa: F403
