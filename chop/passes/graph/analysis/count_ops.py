"""``count_ops_analysis_pass``: per-sample FLOPs, MACs, parameter bits and BitOPs of every node.

Definitions (per input sample; the batch axis of the metadata shapes is divided out):
- linear / conv: MACs = output elements × (inputs per output: fan-in of the weight); FLOPs = 2 × MACs.
- matmul / mm / bmm: MACs = output elements × the shared dimension; FLOPs = 2 × MACs.
- batch norm (inference: one scale and shift per element): MACs = elements; FLOPs = 2 × elements.
- element-wise ops (activations, add, sub, mul, div, neg, ...): FLOPs = output elements.
- softmax / log_softmax: FLOPs = 3 × elements (exp, sum, divide); pooling: FLOPs = input elements.
- shape plumbing, placeholders, constants and the output: 0.
BitOPs = MACs × data_in_0 bits × weight bits (for a product of two activations, × data_in_1 bits),
read from ``common.args[...]["precision"][0]``, so quantising a node changes its BitOPs.
Parameter bits = Σ parameter elements × their width.
"""

from __future__ import annotations

from typing import Any

from tabulate import tabulate

from chop.ir.graph.mase_graph import MaseGraph
from chop.ir.graph.mase_metadata import CostMeta, TensorMeta
from chop.passes.graph.pass_args import check_pass_args, require_metadata
from chop.passes.graph.pass_result import PassResult
from chop.tools.atomic import atomic_write_text
from chop.tools.options import Option, Options

MAC_OPS = {"linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d"}
MATMUL_OPS = {"matmul", "mm", "bmm"}
NORM_OPS = {"batch_norm", "batch_norm1d", "batch_norm2d", "batch_norm3d"}
ELEMENTWISE_OPS = {"relu", "relu6", "leaky_relu", "hardtanh", "hardswish", "hardsigmoid", "gelu", "silu", "elu",
                   "sigmoid", "tanh", "softplus", "softsign", "add", "sub", "mul", "div", "neg", "pow", "exp",
                   "log", "sqrt", "abs", "clamp", "where", "floordiv"}
SOFTMAX_OPS = {"softmax", "log_softmax"}
POOL_OPS = {"max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
            "adaptive_max_pool1d", "adaptive_max_pool2d", "mean", "sum"}
COLUMNS = ("flops", "macs", "param_bits", "bitops")


def _numel(shape: list[int]) -> int:
    out = 1
    for size in shape:
        out *= int(size)
    return out


def _per_sample(entry: TensorMeta | None) -> int:
    """Elements of one sample of a batched tensor (the first axis is the batch)."""
    if entry is None or not entry.shape:
        return 0
    return _numel(entry.shape[1:]) if len(entry.shape) > 1 else 1


def _bits(entry: Any) -> int:
    if isinstance(entry, TensorMeta) and entry.precision:
        return int(entry.precision[0])
    return 0


def node_cost(common: Any) -> CostMeta:
    """The cost of one node from its common metadata (see the module docstring for the rules)."""
    op = common.mase_op
    args, results = common.args, common.results
    data_in = args.get("data_in_0")
    data_out = results.get("data_out_0")
    weight = args.get("weight")
    out_elems = _per_sample(data_out) if isinstance(data_out, TensorMeta) else 0
    in_bits, weight_bits = _bits(data_in), 0
    macs = flops = 0
    if op in MAC_OPS and isinstance(weight, TensorMeta):
        macs = out_elems * _numel(weight.shape[1:])
        flops = 2 * macs
        weight_bits = _bits(weight)
    elif op in MATMUL_OPS and isinstance(data_in, TensorMeta) and data_in.shape:
        macs = out_elems * int(data_in.shape[-1])
        flops = 2 * macs
        weight_bits = _bits(args.get("data_in_1"))
    elif op in NORM_OPS:
        macs, flops = out_elems, 2 * out_elems
        weight_bits = _bits(weight) if isinstance(weight, TensorMeta) else in_bits
    elif op in ELEMENTWISE_OPS:
        flops = out_elems
    elif op in SOFTMAX_OPS:
        flops = 3 * out_elems
    elif op in POOL_OPS:
        flops = _per_sample(data_in) if isinstance(data_in, TensorMeta) else 0
    param_bits = sum(_numel(e.shape) * _bits(e) for e in args.values() if isinstance(e, TensorMeta) and e.is_parameter)
    return CostMeta(flops=flops, macs=macs, bitops=macs * in_bits * weight_bits, param_bits=param_bits,
                    data_in_bits=in_bits if macs else 0, weight_bits=weight_bits if macs else 0)


OPTIONS = Options(Option("save_path"), Option("verbose", default=True))


def count_ops_analysis_pass(graph: MaseGraph, pass_args: dict[str, Any] | None = None) -> PassResult:
    """Store each node's cost in ``software["cost"]``; print the table (``verbose``, default True) and
    write it to ``save_path`` if given. ``info``: ``{"nodes": {name: cost}, "total": {...}, "table": text}``."""
    args = check_pass_args("count_ops_analysis_pass", pass_args, OPTIONS)
    require_metadata("count_ops_analysis_pass", graph)
    nodes: dict[str, dict[str, int]] = {}
    rows = []
    total = dict.fromkeys(COLUMNS, 0)
    for node in graph.fx_graph.nodes:
        parameters = node.meta["mase"].parameters
        cost = node_cost(parameters.common)
        parameters.software.cost = cost
        nodes[node.name] = cost.to_plain()
        for column in COLUMNS:
            total[column] += cost[column]
        rows.append([node.name, parameters.common.mase_op, f"{cost.flops:,}", f"{cost.macs:,}",
                     f"{cost.param_bits:,}", cost.data_in_bits or "", cost.weight_bits or "", f"{cost.bitops:,}"])
    rows.append(["total", "", f"{total['flops']:,}", f"{total['macs']:,}", f"{total['param_bits']:,}", "", "",
                 f"{total['bitops']:,}"])
    headers = ["Node name", "Mase op", "FLOPs", "MACs", "Param bits", "In bits", "W bits", "BitOPs"]
    table = tabulate(rows, headers=headers, tablefmt="grid", disable_numparse=True)
    if args["verbose"]:
        print(table)
    if args["save_path"]:
        atomic_write_text(args["save_path"], table + "\n")
    return PassResult(graph, {"nodes": nodes, "total": total, "table": table})
