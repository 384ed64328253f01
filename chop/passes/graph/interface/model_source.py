"""Build the MaseGraph a command works on: a registered model or ``FILE.py:Class``, optionally with weights.

Checkpoint types follow lab-api §1: ``pt`` (state dict), ``pl`` (Lightning-style ``.ckpt``) and
``mz`` (a saved graph); without ``load_type`` a directory or a ``.mz`` file is a saved graph and
anything else is left to ``chop.tools.checkpoint_load.load_model`` to recognise.
"""

from __future__ import annotations

from pathlib import Path

from torch import nn

from chop.errors import ModelError
from chop.ir.graph.mase_graph import MaseGraph
from chop.passes.graph.interface.load_mase_graph import load_graph_module

LOAD_TYPES = ("pt", "pl", "mz")


def build_model(spec: str) -> nn.Module:
    """A registered model name, or ``FILE.py:ClassName`` for a user's model."""
    from chop.models import build_model_from_file, get_model

    return build_model_from_file(spec) if ":" in spec and spec.split(":", 1)[0].endswith(".py") else get_model(spec)


def build_mase_graph(spec: str, load_name: str | None = None, load_type: str | None = None) -> MaseGraph:
    """Trace ``spec`` (weights from ``load_name`` if given); an ``mz`` checkpoint is the graph itself."""
    model = build_model(spec)
    if load_name is None:
        return MaseGraph(model)
    if load_type is not None and load_type not in LOAD_TYPES:
        raise ModelError(f"unknown load type '{load_type}'; choose pt, pl or mz")
    if load_type == "mz" or Path(load_name).is_dir() or Path(load_name).suffix == ".mz":
        module = load_graph_module(load_name)
        if not hasattr(module, "input_shape") and hasattr(model, "input_shape"):
            module.input_shape = tuple(model.input_shape)
        return MaseGraph(module)
    from chop.tools.checkpoint_load import load_model

    return MaseGraph(load_model(load_name=str(load_name), load_type=load_type, model=model))
