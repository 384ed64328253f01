"""What quantisation costs and saves: accuracy before/after, clamped values per node, BitOPs, and the
hardware it would take (``chop.hardware.estimate``: LUTs/FFs in milliseconds, no synthesis).

Overflow/underflow counts are the values a quantiser clamped: above the largest representable
value (overflow) or below the smallest (underflow; for an unsigned ReLU input that includes every
negative value). Activations are counted over the whole split by running the quantised graph
node by node (an ``fx.Interpreter``); weights and biases are counted once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, fx

from chop.errors import HardwareError
from chop.hardware.estimate import DesignEstimate, estimate_design
from chop.hardware.prepare import prepare
from chop.quantized import FUNCTION_OPS, QuantizedModule, node_quantizers, quantized_op
from chop.quantizers import Quantizer
from chop.tools.modes import eval_mode


@dataclass
class ClampCount:
    node: str
    operand: str
    quantizer: str
    low: float
    high: float
    values: int = 0
    overflow: int = 0
    underflow: int = 0

    def add(self, value: Tensor) -> None:
        self.values += value.numel()
        self.overflow += int((value > self.high).sum())
        self.underflow += int((value < self.low).sum())


class _Counter(fx.Interpreter):
    """Runs the quantised graph and counts, per quantised operand, the values outside its range."""

    def __init__(self, module: fx.GraphModule) -> None:
        super().__init__(module)
        self.counts: dict[tuple[str, str], ClampCount] = {}

    def _count(self, node: str, operand: str, quantizer: Quantizer | None, value: Any) -> None:
        bounds = quantizer.value_range() if quantizer is not None else None
        if bounds is None or not isinstance(value, Tensor):
            return
        key = (node, operand)
        if key not in self.counts:
            self.counts[key] = ClampCount(node, operand, str(quantizer), *bounds)
        self.counts[key].add(value)

    def run_node(self, node: fx.Node) -> Any:
        args, _ = self.fetch_args_kwargs_from_env(node)
        if node.op == "call_module":
            module = self.module.get_submodule(str(node.target))
            if isinstance(module, QuantizedModule):
                self._count(node.name, "data_in", module.quantizers.get("data_in"), args[0] if args else None)
        elif node.op == "call_function" and quantized_op(node.target) is not None:
            quantizer = node_quantizers(self.module, node).get("data_in")
            for index, value in enumerate(args[: FUNCTION_OPS[quantized_op(node.target)][1]]):
                self._count(node.name, f"data_in_{index}", quantizer, value)
        return super().run_node(node)


def _batches(x: np.ndarray, shape: tuple[int, ...], batch_size: int) -> Iterator[Tensor]:
    for start in range(0, len(x), batch_size):
        chunk = torch.as_tensor(np.asarray(x[start:start + batch_size]), dtype=torch.float32)
        yield chunk.reshape(len(chunk), *shape)


def clamp_counts(module: fx.GraphModule, x: np.ndarray, input_shape: tuple[int, ...],
                 batch_size: int = 8192) -> list[ClampCount]:
    """Values clamped by every quantiser of ``module`` over the rows ``x`` (weights counted once)."""
    counter = _Counter(module)
    with eval_mode(module), torch.no_grad():
        for batch in _batches(x, input_shape, batch_size):
            counter.run(batch)
        for node in module.graph.nodes:
            if node.op != "call_module":
                continue
            sub = module.get_submodule(str(node.target))
            if isinstance(sub, QuantizedModule):
                for operand in ("weight", "bias"):
                    counter._count(node.name, operand, sub.quantizers.get(operand), getattr(sub, operand, None))
    order = {node.name: index for index, node in enumerate(module.graph.nodes)}
    operands = ("data_in", "data_in_0", "data_in_1", "weight", "bias")
    return sorted(counter.counts.values(), key=lambda c: (order[c.node], operands.index(c.operand)))


@dataclass(frozen=True)
class SplitAccuracy:
    split: str
    float_acc: float
    quantized_acc: float
    float_loss: float
    quantized_loss: float


@dataclass(frozen=True)
class HardwareEstimate:
    """The resource estimate of the quantised graph, or why it has none (the preparation's error)."""

    estimate: DesignEstimate | None
    unavailable: str | None = None

    def as_json(self) -> dict[str, Any]:
        if self.estimate is None:
            return {"unavailable": self.unavailable}
        return self.estimate.as_dict()


def hardware_estimate(quantized_module: fx.GraphModule) -> HardwareEstimate:
    """Prepare the quantised graph for hardware and estimate it; a graph that cannot be prepared (a node
    still in float, an op without a hardware twin) is not an error here, only the reason it has no estimate."""
    try:
        return HardwareEstimate(estimate_design(prepare(quantized_module).module))
    except HardwareError as error:
        return HardwareEstimate(None, str(error))


@dataclass(frozen=True)
class QuantizationReport:
    accuracy: list[SplitAccuracy]
    clamps: list[ClampCount]
    bitops_before: int
    bitops_after: int
    hardware: HardwareEstimate

    def as_json(self) -> dict[str, Any]:
        return {"accuracy": [asdict(a) for a in self.accuracy], "clamps": [asdict(c) for c in self.clamps],
                "bitops_before": self.bitops_before, "bitops_after": self.bitops_after,
                "hardware_estimate": self.hardware.as_json()}


def quantization_report(float_graph: Any, quantized_graph: Any, data: Any) -> QuantizationReport:
    """Float vs quantised accuracy on validation and test, clamps on validation, BitOPs before/after,
    and the hardware estimate of the quantised graph.

    ``data`` is a ``DatasetSplits``; both graphs need common metadata (for the BitOPs).
    """
    from chop.engine import evaluate_models
    from chop.models.input_shape import input_shape_of
    from chop.passes.graph.analysis.count_ops import count_ops_analysis_pass

    models = [float_graph.model, quantized_graph.model]
    accuracy = []
    for split, x, y in (("validation", data.x_val, data.y_val), ("test", data.x_test, data.y_test)):
        (float_acc, float_loss), (q_acc, q_loss) = evaluate_models(models, x, y)
        accuracy.append(SplitAccuracy(split, float_acc, q_acc, float_loss, q_loss))
    shape = input_shape_of(quantized_graph.model, data.x_val.shape[1])
    clamps = clamp_counts(quantized_graph.model, data.x_val, shape)
    _, before = count_ops_analysis_pass(float_graph, {"verbose": False})
    _, after = count_ops_analysis_pass(quantized_graph, {"verbose": False})
    return QuantizationReport(accuracy, clamps, before["total"]["bitops"], after["total"]["bitops"],
                              hardware_estimate(quantized_graph.model))
