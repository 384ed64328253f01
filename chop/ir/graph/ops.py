"""What each fx node is, in MASE's words: ``(mase_type, mase_op)``, as lookup tables.

``mase_type`` is one of ``module_related_func`` (nn.functional ops and their nn.Module forms),
``module`` (modules without a functional twin, e.g. batch norm), ``builtin_func`` (torch ops such
as add, matmul, cat), ``implicit_func`` (shape plumbing: view, size, getitem, ...),
``placeholder``, ``get_attr`` and ``output``. Unknown modules, functions and methods are still
classified (``module`` / ``builtin_func`` with their own name) so user models never fail here.
"""

from __future__ import annotations

import inspect
import operator
import re
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx, nn

MODULE_RELATED = "module_related_func"
MODULE = "module"
BUILTIN = "builtin_func"
IMPLICIT = "implicit_func"

# Order matters: subclasses before their bases (isinstance is used, so quantised twins such as a
# LinearInteger subclassing nn.Linear keep the op of their base).
MODULE_OPS: list[tuple[type[nn.Module], str, str]] = [
    (nn.Linear, MODULE_RELATED, "linear"),
    (nn.Conv1d, MODULE_RELATED, "conv1d"),
    (nn.Conv2d, MODULE_RELATED, "conv2d"),
    (nn.Conv3d, MODULE_RELATED, "conv3d"),
    (nn.ConvTranspose1d, MODULE_RELATED, "conv_transpose1d"),
    (nn.ConvTranspose2d, MODULE_RELATED, "conv_transpose2d"),
    (nn.ReLU6, MODULE_RELATED, "relu6"),
    (nn.ReLU, MODULE_RELATED, "relu"),
    (nn.LeakyReLU, MODULE_RELATED, "leaky_relu"),
    (nn.Hardtanh, MODULE_RELATED, "hardtanh"),
    (nn.Hardswish, MODULE_RELATED, "hardswish"),
    (nn.Hardsigmoid, MODULE_RELATED, "hardsigmoid"),
    (nn.GELU, MODULE_RELATED, "gelu"),
    (nn.SiLU, MODULE_RELATED, "silu"),
    (nn.ELU, MODULE_RELATED, "elu"),
    (nn.Sigmoid, MODULE_RELATED, "sigmoid"),
    (nn.Tanh, MODULE_RELATED, "tanh"),
    (nn.Softmax, MODULE_RELATED, "softmax"),
    (nn.LogSoftmax, MODULE_RELATED, "log_softmax"),
    (nn.Softplus, MODULE_RELATED, "softplus"),
    (nn.Softsign, MODULE_RELATED, "softsign"),
    (nn.MaxPool1d, MODULE_RELATED, "max_pool1d"),
    (nn.MaxPool2d, MODULE_RELATED, "max_pool2d"),
    (nn.AvgPool1d, MODULE_RELATED, "avg_pool1d"),
    (nn.AvgPool2d, MODULE_RELATED, "avg_pool2d"),
    (nn.AdaptiveAvgPool1d, MODULE_RELATED, "adaptive_avg_pool1d"),
    (nn.AdaptiveAvgPool2d, MODULE_RELATED, "adaptive_avg_pool2d"),
    (nn.AdaptiveMaxPool1d, MODULE_RELATED, "adaptive_max_pool1d"),
    (nn.AdaptiveMaxPool2d, MODULE_RELATED, "adaptive_max_pool2d"),
    (nn.Dropout, MODULE_RELATED, "dropout"),
    (nn.Embedding, MODULE_RELATED, "embedding"),
    (nn.BatchNorm1d, MODULE, "batch_norm1d"),
    (nn.BatchNorm2d, MODULE, "batch_norm2d"),
    (nn.BatchNorm3d, MODULE, "batch_norm3d"),
    (nn.LayerNorm, MODULE, "layer_norm"),
    (nn.GroupNorm, MODULE, "group_norm"),
    (nn.InstanceNorm1d, MODULE, "instance_norm1d"),
    (nn.InstanceNorm2d, MODULE, "instance_norm2d"),
    (nn.Flatten, IMPLICIT, "flatten"),
    (nn.Identity, IMPLICIT, "identity"),
]

