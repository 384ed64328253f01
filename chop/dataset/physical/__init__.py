"""MASE's ``chop.dataset.physical``: the physics data sets (``jsc``)."""
