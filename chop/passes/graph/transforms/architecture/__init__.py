"""Architecture transforms: passes that change a model's shape (lab 4's channel multipliers)."""

from chop.passes.graph.transforms.architecture.redefine_linear import (
    channel_multiplier_config,
    redefine_linear_transform_pass,
)

__all__ = ["channel_multiplier_config", "redefine_linear_transform_pass"]
