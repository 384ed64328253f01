"""``prepare_hardware_transform_pass``: a quantised MaseGraph to a new graph of fixed-point hardware twins.

The library (:mod:`chop.hardware.prepare`) does the work and documents the rules; this pass checks
the options, gives the prepared graph its metadata (common, then MASE's hardware fields with the
twins' exact formats) and returns it with ``info``: the input format, the batch norms folded
(``{"batch_norm", "into", "side"}``), those that became affine ops, the convs lowered to linear layers
(``{"node", "op", "matrix"}``: the matrix's rows and columns), and per prepared node its
kind, its source nodes and every operand's format with where it came from (a quantisation entry,
a consumer's ``data_in`` entry, the ``input_format`` option, or derived).
"""

from __future__ import annotations

from typing import Any

from chop.errors import PassError
from chop.hardware.fixed import FixedFormat
from chop.hardware.prepare import prepare
from chop.ir.graph.mase_graph import MaseGraph
from chop.passes.graph.pass_args import check_pass_args
from chop.passes.graph.pass_result import PassResult
from chop.passes.graph.transforms.hardware.graph_metadata import dummy_sample, with_metadata
from chop.tools.options import Option, Options

PASS = "prepare_hardware_transform_pass"
OPTIONS = Options(Option("input_format", (list, tuple)), Option("fold_batchnorm", bool, default=True))


def input_format_option(value: Any) -> FixedFormat | None:
    """``[width, frac]`` or ``[width, frac, signed]`` (signed: true/false or 1/0) as a format."""
    if value is None:
        return None
    items = list(value)
    numbers = items[:2]
    signed = items[2] if len(items) == 3 else True
    if (len(items) not in (2, 3) or any(isinstance(n, bool) or not isinstance(n, int) for n in numbers)
            or signed not in (True, False, 0, 1)):
        raise PassError(f"{PASS}: input_format = {value!r}: expected [width, frac] or [width, frac, signed]")
    return FixedFormat(numbers[0], numbers[1], bool(signed))


def prepare_hardware_transform_pass(graph: MaseGraph, pass_args: dict[str, Any] | None = None) -> PassResult:
    """``PassResult(prepared, info)``: ``graph`` is left as it was.

    Options: ``input_format`` (default: the ``data_in`` format of the input's consumers),
    ``fold_batchnorm`` (default True: merge batch norms into a neighbouring linear where the graph
    allows; False: every batch norm becomes a fixed-point affine op).
    """
    args = check_pass_args(PASS, pass_args, OPTIONS)
    preparation = prepare(graph.model, input_format_option(args["input_format"]), bool(args["fold_batchnorm"]))
    prepared = with_metadata(preparation.module, dummy_sample(PASS, graph), hardware=True)
    return PassResult(prepared, preparation.info)
