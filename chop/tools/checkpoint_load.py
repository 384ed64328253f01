"""``load_model``: MASE's entry point for weights from a ``pl``, ``pt`` or ``mz`` checkpoint (lab-api §8).

- ``pl``: a Lightning-style ``.ckpt`` dict whose ``state_dict`` keys carry a ``model.`` prefix;
- ``pt``: a plain ``state_dict``;
- ``mz``: a whole ``torch.fx.GraphModule`` saved with ``torch.save`` (quantised graphs included).

The type is inferred from the suffix (``.ckpt`` → pl, ``.pt``/``.pth`` → pt, ``.mz`` → mz) or, failing
that, from the file's contents. A checkpoint of another architecture is refused with the tensors
that do not fit, never loaded half-way.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from chop.errors import ModelError

LOAD_TYPES = ("pt", "pl", "mz")  # MASE's --load-type choices, in its order
SUFFIX_TYPES = {".ckpt": "pl", ".pt": "pt", ".pth": "pt", ".mz": "mz"}
_SHOWN = 6


def _read(path: Path, trusted_objects: bool) -> Any:
    import pickle

    import torch

    try:
        if not trusted_objects:
            try:
                return torch.load(path, map_location="cpu", weights_only=True)
            except pickle.UnpicklingError:
                pass  # written by another tool with Python objects inside: the user's own file
        return torch.load(path, map_location="cpu", weights_only=False)
    except (OSError, RuntimeError, EOFError, pickle.UnpicklingError, AttributeError, ModuleNotFoundError) as error:
        raise ModelError(f"cannot read checkpoint {path}: {type(error).__name__}: {error}") from None


def infer_load_type(path: Path, content: Any = None) -> str:
    """``pl`` / ``pt`` / ``mz`` from the suffix, else from what the file holds."""
    if path.suffix in SUFFIX_TYPES:
        return SUFFIX_TYPES[path.suffix]
    from torch import nn

    if content is None:
        content = _read(path, trusted_objects=True)
    if isinstance(content, nn.Module):
        return "mz"
    if isinstance(content, Mapping) and "state_dict" in content:
        return "pl"
    if isinstance(content, Mapping):
        return "pt"
    raise ModelError(f"cannot tell what kind of checkpoint {path} is; pass --load-type pl, pt or mz")


def _strip_prefix(state: Mapping[str, Any], prefix: str = "model.") -> dict[str, Any]:
    if state and all(key.startswith(prefix) for key in state):
        return {key[len(prefix):]: value for key, value in state.items()}
    return dict(state)


def mismatches(model: Any, state: Mapping[str, Any]) -> list[str]:
    """Differences between a module's tensors and a state_dict, shape clashes first (empty: it fits)."""
    own = model.state_dict()
    problems = [
        f"{name} {tuple(state[name].shape)} vs model {tuple(tensor.shape)}"
        for name, tensor in own.items()
        if name in state and hasattr(state[name], "shape") and tuple(state[name].shape) != tuple(tensor.shape)
    ]
    problems += [f"missing {name}" for name in own if name not in state]
    problems += [f"unexpected {name}" for name in state if name not in own]
    return problems


EXPECTED_FILES = {"pl": ("a Lightning .ckpt", "*.ckpt"), "pt": ("a .pt state_dict", "*.pt*"),
                  "mz": ("a saved graph_module.mz", "*.mz")}


def _loadable_files(directory: Path, kinds: list[str]) -> list[str]:
    """Checkpoint-like files in ``directory`` or one level below it, relative to it."""
    patterns = [EXPECTED_FILES[kind][1] for kind in kinds]
    return sorted({p.relative_to(directory).as_posix() for pattern in patterns
                   for p in [*directory.glob(pattern), *directory.glob(f"*/{pattern}")]})


def directory_message(path: Path, load_type: str | None) -> str:
    """Why a directory cannot be loaded, and which files in it could be (the usual slip: the run folder)."""
    kinds = [load_type] if load_type else list(LOAD_TYPES)
    expected = " or ".join(EXPECTED_FILES[kind][0] for kind in kinds)
    found = _loadable_files(path, kinds)
    hint = f" (found in it: {', '.join(found[:_SHOWN])})" if found else ""
    return f"--load {path} is a directory; expected a file: {expected}{hint}"


