"""``save_node_meta_param_interface_pass`` / ``load_node_meta_param_interface_pass``: node metadata as TOML.

One table per node (``[seq_blocks_2.common.args.weight]``...), with MASE's conventions: None is
written ``"NA"``, dtypes as ``"torch.float32"``; tensor values become nested lists and come back
as tensors of the recorded dtype.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from chop.errors import PassError
from chop.ir.graph.mase_graph import MaseGraph
from chop.passes.graph.interface.meta_codec import collect, from_toml_data, restore, to_toml_data
from chop.passes.graph.pass_args import check_pass_args, require_metadata
from chop.passes.graph.pass_result import PassResult
from chop.tools.atomic import atomic_write_text
from chop.tools.options import Option, Options


def _path_argument(name: str, pass_args: Any, key: str, default: str | None) -> Path:
    """MASE notebooks pass the path itself or ``{key: path}``."""
    if isinstance(pass_args, (str, Path)):
        return Path(pass_args)
    value = check_pass_args(name, pass_args, Options(Option(key, default=default)))[key]
    if not value:
        raise PassError(f"{name} needs pass_args['{key}'] (a .toml path)")
    return Path(value)


def save_node_meta_param_interface_pass(graph: MaseGraph, pass_args: Any = None) -> PassResult:
    """Write every node's metadata to ``save_path`` (default ``node_meta_param.toml``)."""
    path = _path_argument("save_node_meta_param_interface_pass", pass_args, "save_path", "node_meta_param.toml")
    require_metadata("save_node_meta_param_interface_pass", graph, common=False)
    atomic_write_text(path, tomli_w.dumps(to_toml_data(collect(graph))))
    return PassResult(graph, {"save_path": str(path)})


def load_node_meta_param_interface_pass(graph: MaseGraph, pass_args: Any = None) -> PassResult:
    """Replace every node's metadata with the tables of ``load_path`` (node names must match)."""
    path = _path_argument("load_node_meta_param_interface_pass", pass_args, "load_path", None)
    try:
        data = tomllib.loads(path.read_text())
    except OSError as error:
        raise PassError(f"cannot read {path}: {error.strerror or error}") from None
    except tomllib.TOMLDecodeError as error:
        raise PassError(f"{path} is not valid TOML: {error}") from None
    restore(graph, from_toml_data(data), str(path))
    return PassResult(graph, {"load_path": str(path)})
