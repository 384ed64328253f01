"""Build the MaseGraph a command works on: a registered model or ``FILE.py:Class``, optionally with weights.

Checkpoint types follow lab-api §1: ``pt`` (state dict), ``pl`` (Lightning-style ``.ckpt``) and
``mz`` (a saved graph); without ``load_type`` a directory or a ``.mz`` file is a saved graph and
anything else is left to ``chop.tools.checkpoint_load.load_model`` to recognise.
"""

from __future__ import annotations

from pathlib import Path

from chop.ir.graph.mase_graph import MaseGraph
from chop.passes.graph.interface.load_mase_graph import load_graph_module


def build_mase_graph(spec: str, load_name: str | None = None, load_type: str | None = None) -> MaseGraph:
    """Trace ``spec`` (weights from ``load_name`` if given); an ``mz`` checkpoint is the graph itself.

    The graph always knows its input shape: one the model declares, else the flat feature vector
    (``chop.models.input_shape``), so the metadata passes can make their own dummy batch.
    """
    from chop.models import build_model, with_checkpoint
    from chop.models.input_shape import declared_input_shape, input_shape_of
    from chop.tools.checkpoint_load import check_load_type

    check_load_type(load_type)
    model = build_model(spec)
    if load_name is not None and (load_type == "mz" or Path(load_name).is_dir() or Path(load_name).suffix == ".mz"):
        module = load_graph_module(load_name)
    else:
        module = model if load_name is None else with_checkpoint(model, str(load_name), load_type)
    graph = MaseGraph(module)
    if declared_input_shape(graph.model) is None:
        graph.model.input_shape = input_shape_of(model)
    return graph
