"""``ch export onnx`` as library calls: the model as ONNX, run by onnxruntime and compared with machop.

Two kinds of model, two ways to write them:

- **float** (no ``[passes.quantize]`` and no quantised node): ``torch.onnx.export`` (the TorchScript
  exporter, ``dynamo=False``: the new exporter needs ``onnxscript``), opset 17, batch axis dynamic.
  Checked: onnxruntime's outputs within ``atol`` 1e-5 of machop's and the same argmax on every row.
- **quantised**: machop's quantisers are straight-through ``autograd.Function``s that do not trace,
  so the ONNX graph is built with ``onnx.helper`` from the *prepared* graph of ``chop.hardware``
  (the fixed-point twins whose integer reference the RTL matches), opset 21, in float32 QDQ form:
  constants are integer codes behind ``DequantizeLinear`` (scale 2^-frac, zero point 0), and every
  requantisation is ``Clip`` (to the format's range, left out where the integer type's range is it)
  then ``QuantizeLinear``/``DequantizeLinear`` to int8/uint8 or int16/uint16, whose rounding the
  ONNX spec fixes as round half to even with saturation: machop's. Checked: the output codes equal
  machop's integer reference on every row (exact float equality).

A quantised graph is representable when every requantised format has at most 16 bits (the widest
``QuantizeLinear`` integer) and every value, constant and accumulator (with its partial sums) fits
the 24-bit significand of float32, so that every ONNX op computes it exactly in any order; other
formats, and ops with no twin, are one-line ``ExportError``s naming the node.

Outputs go to ``{project_dir}/export/onnx/`` (``model.onnx``, then ``summary.json``); an earlier
export there is moved aside to ``onnx-vN`` first, and a failed write puts it back.
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
from chop.tools.modes import eval_mode
from chop.workflows.export_common import (INPUT, OUTPUT, Comparison, PreparedOnnxGraph, check_exact, compare,
                                          is_quantised, output_shape, prepared_for_export, write_export, write_prepared)
from chop.workflows.hardware import HardwareOptions, quantised_graphs, split_rows

EXPORT_DIR, MODEL_FILE = Path("export") / "onnx", "model.onnx"
FLOAT_OPSET, QUANTISED_OPSET = 17, 21
FLOAT_ATOL = 1e-5


def _onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise ExportError("ch export onnx needs onnx and onnxruntime: pip install 'machop[export]'") from None
    return onnx


# --- float models ----------------------------------------------------------------------------------------

def float_onnx(model: nn.Module, example: Tensor) -> bytes:
    """``model`` as ONNX (opset 17, dynamic batch) by ``torch.onnx.export``; ``example`` is one batch it takes."""
    import io
    import warnings

    _onnx()
    buffer = io.BytesIO()
    axes = {INPUT: {0: "batch"}, OUTPUT: {0: "batch"}}
    with torch.no_grad(), eval_mode(model), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the TorchScript exporter's notice of the new one
        try:
            torch.onnx.export(model, (example,), buffer, dynamo=False, opset_version=FLOAT_OPSET,
                              input_names=[INPUT], output_names=[OUTPUT], dynamic_axes=axes)
        except Exception as error:  # torch.onnx raises several types, with multi-line messages
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise ExportError(f"torch.onnx cannot export the float model: {first}") from None
    return buffer.getvalue()


# --- quantised (prepared) graphs -------------------------------------------------------------------------

def _code_type(fmt: FixedFormat, where: str, *, stored: bool) -> int:
    """The ONNX integer type of ``fmt``'s codes: 8 or 16 bits; constants (``stored``) may also be int32."""
    from onnx import TensorProto

    for bits, signed_type, unsigned_type in ((8, TensorProto.INT8, TensorProto.UINT8),
                                             (16, TensorProto.INT16, TensorProto.UINT16)):
        if fmt.width <= bits:
            return signed_type if fmt.signed else unsigned_type
    if stored and fmt.width <= 31:
        return TensorProto.INT32
    raise ExportError(f"{where}: format {fmt} has no ONNX form: QuantizeLinear rounds to at most 16-bit integers; "
                      f"quantise it to at most 16 bits")


