"""One way to build a model: a registered name or ``FILE.py:Class``, optionally with a checkpoint.

Every command names its model the same way: ``MODEL`` is a registered name, or ``FILE.py:Class``
for a class in the user's own file (``--model-file FILE.py:Class`` says the same). Weights of any
load type (``pt``/``pl``/``mz``, see :mod:`chop.tools.checkpoint_load`) are loaded here and only here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from torch import nn

from chop.errors import ModelError
from chop.models.registry import construct, get_model, get_model_info
from chop.tools.user_files import import_user_file

ModelFactory = Callable[[], nn.Module]


@dataclass(frozen=True)
class ModelFile:
    """``FILE.py:Class``: a model class in the user's own file."""

    file: str  # as the user wrote it: a sweep records the file's digest under this name
    class_name: str

    @staticmethod
    def parse(spec: str) -> ModelFile:
        file, sep, class_name = spec.rpartition(":")
        if not sep or not file or not class_name:
            raise ModelError(f"--model-file expects FILE.py:ClassName, got '{spec}'")
        return ModelFile(file, class_name)


def names_model_file(text: str) -> bool:
    """Whether a ``MODEL`` argument reads ``FILE.py:Class`` rather than a registered name."""
    path_text, sep, class_name = text.rpartition(":")
    return bool(sep and class_name) and path_text.endswith(".py")


def model_source(name: str | None, model_file: str | None = None) -> tuple[str | None, str | None]:
    """``(name, model_file)`` with a ``FILE.py:Class`` given as the model name moved to ``model_file``."""
    if model_file is None and name is not None and names_model_file(name):
        return None, name
    return name, model_file


def load_model_class(spec: str) -> type[nn.Module]:
    """Import ``path/to/file.py:ClassName`` and check it is an ``nn.Module`` subclass."""
    source = ModelFile.parse(spec)
    path, class_name = Path(source.file), source.class_name
    module = import_user_file(path, "model file", ModelError, "machop_user_model")
    cls = getattr(module, class_name, None)
    if cls is None:
        classes = [n for n, v in vars(module).items() if inspect.isclass(v) and issubclass(v, nn.Module)]
        raise ModelError(f"{path} has no class '{class_name}'; nn.Module classes there: {', '.join(classes) or 'none'}")
    if not (inspect.isclass(cls) and issubclass(cls, nn.Module)):
        raise ModelError(f"{path}:{class_name} is not a torch.nn.Module subclass")
    return cls


def model_builder(name: str | None, model_file: str | None = None, dataset_info: Any = None) -> ModelFactory:
    """A zero-argument factory of fresh (untrained) models: a registered name or ``FILE.py:Class``.

    The file is imported once here, and a name is checked here, so a bad model fails before any
    data is loaded or trained.
    """
    name, model_file = model_source(name, model_file)
    if model_file:
        return FileModelFactory(model_file, dataset_info, load_model_class(model_file))
    if name is None:
        raise ModelError("no model given: name one (e.g. jsc-tiny) or set `model` in the TOML")
    get_model_info(name)
    return partial(get_model, name, dataset_info=dataset_info)


@dataclass(frozen=True)
class FileModelFactory:
    """Fresh models of a class in the user's file; picklable (a worker process imports the file again).

    A class read from a file is not importable by name, so pickling sends the recipe (the spec and
    the dataset info), not the class: worker processes (``ch search --jobs``) build the same model.
    """

    spec: str
    dataset_info: Any
    cls: type[nn.Module]

    def __call__(self) -> nn.Module:
        return construct(self.cls, self.dataset_info)

    def __reduce__(self) -> tuple[Any, ...]:
        return model_builder, (None, self.spec, self.dataset_info)


def with_checkpoint(model: nn.Module, checkpoint: str | Path, load_type: str | None = None) -> nn.Module:
    """``model`` with the checkpoint's weights (``pt``/``pl``), or the saved graph it must match (``mz``)."""
    from chop.tools.checkpoint_load import load_model  # torch.load and friends: only when asked

    return load_model(checkpoint, load_type, model=model)


def build_model(name: str | None, model_file: str | None = None, dataset_info: Any = None,
                checkpoint: str | Path | None = None, load_type: str | None = None) -> nn.Module:
    """One model: a registered name or ``FILE.py:Class``, with ``checkpoint``'s weights when one is given."""
    model = model_builder(name, model_file, dataset_info)()
    return model if checkpoint is None else with_checkpoint(model, checkpoint, load_type)
