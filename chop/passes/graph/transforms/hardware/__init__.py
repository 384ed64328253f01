"""Hardware preparation passes: a quantised graph becomes a graph of fixed-point hardware twins.

``prepare_hardware_transform_pass`` is the one the emit passes call; ``fold_batchnorm_transform_pass``
folds batch norms into their linear neighbours in a float graph, before quantisation, so that the
quantised model the user trains is already the one the hardware computes.
"""

from chop.passes.graph.transforms.hardware.fold_batchnorm import fold_batchnorm_transform_pass
from chop.passes.graph.transforms.hardware.prepare_hardware import prepare_hardware_transform_pass

__all__ = ["fold_batchnorm_transform_pass", "prepare_hardware_transform_pass"]
