"""Model zoo and registry (``get_model``, ``get_model_info`` as in MASE)."""

from chop.models import conv, jsc, toys  # noqa: F401  (registers the built-in models)
from chop.models.registry import (
    ModelInfo,
    build_model_from_file,
    get_model,
    get_model_info,
    known_models,
    load_model_class,
    model_builder,
    register_model,
)

__all__ = [
    "ModelInfo",
    "build_model_from_file",
    "get_model",
    "get_model_info",
    "known_models",
    "load_model_class",
    "model_builder",
    "register_model",
]
