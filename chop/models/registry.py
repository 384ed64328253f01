"""Model registry: users add a model with one decorator, or point ``--model-file`` at their own file."""

from __future__ import annotations

import importlib.util
import inspect
import sys
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


def register_model(name: str, input_shape: tuple[int, ...] = (16,)) -> Callable[[type[nn.Module]], type[nn.Module]]:
    """Class decorator: ``@register_model("my-net", input_shape=(1, 16))``.

    The class is built as ``cls(info)`` when its constructor takes an argument (MASE passes the
    dataset info) and as ``cls()`` otherwise. ``input_shape`` excludes the batch dimension; the
    engine reshapes ``(N, 16)`` feature rows to it, so no dataset code changes for a Conv1d model.
    """

    def decorate(cls: type[nn.Module]) -> type[nn.Module]:
        if name in _MODELS:
            raise ModelError(f"model '{name}' is already registered")
        cls.input_shape = tuple(input_shape)
        _MODELS[name] = _Entry(ModelInfo(name=name, input_shape=tuple(input_shape)), cls)
        return cls

    return decorate


def known_models() -> list[str]:
    return sorted(_MODELS)


def get_model_info(name: str) -> ModelInfo:
    if name not in _MODELS:
        raise ModelError(unknown("model", name, _MODELS))
    return _MODELS[name].info


def _construct(cls: type[nn.Module], dataset_info: Any) -> nn.Module:
    takes_info = any(
        p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
        for p in list(inspect.signature(cls.__init__).parameters.values())[1:]
    )
    return cls(dataset_info) if takes_info else cls()


def get_model(name: str, task: str = "cls", dataset_info: Any = None, pretrained: bool = False,
              checkpoint: str | Path | None = None, quant_config: Mapping[str, Any] | None = None) -> nn.Module:
    """Build a registered model (MASE's signature); ``pretrained`` is refused: no weights are shipped.

    ``checkpoint`` loads weights of any load type (``pl``/``pt``/``mz``, told by suffix or content, as
    :func:`chop.tools.checkpoint_load.load_model` does). ``quant_config`` (``quantize_transform_pass``
    arguments) returns the quantised model: where MASE builds a quantised model class, machop traces
    the model, quantises the graph and returns its ``GraphModule``. The checkpoint is loaded first,
    so a float checkpoint gives the quantised model its float master weights.
    """
    if pretrained:
        raise ModelError(f"no pretrained weights exist for '{name}'; load a checkpoint with --load instead")
    model = _construct(_MODELS[get_model_info(name).name].factory, dataset_info)
    if checkpoint is not None:
        from chop.tools.checkpoint_load import load_model  # torch.load and friends: only when asked

        model = load_model(checkpoint, model=model)
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


def load_model_class(spec: str) -> type[nn.Module]:
    """Import ``path/to/file.py:ClassName`` and check it is an ``nn.Module`` subclass."""
    path_text, sep, class_name = spec.rpartition(":")
    if not sep or not path_text or not class_name:
        raise ModelError(f"--model-file expects FILE.py:ClassName, got '{spec}'")
    path = Path(path_text)
    if not path.is_file():
        raise ModelError(f"model file {path} does not exist")
    module_name = f"machop_user_model_{abs(hash(path.resolve()))}"
    module_spec = importlib.util.spec_from_file_location(module_name, path)
    if module_spec is None or module_spec.loader is None:
        raise ModelError(f"model file {path} is not a Python file")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_name] = module
    try:
        module_spec.loader.exec_module(module)
    except Exception as error:  # the user's file: report where it broke, in one line
        raise ModelError(f"model file {path} failed to import: {type(error).__name__}: {error}") from error
    cls = getattr(module, class_name, None)
    if cls is None:
        classes = [n for n, v in vars(module).items() if inspect.isclass(v) and issubclass(v, nn.Module)]
        raise ModelError(f"{path} has no class '{class_name}'; nn.Module classes there: {', '.join(classes) or 'none'}")
    if not (inspect.isclass(cls) and issubclass(cls, nn.Module)):
        raise ModelError(f"{path}:{class_name} is not a torch.nn.Module subclass")
    return cls


def build_model_from_file(spec: str, dataset_info: Any = None) -> nn.Module:
    """Build the user's model; its ``input_shape`` attribute (default: the feature vector) is kept."""
    cls = load_model_class(spec)
    model = _construct(cls, dataset_info)
    if not hasattr(model, "input_shape"):
        features = getattr(dataset_info, "num_features", 16)
        model.input_shape = (features,)
    return model


def model_builder(name: str | None, model_file: str | None = None, dataset_info: Any = None) -> Callable[[], nn.Module]:
    """A zero-argument factory for a registered model or a ``--model-file FILE.py:Class`` one.

    The file is imported once here, so a bad file fails before any data is loaded or trained.
    """
    if model_file:
        cls = load_model_class(model_file)

        def build_from_file() -> nn.Module:
            model = _construct(cls, dataset_info)
            if not hasattr(model, "input_shape"):
                model.input_shape = (getattr(dataset_info, "num_features", 16),)
            return model

        return build_from_file
    if name is None:
        raise ModelError("no model given: name one (e.g. jsc-tiny) or set `model` in the TOML")
    get_model_info(name)
    return lambda: get_model(name, dataset_info=dataset_info)
