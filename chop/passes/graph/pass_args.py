"""Checking pass arguments: every pass takes ``(graph, pass_args=None)`` and declares the options it reads.

MASE's passes read the keys they need and ignore the rest, so MASE code passes keys that a pass
never uses (its tests hand ``{"dummy_in": ...}`` to every metadata pass). machop accepts exactly
the options a pass declares (``chop.tools.options``); options MASE's version accepts but machop
does not use are declared with the reason and dropped with a one-line warning. Any other key is a
typo until proven otherwise, and is an error that names the closest known key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chop.errors import PassError
from chop.tools.logger import get_logger
from chop.tools.options import Option, Options, Wording

logger = get_logger(__name__)

PASS_ARGUMENTS = Wording(
    error=PassError, logger=logger,
    unknown="{where}: unknown argument '{key}'{hint}; known: {known}{ignored_note}",
    ignored="{where}: ignoring pass argument '{key}' ({reason})",
    wrong_type="{where}: pass argument '{key}' = {value}: expected {expected}",
)
"""The messages of pass arguments, e.g. ``count_ops_analysis_pass: unknown argument 'verbos' ...``."""

FORCE_DEVICE_META = Option("force_device_meta", ignored="machop runs the dummy input on the CPU")
"""MASE's switch for running ``add_common_metadata_analysis_pass``'s dummy input on the meta device."""

COMMON_METADATA_OPTIONS = Options(
    Option("dummy_in", ignored="only add_common_metadata_analysis_pass runs the dummy input"),
    Option("add_value", ignored="only add_common_metadata_analysis_pass stores tensor values"),
    FORCE_DEVICE_META,
)
"""Options of ``add_common_metadata_analysis_pass`` that MASE code also hands to the passes after it."""


def check_pass_args(pass_name: str, pass_args: Mapping[str, Any] | None, options: Options) -> dict[str, Any]:
    """Every used option of ``options``: its value in ``pass_args``, else its default.

    Ignored options are dropped with a warning; an unknown key or a wrong type is a ``PassError``.
    """
    if pass_args is None:
        pass_args = {}
    if not isinstance(pass_args, Mapping):
        raise PassError(f"{pass_name}: pass_args must be a dict, got {type(pass_args).__name__}")
    return options.parse(pass_args, pass_name, PASS_ARGUMENTS)


def require_metadata(pass_name: str, graph: Any, common: bool = True) -> None:
    """Passes that read metadata need the metadata passes first; say which, instead of a KeyError."""
    for node in graph.fx_graph.nodes:
        if "mase" not in node.meta:
            raise PassError(f"{pass_name}: node '{node.name}' has no metadata; run init_metadata_analysis_pass "
                            "and add_common_metadata_analysis_pass first")
        if common and node.meta["mase"]["common"]["mase_op"] is None:
            raise PassError(f"{pass_name}: node '{node.name}' has no common metadata; "
                            "run add_common_metadata_analysis_pass first")
