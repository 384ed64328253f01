"""Graph preparation: a quantised graph becomes a graph of hardware twins with a format on every edge.

``prepare(graph_module)`` reads the quantised twins of a ``MaseGraph``'s GraphModule and returns a
new fx GraphModule whose compute nodes are :mod:`chop.hardware.ops` twins, plus what changed.
The steps each live in their own module: ``roles`` (what each node becomes, and the errors for
nodes that cannot), ``fold`` (batch-norm algebra in float), ``constants`` (formats for derived
constants), ``precision`` (exact accumulator bounds), ``build`` (the new graph), ``metadata``
(MASE's hardware fields). The passes in ``chop.passes.graph.transforms.hardware`` wrap them.
"""

from chop.hardware.prepare.build import Preparation, prepare
from chop.hardware.prepare.fold import batch_norm_affine, fold_batch_norms
from chop.hardware.prepare.precision import accumulator_format, affine_bounds, linear_bounds

__all__ = [
    "Preparation",
    "accumulator_format",
    "affine_bounds",
    "batch_norm_affine",
    "fold_batch_norms",
    "linear_bounds",
    "prepare",
]