class QdqGraph(PreparedOnnxGraph):
    """A prepared graph in float32 QDQ form: codes behind ``DequantizeLinear``, requantisation by ``QuantizeLinear``."""

    target = "ONNX"

    def _scale_zero(self, name: str, fmt: FixedFormat, code_type: int) -> list[str]:
        from onnx import helper

        scale = self.constant(f"{name}.scale", np.array(fmt.step, dtype=np.float32))
        zero = self.constant(f"{name}.zero", np.array(0, dtype=helper.tensor_dtype_to_np_dtype(code_type)))
        return [scale, zero]

    def quantised_constant(self, name: str, codes: Tensor, fmt: FixedFormat, where: str) -> str:
        """The codes stored in their narrowest ONNX integer type, dequantised to float32."""
        from onnx import helper

        check_exact(fmt, where, name.rsplit(".", 1)[-1], self.target)
        code_type = _code_type(fmt, where, stored=True)
        stored = self.constant(f"{name}.codes", codes.numpy().astype(helper.tensor_dtype_to_np_dtype(code_type)))
        return self.op("DequantizeLinear", [stored, *self._scale_zero(name, fmt, code_type)], name)

    def requantized(self, value: str, name: str, source: FixedFormat | None, target: FixedFormat, where: str,
                    output_only: bool) -> str:
        """Nothing is emitted where every value of ``source`` is one of ``target`` (e.g. the output's exact
        accumulator); a ``Clip`` only where ``target`` is narrower than its integer type.
        """
        check_exact(target, where, "output", self.target)
        if source is not None:
            shift = target.frac - source.frac
            if shift >= 0 and target.lo <= source.lo << shift and source.hi << shift <= target.hi:
                return value
        code_type = _code_type(target, where, stored=False)
        bits = 8 if target.width <= 8 else 16
        if target.width != bits:
            low = self.constant(f"{name}.lo", np.array(target.lo * target.step, dtype=np.float32))
            high = self.constant(f"{name}.hi", np.array(target.hi * target.step, dtype=np.float32))
            value = self.op("Clip", [value, low, high], f"{name}.clipped")
        scale_zero = self._scale_zero(f"{name}.q", target, code_type)
        codes = self.op("QuantizeLinear", [value, *scale_zero], f"{name}.codes")
        return self.op("DequantizeLinear", [codes, *scale_zero], name)


def quantised_onnx(prepared: MaseGraph | fx.GraphModule, input_shape: tuple[int, ...]) -> bytes:
    """The prepared graph as a float32 QDQ ONNX model (opset 21); ``input_shape`` excludes the batch axis."""
    onnx = _onnx()
    from onnx import TensorProto, helper

    module = prepared.model if isinstance(prepared, MaseGraph) else prepared
    graph = QdqGraph()
    write_prepared(module, graph)
    inputs = [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["batch", *input_shape])]
    outputs = [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["batch", *output_shape(module, input_shape)])]
    model = helper.make_model(
        helper.make_graph(graph.nodes, "machop_quantised", inputs, outputs, graph.initializers),
        opset_imports=[helper.make_opsetid("", QUANTISED_OPSET)], producer_name="machop")
    onnx.checker.check_model(model, full_check=True)
    return model.SerializeToString()


# --- running and comparing -------------------------------------------------------------------------------

def run_onnx(model: bytes, x: Tensor) -> np.ndarray:
    """onnxruntime's outputs (CPU, its default optimisations) for the float32 batch ``x``."""
    try:
        import onnxruntime
    except ImportError:
        raise ExportError("ch export onnx needs onnx and onnxruntime: pip install 'machop[export]'") from None
    session = onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])
    return session.run([OUTPUT], {INPUT: x.to(torch.float32).numpy()})[0]


@dataclass(frozen=True)
class OnnxExport:
    """What ``run_export_onnx`` wrote and found; ``as_json`` is ``summary.json``."""

    export_dir: Path
    kept: Path | None
    kind: str  # "float" or "quantised"
    opset: int
    file_bytes: int
    export_seconds: float
    comparison: Comparison

    def as_json(self) -> dict[str, Any]:
        return {"target": "onnx", "kind": self.kind, "opset": self.opset, "model": str(self.export_dir / MODEL_FILE),
                "file_bytes": self.file_bytes, "export_seconds": self.export_seconds, **self.comparison.as_json("onnx")}


def export_model(model: nn.Module, passes: Mapping[str, Any], data: Any,
                 options: HardwareOptions = HardwareOptions()) -> tuple[str, bytes, float, Comparison]:
    """Build the ONNX model (float or quantised, see the module docstring) and compare it on the test split.

    Returns the kind, the serialised model, the seconds the export took and the comparison.
    ``options``: the hardware preparation's (``input_format``, ``fold_batchnorm``) for quantised graphs.
    """
    graphs = quantised_graphs(model, passes, data)
    x, y = split_rows(model, data, None)
    started = time.perf_counter()
    if not is_quantised(graphs.quantised):
        onnx_model = float_onnx(model, x[:2])
        seconds = time.perf_counter() - started
        with torch.no_grad(), eval_mode(model):
            reference = model(x)
        return "float", onnx_model, seconds, compare(run_onnx(onnx_model, x), reference, y, FLOAT_ATOL)
    prepared = prepared_for_export(graphs.quantised, options, "ONNX")
    onnx_model = quantised_onnx(prepared, tuple(x.shape[1:]))
    seconds = time.perf_counter() - started
    reference = output_format(prepared).to_real(integer_reference(prepared, x))
    return "quantised", onnx_model, seconds, compare(run_onnx(onnx_model, x), reference, y, 0.0)


def run_export_onnx(model: nn.Module, passes: Mapping[str, Any], data: Any, project_dir: str | Path,
                    options: HardwareOptions = HardwareOptions()) -> OnnxExport:
    """``ch export onnx``: export, compare on the whole test split, then write ``{project_dir}/export/onnx/``."""
    kind, onnx_model, seconds, comparison = export_model(model, passes, data, options)
    export_dir = Path(project_dir) / EXPORT_DIR
    outcome = OnnxExport(export_dir, None, kind, FLOAT_OPSET if kind == "float" else QUANTISED_OPSET,
                         len(onnx_model), round(seconds, 3), comparison)
    kept = write_export(export_dir, MODEL_FILE, onnx_model, outcome.as_json())
    return replace(outcome, kept=kept)
