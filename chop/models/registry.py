"""Model registry: users add a model with one decorator; what the tools know of it is a ``ModelInfo``.

A model in the user's own file (``FILE.py:Class``) is imported by :func:`load_model_class`; building
either kind, with or without a checkpoint, is :mod:`chop.models.builder`'s job.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from chop.errors import ModelError, unknown


@dataclass(frozen=True)
class ModelInfo:
    """What the tools need to know about a model without building it."""

    name: str
    input_shape: tuple[int, ...]
    task_type: str = "classification"
    model_source: str = "physical"
    physical_data_point_classification: bool = True
    is_fx_traceable: bool = True


@dataclass(frozen=True)
class _Entry:
    info: ModelInfo
    factory: type[nn.Module]


_MODELS: dict[str, _Entry] = {}
_BY_CLASS: dict[type[nn.Module], ModelInfo] = {}


def register_model(name: str, input_shape: tuple[int, ...] = (16,)) -> Callable[[type[nn.Module]], type[nn.Module]]:
    """Class decorator: ``@register_model("my-net", input_shape=(1, 16))``.

    The class is built as ``cls(info)`` when its constructor takes an argument (MASE passes the
    dataset info) and as ``cls()`` otherwise. ``input_shape`` excludes the batch dimension; the
    engine reshapes ``(N, 16)`` feature rows to it, so no dataset code changes for a Conv1d model.
    The registry keeps the shape (``chop.models.input_shape`` reads it); the class is returned as it was.
    """

    def decorate(cls: type[nn.Module]) -> type[nn.Module]:
        if name in _MODELS:
            raise ModelError(f"model '{name}' is already registered")
        info = ModelInfo(name=name, input_shape=tuple(input_shape))
        _MODELS[name] = _Entry(info, cls)
        _BY_CLASS.setdefault(cls, info)
        return cls

    return decorate


def known_models() -> list[str]:
    return sorted(_MODELS)


def get_model_info(name: str) -> ModelInfo:
    if name not in _MODELS:
        raise ModelError(unknown("model", name, _MODELS))
    return _MODELS[name].info


def registered_info(cls: type[nn.Module]) -> ModelInfo | None:
    """The entry of ``cls`` or of the nearest registered class it derives from, or None."""
    return next((_BY_CLASS[klass] for klass in cls.__mro__ if klass in _BY_CLASS), None)


def construct(cls: type[nn.Module], dataset_info: Any) -> nn.Module:
    """``cls(dataset_info)`` when the constructor needs an argument (MASE's convention), else ``cls()``."""
    takes_info = any(
        p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
        for p in list(inspect.signature(cls.__init__).parameters.values())[1:]
    )
    return cls(dataset_info) if takes_info else cls()


def get_model(name: str, task: str = "cls", dataset_info: Any = None, pretrained: bool = False,
              checkpoint: str | Path | None = None, quant_config: Mapping[str, Any] | None = None) -> nn.Module:
    """Build a registered model (MASE's signature); ``pretrained`` is refused: no weights are shipped.

    The model carries its registered ``input_shape`` as an attribute (read it with
    ``chop.models.input_shape.input_shape_of``). ``checkpoint`` loads weights of any load type (``pl``/``pt``/``mz``, told by suffix or content, as
    :func:`chop.tools.checkpoint_load.load_model` does). ``quant_config`` (``quantize_transform_pass``
    arguments) returns the quantised model: where MASE builds a quantised model class, machop traces
    the model, quantises the graph and returns its ``GraphModule``. The checkpoint is loaded first,
    so a float checkpoint gives the quantised model its float master weights.
    """
    if pretrained:
        raise ModelError(f"no pretrained weights exist for '{name}'; load a checkpoint with --load instead")
    entry = _MODELS[get_model_info(name).name]
    model = construct(entry.factory, dataset_info)
    model.input_shape = entry.info.input_shape  # the built model says its shape; the class stays as written
    if checkpoint is not None:
        from chop.models.builder import with_checkpoint

        model = with_checkpoint(model, checkpoint)
    if quant_config is not None:
        model = quantized(model, quant_config)
    return model


def quantized(model: nn.Module, quant_config: Mapping[str, Any]) -> nn.Module:
    """``model`` traced, given common metadata (a batch of one of its ``input_shape``) and quantised."""
    from chop.ir.graph.mase_graph import MaseGraph
    from chop.passes.graph import add_common_metadata_analysis_pass, init_metadata_analysis_pass
    from chop.passes.graph.transforms.quantize import quantize_transform_pass

    graph, _ = init_metadata_analysis_pass(MaseGraph(model))
    graph, _ = add_common_metadata_analysis_pass(graph)
    graph, _ = quantize_transform_pass(graph, quant_config)
    return graph.model
