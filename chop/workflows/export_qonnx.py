"""``ch export qonnx`` as library calls: a quantised graph as QONNX, run by qonnx's executor, compared with machop.

The QONNX graph is built with ``onnx.helper`` from the *prepared* graph of ``chop.hardware``, by the
walk ``chop.workflows.export_common`` shares with the ONNX export (linear ``MatMul`` + ``Add``, an
affine ``Mul`` + ``Add``, ``Relu``, a residual ``Add``). Numbers are QONNX's: every constant (weight,
bias, BatchNorm scale and shift) is a float32 initializer on its grid behind a ``Quant`` node, and
every requantisation is a ``Quant`` node, all of domain ``qonnx.custom_op.general`` with scale
2^-frac, zero point 0, the format's bit width, ``signed``, ``narrow = 0`` and ``rounding_mode = "ROUND"``.

Why ``ROUND`` is machop's quantiser: qonnx's ``Quant`` computes ``x / scale``, clamps it to the
integer range, then rounds with ``np.round`` (half to even; ``ROUND`` and ``HALF_EVEN`` both name it).
Clamping to integer bounds before rounding gives what machop's round-then-saturate gives, since
rounding is monotone and keeps integers. One format has no QONNX form: a 1-bit signed ``Quant`` is
bipolar (-1, +1) where machop's codes are (-1, 0); requantising to it is an ``ExportError``, and a
constant of it is stored at 2 bits (the same codes).

The executor computes in float32, so, as for ONNX, every value, constant and accumulator must fit
float32's 24-bit significand (a one-line ``ExportError`` naming the node otherwise); ``Quant``
takes any bit width, so there is no 16-bit limit. A value only the graph output reads keeps its
exact format and gets no ``Quant``.

The file has batch size 1 (QONNX's convention: FINN and hls4ml read fixed shapes); the check runs it
with qonnx's own flow: ``ModelWrapper``, ``cleanup_model`` (shape inference, constant folding that
keeps ``Quant`` nodes, the batch size set to the whole test split) and ``execute_onnx`` on the split
as one batch. Outputs go to ``{project_dir}/export/qonnx/`` (``model.onnx``, then ``summary.json``);
an earlier export there is moved aside to ``qonnx-vN`` first.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, fx, nn

from chop.errors import ExportError
from chop.hardware.fixed import FixedFormat
from chop.hardware.reference import integer_reference, output_format
from chop.ir.graph.mase_graph import MaseGraph
from chop.workflows.export_common import (INPUT, OUTPUT, Comparison, PreparedOnnxGraph, check_exact, compare,
                                          is_quantised, output_shape, prepared_for_export, write_export,
                                          write_prepared)
from chop.workflows.hardware import HardwareOptions, quantised_graphs, split_rows

EXPORT_DIR, MODEL_FILE = Path("export") / "qonnx", "model.onnx"
QONNX_DOMAIN = "qonnx.custom_op.general"
ROUNDING_MODE = "ROUND"  # qonnx: np.round, half to even
INSTALL = "ch export qonnx needs qonnx (and onnx, onnxruntime): pip install 'machop[export]'"


def _qonnx() -> Any:
    try:
        import qonnx.util.basic
    except ImportError:
        raise ExportError(INSTALL) from None
    return qonnx.util.basic


class QuantGraph(PreparedOnnxGraph):
    """A prepared graph in QONNX form: constants and requantisations are ``Quant`` nodes."""

    target = "QONNX"

    def quant(self, value: str, name: str, fmt: FixedFormat) -> str:
        """``Quant(value)`` to ``fmt``: scale 2^-frac, zero point 0, its width and sign, not narrow, half to even."""
        inputs = [value, self.constant(f"{name}.scale", np.array(fmt.step, dtype=np.float32)),
                  self.constant(f"{name}.zeropt", np.array(0.0, dtype=np.float32)),
                  self.constant(f"{name}.bitwidth", np.array(float(fmt.width), dtype=np.float32))]
        return self.op("Quant", inputs, name, domain=QONNX_DOMAIN, signed=int(fmt.signed), narrow=0,
                       rounding_mode=ROUNDING_MODE)

    def quantised_constant(self, name: str, codes: Tensor, fmt: FixedFormat, where: str) -> str:
        """The values (codes x 2^-frac, exact in float32) behind a ``Quant`` of their format (2 bits for 1 signed)."""
        check_exact(fmt, where, name.rsplit(".", 1)[-1], self.target)
        stored = FixedFormat(2, fmt.frac, True) if fmt.signed and fmt.width == 1 else fmt
        values = self.constant(f"{name}.values", fmt.to_real(codes).numpy().astype(np.float32))
        return self.quant(values, name, stored)

    def requantized(self, value: str, name: str, source: FixedFormat | None, target: FixedFormat, where: str,
                    output_only: bool) -> str:
        """A ``Quant`` at every requantisation: it gives a reader the format of what the next layer reads."""
        if output_only and source == target:
            return value
        check_exact(target, where, "output", self.target)
        if target.signed and target.width == 1:
            raise ExportError(f"{where}: format {target} has no QONNX form: a 1-bit signed Quant is bipolar (-1, +1) "
                              f"in QONNX, machop's codes are (-1, 0); quantise it to at least 2 bits")
        return self.quant(value, name, target)


def qonnx_model(prepared: MaseGraph | fx.GraphModule, input_shape: tuple[int, ...]) -> bytes:
    """The prepared graph as a QONNX model (batch 1); ``input_shape`` excludes the batch axis."""
    basic = _qonnx()
    import onnx
    from onnx import TensorProto, helper

    module = prepared.model if isinstance(prepared, MaseGraph) else prepared
    graph = QuantGraph()
    write_prepared(module, graph)
    inputs = [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, [1, *input_shape])]
    outputs = [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, [1, *output_shape(module, input_shape)])]
    model = basic.qonnx_make_model(helper.make_graph(graph.nodes, "machop_qonnx", inputs, outputs, graph.initializers),
                                   producer_name="machop")
    onnx.checker.check_model(model)
    return model.SerializeToString()


def run_qonnx(model: bytes, x: Tensor) -> np.ndarray:
    """qonnx's executor on the float32 batch ``x`` (one batch), after qonnx's cleanup sets the batch size."""
    _qonnx()
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.util.cleanup import cleanup_model

    wrapper = cleanup_model(ModelWrapper(model), override_inpsize=len(x))
    inputs = {wrapper.graph.input[0].name: x.to(torch.float32).numpy()}
    return execute_onnx(wrapper, inputs)[wrapper.graph.output[0].name]


@dataclass(frozen=True)
class QonnxExport:
    """What ``run_export_qonnx`` wrote and found; ``as_json`` is ``summary.json``.

    ``export_seconds``: building the model; ``run_seconds``: qonnx's cleanup and executor on the split.
    """

    export_dir: Path
    kept: Path | None
    quant_nodes: int
    file_bytes: int
    export_seconds: float
    run_seconds: float
    comparison: Comparison

    def as_json(self) -> dict[str, Any]:
        return {"target": "qonnx", "model": str(self.export_dir / MODEL_FILE), "quant_nodes": self.quant_nodes,
                "rounding_mode": ROUNDING_MODE, "file_bytes": self.file_bytes, "export_seconds": self.export_seconds,
                "run_seconds": self.run_seconds, **self.comparison.as_json("qonnx")}


def export_model(model: nn.Module, passes: Mapping[str, Any], data: Any,
                 options: HardwareOptions = HardwareOptions()) -> tuple[bytes, float, float, Comparison]:
    """Build the QONNX model of the quantised graph and compare qonnx's outputs with machop's integer reference.

    Returns the serialised model, the seconds building and running it took, and the comparison on
    the whole test split. ``options``: the hardware preparation's (``input_format``, ``fold_batchnorm``).
    """
    graphs = quantised_graphs(model, passes, data)
    if not is_quantised(graphs.quantised):
        raise ExportError("ch export qonnx exports quantised graphs: give a [passes.quantize] table with "
                          "name = \"integer\" (or --load a quantised graph.mz)")
    x, y = split_rows(model, data, None)
    started = time.perf_counter()
    prepared = prepared_for_export(graphs.quantised, options, "QONNX")
    exported = qonnx_model(prepared, tuple(x.shape[1:]))
    built = time.perf_counter()
    outputs = run_qonnx(exported, x)
    ran = time.perf_counter()
    reference = output_format(prepared).to_real(integer_reference(prepared, x))
    return exported, built - started, ran - built, compare(outputs, reference, y, 0.0)


def run_export_qonnx(model: nn.Module, passes: Mapping[str, Any], data: Any, project_dir: str | Path,
                     options: HardwareOptions = HardwareOptions()) -> QonnxExport:
    """``ch export qonnx``: export, run qonnx on the whole test split, then write ``{project_dir}/export/qonnx/``."""
    import onnx

    exported, seconds, run_seconds, comparison = export_model(model, passes, data, options)
    quants = sum(node.op_type == "Quant" for node in onnx.load_from_string(exported).graph.node)
    export_dir = Path(project_dir) / EXPORT_DIR
    outcome = QonnxExport(export_dir, None, quants, len(exported), round(seconds, 3), round(run_seconds, 3), comparison)
    kept = write_export(export_dir, MODEL_FILE, exported, outcome.as_json())
    return replace(outcome, kept=kept)
