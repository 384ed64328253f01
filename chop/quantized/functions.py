"""Quantised twins of functional ops: ``add_integer(x, y, config={...})`` and friends.

The quantise pass points a ``call_function`` node at one of these and adds the node's parsed
config as the ``config`` keyword, so the generated GraphModule code reads ``add_integer(x, y,
config = QuantizedCallConfig('add', (('name', 'integer'), ('data_in_width', 8), ...)))`` and
survives pickling (``.mz``; see ``call_config``). Tensor inputs are fake-quantised with the ``data_in`` quantiser (unsigned for
``relu``, as MASE), then the original op runs; non-tensor operands (``x + 1``) pass unchanged.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, fx

from chop.quantized.call_config import QuantizedCallConfig
from chop.quantizers import FORMATS

# mase_op -> (the float op, how many leading arguments are data inputs)
FUNCTION_OPS: dict[str, tuple[Callable[..., Any], int]] = {
    "add": (torch.add, 2),
    "sub": (torch.sub, 2),
    "mul": (torch.mul, 2),
    "matmul": (torch.matmul, 2),
    "bmm": (torch.bmm, 2),
    "relu": (F.relu, 1),
}

# fx targets (functions and tensor-method names) that each quantisable function op replaces
REPLACEABLE_TARGETS: dict[Any, str] = {
    operator.add: "add", torch.add: "add", "add": "add",
    operator.sub: "sub", torch.sub: "sub", "sub": "sub",
    operator.mul: "mul", torch.mul: "mul", "mul": "mul",
    operator.matmul: "matmul", torch.matmul: "matmul", "matmul": "matmul",
    torch.bmm: "bmm", "bmm": "bmm",
    F.relu: "relu", torch.relu: "relu", "relu": "relu",
}


def _quantized_call(mase_op: str, args: tuple[Any, ...], kwargs: dict[str, Any], config: QuantizedCallConfig) -> Any:
    op, inputs = FUNCTION_OPS[mase_op]
    quantizer = config.quantizers.get("data_in")
    quantized = tuple(quantizer(a) if i < inputs and isinstance(a, Tensor) and quantizer is not None else a
                      for i, a in enumerate(args))
    return op(*quantized, **kwargs)


def _make(mase_op: str, suffix: str) -> Callable[..., Any]:
    name = f"{mase_op}_{suffix}"

    def quantized(*args: Any, config: QuantizedCallConfig | Mapping[str, Any], **kwargs: Any) -> Any:
        config = QuantizedCallConfig.of(mase_op, config)  # graphs saved before the type hold a dict
        tracing = next((a for a in args if isinstance(a, fx.Proxy)), None)
        if tracing is not None:
            # fx re-traces the saved code when a pickled graph (.mz) is loaded: stay one call, and
            # take the op's name so the nodes are named as in the original trace (add, add_1, ...);
            # the config goes in as it is (fx would trace a NamedTuple argument into a node of its own)
            tracer = tracing.tracer
            node = tracer.create_node("call_function", quantized, tracer.create_arg(args),
                                      {**tracer.create_arg(kwargs), "config": config}, name=mase_op)
            return tracer.proxy(node)
        return _quantized_call(mase_op, args, kwargs, config)

    quantized.__name__ = quantized.__qualname__ = name
    quantized.__module__ = __name__
    quantized.__doc__ = f"``{mase_op}`` with its tensor inputs fake-quantised by the ``config`` quantiser."
    quantized.mase_op = mase_op  # type: ignore[attr-defined]  (lets metadata passes classify the node)
    return quantized


# Module-level names (``add_integer``, ``relu_minifloat_ieee``, ...) so pickled graphs find them.
QUANTIZED_FUNCTIONS: dict[tuple[str, str], Callable[..., Any]] = {}
for _op in FUNCTION_OPS:
    for _suffix in dict.fromkeys(cls.function_suffix for cls in FORMATS.values()):
        if (_op, _suffix) not in QUANTIZED_FUNCTIONS:
            QUANTIZED_FUNCTIONS[(_op, _suffix)] = globals()[f"{_op}_{_suffix}"] = _make(_op, _suffix)


def quantized_function(mase_op: str, quantizer: str) -> Callable[..., Any]:
    """``add_integer`` for (add, integer); ``fixed`` shares the integer functions."""
    return QUANTIZED_FUNCTIONS[(mase_op, FORMATS[quantizer].function_suffix)]
