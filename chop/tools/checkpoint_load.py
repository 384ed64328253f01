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

LOAD_TYPES = ("pl", "pt", "mz")
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


def load_state_into(model: Any, state: Mapping[str, Any], source: Path) -> Any:
    """Load ``state`` into ``model`` strictly, or raise naming the tensors that do not fit."""
    problems = mismatches(model, state)
    if problems:
        more = f" and {len(problems) - _SHOWN} more" if len(problems) > _SHOWN else ""
        raise ModelError(f"checkpoint {source} does not fit the model ({type(model).__name__}): "
                         f"{'; '.join(problems[:_SHOWN])}{more}")
    model.load_state_dict(state)
    return model


def load_model(load_name: str | Path, load_type: str | None = None, model: Any = None) -> Any:
    """Return ``model`` with the checkpoint's weights (``pl``/``pt``), or the saved module (``mz``).

    Works on CPU-only machines: everything is mapped to the CPU. For ``mz`` the given ``model``
    is only used to carry over its ``input_shape`` when the saved graph lacks one.
    """
    from torch import nn

    path = Path(load_name)
    if not path.is_file():
        raise ModelError(f"checkpoint {path} does not exist")
    if load_type is not None and load_type not in LOAD_TYPES:
        raise ModelError(f"load_type '{load_type}' is not one of {', '.join(LOAD_TYPES)}")
    content = _read(path, trusted_objects=(load_type or SUFFIX_TYPES.get(path.suffix)) == "mz")
    kind = load_type or infer_load_type(path, content)
    if kind == "mz":
        if not isinstance(content, nn.Module):
            raise ModelError(f"{path} holds a {type(content).__name__}, not a saved graph module; "
                             "use --load-type pl or pt")
        if model is not None and not hasattr(content, "input_shape") and hasattr(model, "input_shape"):
            content.input_shape = tuple(model.input_shape)
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
