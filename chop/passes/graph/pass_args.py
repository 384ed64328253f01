"""Checking pass arguments: every pass takes ``(graph, pass_args=None)`` and rejects unknown keys."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from chop.errors import PassError, did_you_mean


def check_pass_args(pass_name: str, pass_args: Mapping[str, Any] | None, known: Iterable[str]) -> dict[str, Any]:
    """A copy of ``pass_args`` (``{}`` for None); an unknown key is an error naming the known ones."""
    if pass_args is None:
        return {}
    if not isinstance(pass_args, Mapping):
        raise PassError(f"{pass_name}: pass_args must be a dict, got {type(pass_args).__name__}")
    known = list(known)
    for key in pass_args:
        if key not in known:
            raise PassError(f"{pass_name}: unknown argument '{key}'{did_you_mean(str(key), known)}; "
                            f"known: {', '.join(known)}")
    return dict(pass_args)


def require_metadata(pass_name: str, graph: Any, common: bool = True) -> None:
    """Passes that read metadata need the metadata passes first; say which, instead of a KeyError."""
    for node in graph.fx_graph.nodes:
        if "mase" not in node.meta:
            raise PassError(f"{pass_name}: node '{node.name}' has no metadata; run init_metadata_analysis_pass "
                            "and add_common_metadata_analysis_pass first")
        if common and node.meta["mase"]["common"]["mase_op"] is None:
            raise PassError(f"{pass_name}: node '{node.name}' has no common metadata; "
                            "run add_common_metadata_analysis_pass first")
