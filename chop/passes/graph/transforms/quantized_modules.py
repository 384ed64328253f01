"""Where the quantised module twins lived before ``transforms/quantize/`` became a package.

Graphs saved then (``graph_module.mz`` pickles) name their classes by this path, so it stays.
"""

from chop.quantized.modules import *  # noqa: F403
