"""Node metadata to and from plain data: pickle-friendly dicts (``.mz``) and TOML-friendly dicts."""

from __future__ import annotations

from typing import Any

import torch

from chop.errors import PassError
from chop.ir.graph.mase_graph import MaseGraph
from chop.ir.graph.mase_metadata import MaseMetadata, Parameters

NA = "NA"  # MASE's spelling of None in TOML files


def collect(graph: MaseGraph) -> dict[str, dict[str, Any]]:
    """``{node name: {"common": ..., "software": ..., "hardware": ...}}`` for nodes with metadata."""
    return {node.name: node.meta["mase"].parameters.to_plain() for node in graph.fx_graph.nodes if "mase" in node.meta}


def restore(graph: MaseGraph, metadata: dict[str, dict[str, Any]], source: str) -> None:
    """Put collected metadata back on the nodes of the same names; names must match exactly."""
    names = [node.name for node in graph.fx_graph.nodes]
    missing, extra = sorted(set(names) - set(metadata)), sorted(set(metadata) - set(names))
    if extra or (missing and metadata):
        raise PassError(f"{source} does not fit the graph: nodes only in the file: {', '.join(extra) or 'none'}; "
                        f"nodes only in the graph: {', '.join(missing) or 'none'}")
    for node in graph.fx_graph.nodes:
        if node.name in metadata:
            node.meta["mase"] = MaseMetadata(node, graph.model, Parameters.from_plain(metadata[node.name]))


def to_toml_data(value: Any) -> Any:
    """None → "NA", dtypes → "torch.float32", tensors → nested lists, tuples → lists, other objects → repr."""
    if value is None:
        return NA
    if isinstance(value, torch.dtype):
        return str(value)
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().tolist()
    if isinstance(value, dict):
        return {str(k): to_toml_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, torch.Size)):
        return [to_toml_data(v) for v in value]
    if isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def _dtype(text: Any) -> Any:
    if isinstance(text, str) and text.startswith("torch."):
        dtype = getattr(torch, text.removeprefix("torch."), None)
        if isinstance(dtype, torch.dtype):
            return dtype
    return text


def from_toml_data(value: Any) -> Any:
    """Inverse of ``to_toml_data`` for metadata: "NA" → None, dtype names → dtypes, values → tensors."""
    if value == NA:
        return None
    if isinstance(value, list):
        return [from_toml_data(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {k: from_toml_data(v) for k, v in value.items()}
    if "torch_dtype" in out:
        out["torch_dtype"] = _dtype(out["torch_dtype"])
        if isinstance(out.get("value"), list) and isinstance(out["torch_dtype"], torch.dtype):
            out["value"] = torch.tensor(out["value"], dtype=out["torch_dtype"])
        elif isinstance(out.get("value"), (int, float)) and isinstance(out["torch_dtype"], torch.dtype):
            out["value"] = torch.tensor(out["value"], dtype=out["torch_dtype"])
    return out
