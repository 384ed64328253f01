"""A model's layer table (leaf modules, output shapes from one dummy batch) and parameter count."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from chop.models.builder import model_builder
from chop.models.input_shape import input_shape_of


@dataclass(frozen=True)
class LayerRow:
    name: str
    kind: str
    output_shape: tuple[int, ...]
    parameters: int


@dataclass(frozen=True)
class ModelSummary:
    name: str
    input_shape: tuple[int, ...]
    layers: tuple[LayerRow, ...]
    trainable_parameters: int

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "input_shape": list(self.input_shape),
                "trainable_parameters": self.trainable_parameters,
                "layers": [{"name": r.name, "type": r.kind, "output_shape": list(r.output_shape),
                            "parameters": r.parameters} for r in self.layers]}


def trainable_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def summarize(name: str | None, model_file: str | None = None, batch: int = 2) -> ModelSummary:
    """Build the model, run a dummy batch in eval mode and record each leaf module's output shape."""
    model = model_builder(name, model_file)()
    shape = input_shape_of(model)
    shapes: dict[str, tuple[int, ...]] = {}
    leaves = [(n, m) for n, m in model.named_modules() if n and not list(m.children())]

    def recorder(layer: str):
        def hook(_module: nn.Module, _inputs: Any, output: torch.Tensor) -> None:
            shapes.setdefault(layer, tuple(output.shape[1:]))
        return hook

    hooks = [m.register_forward_hook(recorder(n)) for n, m in leaves]
    try:
        with torch.no_grad():
            model.eval()(torch.zeros(batch, *shape))
    finally:
        for hook in hooks:
            hook.remove()
    rows = tuple(LayerRow(n, type(m).__name__, shapes.get(n, ()), sum(p.numel() for p in m.parameters()))
                 for n, m in leaves)
    return ModelSummary(name or model_file or "", shape, rows, trainable_parameters(model))