FUNCTION_OPS: dict[Callable[..., Any], tuple[str, str]] = {
    # torch.nn.functional ops (and their torch.* aliases)
    F.linear: (MODULE_RELATED, "linear"),
    F.conv1d: (MODULE_RELATED, "conv1d"),
    F.conv2d: (MODULE_RELATED, "conv2d"),
    F.relu: (MODULE_RELATED, "relu"),
    torch.relu: (MODULE_RELATED, "relu"),
    F.relu6: (MODULE_RELATED, "relu6"),
    F.leaky_relu: (MODULE_RELATED, "leaky_relu"),
    F.hardtanh: (MODULE_RELATED, "hardtanh"),
    F.hardswish: (MODULE_RELATED, "hardswish"),
    F.hardsigmoid: (MODULE_RELATED, "hardsigmoid"),
    F.gelu: (MODULE_RELATED, "gelu"),
    F.silu: (MODULE_RELATED, "silu"),
    F.elu: (MODULE_RELATED, "elu"),
    F.sigmoid: (MODULE_RELATED, "sigmoid"),
    torch.sigmoid: (MODULE_RELATED, "sigmoid"),
    F.tanh: (MODULE_RELATED, "tanh"),
    torch.tanh: (MODULE_RELATED, "tanh"),
    F.softmax: (MODULE_RELATED, "softmax"),
    torch.softmax: (MODULE_RELATED, "softmax"),
    F.log_softmax: (MODULE_RELATED, "log_softmax"),
    F.softplus: (MODULE_RELATED, "softplus"),
    F.max_pool1d: (MODULE_RELATED, "max_pool1d"),
    F.max_pool2d: (MODULE_RELATED, "max_pool2d"),
    F.avg_pool1d: (MODULE_RELATED, "avg_pool1d"),
    F.avg_pool2d: (MODULE_RELATED, "avg_pool2d"),
    F.adaptive_avg_pool1d: (MODULE_RELATED, "adaptive_avg_pool1d"),
    F.adaptive_avg_pool2d: (MODULE_RELATED, "adaptive_avg_pool2d"),
    F.dropout: (MODULE_RELATED, "dropout"),
    F.batch_norm: (MODULE_RELATED, "batch_norm"),
    F.layer_norm: (MODULE_RELATED, "layer_norm"),
    F.embedding: (MODULE_RELATED, "embedding"),
    # arithmetic and tensor ops
    operator.add: (BUILTIN, "add"),
    torch.add: (BUILTIN, "add"),
    operator.sub: (BUILTIN, "sub"),
    torch.sub: (BUILTIN, "sub"),
    operator.mul: (BUILTIN, "mul"),
    torch.mul: (BUILTIN, "mul"),
    operator.truediv: (BUILTIN, "div"),
    torch.div: (BUILTIN, "div"),
    operator.floordiv: (BUILTIN, "floordiv"),
    operator.neg: (BUILTIN, "neg"),
    torch.neg: (BUILTIN, "neg"),
    operator.pow: (BUILTIN, "pow"),
    torch.pow: (BUILTIN, "pow"),
    operator.matmul: (BUILTIN, "matmul"),
    torch.matmul: (BUILTIN, "matmul"),
    torch.mm: (BUILTIN, "mm"),
    torch.bmm: (BUILTIN, "bmm"),
    torch.cat: (BUILTIN, "cat"),
    torch.concat: (BUILTIN, "cat"),
    torch.stack: (BUILTIN, "stack"),
    torch.mean: (BUILTIN, "mean"),
    torch.sum: (BUILTIN, "sum"),
    torch.max: (BUILTIN, "max"),
    torch.min: (BUILTIN, "min"),
    torch.exp: (BUILTIN, "exp"),
    torch.log: (BUILTIN, "log"),
    torch.sqrt: (BUILTIN, "sqrt"),
    torch.abs: (BUILTIN, "abs"),
    torch.clamp: (BUILTIN, "clamp"),
    torch.where: (BUILTIN, "where"),
    # shape plumbing
    operator.getitem: (IMPLICIT, "getitem"),
    getattr: (IMPLICIT, "getattr"),
    torch.flatten: (IMPLICIT, "flatten"),
    torch.reshape: (IMPLICIT, "reshape"),
    torch.transpose: (IMPLICIT, "transpose"),
    torch.permute: (IMPLICIT, "permute"),
    torch.squeeze: (IMPLICIT, "squeeze"),
    torch.unsqueeze: (IMPLICIT, "unsqueeze"),
    torch.split: (IMPLICIT, "split"),
    torch.chunk: (IMPLICIT, "chunk"),
}