def _parameter_shapes(module: Any) -> dict[str, tuple[int, ...]]:
    return {name: tuple(p.shape) for name, p in module.named_parameters()}


def _check_same_architecture(saved: Any, model: Any, source: Path) -> None:
    """A saved graph replaces the model, so refuse one whose parameters (names and shapes) differ from it."""
    ours, theirs = _parameter_shapes(model), _parameter_shapes(saved)
    problems = [f"{name} {theirs[name]} vs model {shape}" for name, shape in ours.items()
                if name in theirs and theirs[name] != shape]
    problems += [f"missing {name}" for name in ours if name not in theirs]
    problems += [f"unexpected {name}" for name in theirs if name not in ours]
    if problems:
        more = f" and {len(problems) - _SHOWN} more" if len(problems) > _SHOWN else ""
        raise ModelError(f"graph {source} is not the given model ({type(model).__name__}): "
                         f"{'; '.join(problems[:_SHOWN])}{more}; drop MODEL to use the saved graph as it is")


def load_state_into(model: Any, state: Mapping[str, Any], source: Path) -> Any:
    """Load ``state`` into ``model`` strictly, or raise naming the tensors that do not fit."""
    problems = mismatches(model, state)
    if problems:
        more = f" and {len(problems) - _SHOWN} more" if len(problems) > _SHOWN else ""
        raise ModelError(f"checkpoint {source} does not fit the model ({type(model).__name__}): "
                         f"{'; '.join(problems[:_SHOWN])}{more}")
    model.load_state_dict(state)
    return model


def check_load_type(load_type: str | None) -> None:
    """Refuse a ``load_type`` other than None (guess from the file) and the ``LOAD_TYPES``."""
    if load_type is not None and load_type not in LOAD_TYPES:
        raise ModelError(f"load_type '{load_type}' is not one of {', '.join(LOAD_TYPES)}")


def load_model(load_name: str | Path, load_type: str | None = None, model: Any = None) -> Any:
    """Return ``model`` with the checkpoint's weights (``pl``/``pt``), or the saved module (``mz``).

    Works on CPU-only machines: everything is mapped to the CPU. For ``mz`` a given ``model`` must
    have the saved graph's parameters (names and shapes); it carries over its ``input_shape`` when
    the saved graph lacks one. ``model=None`` with ``mz`` returns the saved graph as it is.
    """
    from torch import nn

    path = Path(load_name)
    check_load_type(load_type)
    if path.is_dir():
        raise ModelError(directory_message(path, load_type))
    if not path.is_file():
        raise ModelError(f"checkpoint {path} does not exist")
    content = _read(path, trusted_objects=(load_type or SUFFIX_TYPES.get(path.suffix)) == "mz")
    kind = load_type or infer_load_type(path, content)
    if kind == "mz":
        if not isinstance(content, nn.Module):
            raise ModelError(f"{path} holds a {type(content).__name__}, not a saved graph module; "
                             "use --load-type pl or pt")
        if model is not None:
            _check_same_architecture(content, model, path)
            from chop.models.input_shape import declared_input_shape

            shape = declared_input_shape(model)
            if declared_input_shape(content) is None and shape is not None:
                content.input_shape = shape
        return content
    if model is None:
        raise ModelError(f"loading {path} as '{kind}' needs the model to load the weights into")
    if kind == "pl":
        if not isinstance(content, Mapping) or "state_dict" not in content:
            raise ModelError(f"{path} is not a Lightning checkpoint (no 'state_dict' key); try --load-type pt")
        state = _strip_prefix(content["state_dict"])
    else:
        if isinstance(content, nn.Module):
            raise ModelError(f"{path} holds a whole module, not a state_dict; use --load-type mz")
        if not isinstance(content, Mapping):
            raise ModelError(f"{path} is not a state_dict (found {type(content).__name__})")
        state = _strip_prefix(content.get("state_dict", content))
    return load_state_into(model, state, path)
