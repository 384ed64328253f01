"""Model zoo and registry (``get_model``, ``get_model_info`` as in MASE) and the one model builder."""

from chop.models import conv, jsc, toys  # noqa: F401  (registers the built-in models)
from chop.models.builder import build_model, load_model_class, model_builder, model_source, with_checkpoint
from chop.models.registry import ModelInfo, get_model, get_model_info, known_models, register_model

__all__ = [
    "ModelInfo",
    "build_model",
    "get_model",
    "get_model_info",
    "known_models",
    "load_model_class",
    "model_builder",
    "model_source",
    "register_model",
    "with_checkpoint",
]