METHOD_OPS: dict[str, tuple[str, str]] = {
    **{name: (IMPLICIT, name) for name in (
        "view", "reshape", "size", "flatten", "transpose", "permute", "contiguous", "squeeze",
        "unsqueeze", "expand", "expand_as", "repeat", "type", "to", "float", "dim", "chunk", "split", "t",
        "view_as", "reshape_as", "detach", "clone")},
    **{name: (BUILTIN, name) for name in (
        "add", "sub", "mul", "div", "matmul", "bmm", "mean", "sum", "max", "min", "pow", "exp", "log",
        "sqrt", "abs", "neg", "clamp")},
    **{name: (MODULE_RELATED, name) for name in ("relu", "sigmoid", "tanh", "softmax", "log_softmax")},
}

# Names of positional arguments where Python cannot tell them (C builtins and tensor methods).
# A leading "*" collects the remaining positional arguments into one list (``x.view(-1, 16)``).
ARG_NAMES: dict[str, tuple[str, ...]] = {
    "view": ("input", "*shape"), "reshape": ("input", "*shape"), "permute": ("input", "*dims"),
    "expand": ("input", "*sizes"), "repeat": ("input", "*sizes"), "size": ("input", "dim"),
    "flatten": ("input", "start_dim", "end_dim"), "transpose": ("input", "dim0", "dim1"),
    "cat": ("tensors", "dim"), "stack": ("tensors", "dim"), "squeeze": ("input", "dim"),
    "unsqueeze": ("input", "dim"), "mean": ("input", "dim", "keepdim"), "sum": ("input", "dim", "keepdim"),
    "max": ("input", "dim", "keepdim"), "min": ("input", "dim", "keepdim"),
    "softmax": ("input", "dim"), "log_softmax": ("input", "dim"), "split": ("input", "split_size", "dim"),
    "chunk": ("input", "chunks", "dim"), "getitem": ("input", "index"), "getattr": ("input", "name"),
    "to": ("input", "dtype"), "type": ("input", "dtype"), "clamp": ("input", "min", "max"),
    "pow": ("input", "exponent"), "add": ("input", "other"), "sub": ("input", "other"), "mul": ("input", "other"),
    "div": ("input", "other"), "floordiv": ("input", "other"), "matmul": ("input", "other"),
    "mm": ("input", "mat2"), "bmm": ("input", "mat2"), "linear": ("input", "weight", "bias"),
    "conv1d": ("input", "weight", "bias", "stride", "padding", "dilation", "groups"),
    "conv2d": ("input", "weight", "bias", "stride", "padding", "dilation", "groups"),
}


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def classify(node: fx.Node, modules: dict[str, nn.Module]) -> tuple[str, str]:
    """``(mase_type, mase_op)`` of one fx node."""
    if node.op in ("placeholder", "output"):
        return node.op, node.op
    if node.op == "get_attr":
        return "get_attr", "constant"
    if node.op == "call_module":
        module = modules[str(node.target)]
        for cls, mase_type, mase_op in MODULE_OPS:
            if isinstance(module, cls):
                return mase_type, mase_op
        return MODULE, _snake(type(module).__name__)
    if node.op == "call_method":
        return METHOD_OPS.get(str(node.target), (BUILTIN, str(node.target)))
    target = node.target
    tagged = getattr(target, "mase_op", None)  # a quantised twin names the op it stands for
    if tagged is not None:
        return next((kind for kind in FUNCTION_OPS.values() if kind[1] == tagged), (BUILTIN, tagged))
    try:
        known = FUNCTION_OPS.get(target)  # type: ignore[arg-type]
    except TypeError:  # unhashable callable
        known = None
    return known or (BUILTIN, getattr(target, "__name__", str(target)))


def argument_names(node: fx.Node, mase_op: str) -> tuple[str, ...]:
    """Positional argument names of a call_function/call_method node, best effort."""
    if mase_op in ARG_NAMES:
        return ARG_NAMES[mase_op]
    if node.op == "call_function" and callable(node.target):
        try:
            params = inspect.signature(node.target).parameters.values()
        except (TypeError, ValueError):
            return ()
        return tuple(("*" + p.name) if p.kind is p.VAR_POSITIONAL else p.name
                     for p in params if p.kind is not p.VAR_KEYWORD and p.kind is not p.KEYWORD_ONLY)
    return ("input",) if node.op == "call_method" else ()
