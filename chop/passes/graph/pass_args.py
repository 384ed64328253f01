"""Checking pass arguments: every pass takes ``(graph, pass_args=None)`` and rejects unknown keys.

MASE's passes read the keys they need and ignore the rest, so MASE code passes keys that a pass
never uses (its tests hand ``{"dummy_in": ...}`` to every metadata pass). machop accepts exactly
the keys a pass uses plus, per pass, a declared set of keys MASE's version accepts or ignores
(``ignored``): those are dropped with a one-line warning. Any other key is a typo until proven
otherwise, and is an error that names the closest known key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from chop.errors import PassError, did_you_mean
from chop.tools.logger import get_logger

logger = get_logger(__name__)

COMMON_METADATA_KEYS: Mapping[str, str] = {
    "dummy_in": "only add_common_metadata_analysis_pass runs the dummy input",
    "add_value": "only add_common_metadata_analysis_pass stores tensor values",
    "force_device_meta": "machop runs the dummy input on the CPU",
}
"""Keys of ``add_common_metadata_analysis_pass`` that MASE code also hands to the passes after it."""


def check_pass_args(pass_name: str, pass_args: Mapping[str, Any] | None, known: Iterable[str],
                    ignored: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A copy of ``pass_args`` (``{}`` for None) without the ``ignored`` keys; an unknown key is an error.

    ``ignored`` maps each key MASE's version of the pass accepts but machop does not use to the
    reason, which the one-line warning gives.
    """
    if pass_args is None:
        return {}
    if not isinstance(pass_args, Mapping):
        raise PassError(f"{pass_name}: pass_args must be a dict, got {type(pass_args).__name__}")
    known = list(known)
    ignored = dict(ignored or {})
    for key in pass_args:
        if key in ignored:
            logger.warning("%s: ignoring pass argument '%s' (%s)", pass_name, key, ignored[key])
        elif key not in known:
            raise PassError(f"{pass_name}: unknown argument '{key}'{did_you_mean(str(key), [*known, *ignored])}; "
                            f"known: {', '.join(known) or 'none'}"
                            + (f" (accepted and ignored: {', '.join(ignored)})" if ignored else ""))
    return {key: value for key, value in pass_args.items() if key not in ignored}


def require_metadata(pass_name: str, graph: Any, common: bool = True) -> None:
    """Passes that read metadata need the metadata passes first; say which, instead of a KeyError."""
    for node in graph.fx_graph.nodes:
        if "mase" not in node.meta:
            raise PassError(f"{pass_name}: node '{node.name}' has no metadata; run init_metadata_analysis_pass "
                            "and add_common_metadata_analysis_pass first")
        if common and node.meta["mase"]["common"]["mase_op"] is None:
            raise PassError(f"{pass_name}: node '{node.name}' has no common metadata; "
                            "run add_common_metadata_analysis_pass first")
