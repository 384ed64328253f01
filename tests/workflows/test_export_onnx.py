"""``chop.workflows.export_onnx``: every zoo model through onnxruntime, compared with machop on the test split.

The reference is computed here without the exporter: the float model's own outputs, and for
quantised graphs the integer reference of the graph that the test quantises and prepares itself;
onnxruntime is called directly on the exported bytes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
import onnxruntime
import pytest
import torch

from chop.dataset import load_dataset
from chop.errors import ExportError
from chop.hardware.reference import integer_reference, output_format
from chop.models.input_shape import example_batch
from chop.workflows.export_onnx import FLOAT_ATOL, export_model
from chop.workflows.hardware import HardwareOptions, prepare_graph, quantised_graphs
from export_helpers import INTEGER_8_4, MINIFLOAT, WEIGHTS_4, WithSigmoid, fresh, quantise




@pytest.fixture(scope="module")
def data() -> Any:
    return load_dataset("jsc-pythia")



def onnxruntime_outputs(model: bytes, x: torch.Tensor) -> np.ndarray:
    session = onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]


@pytest.mark.parametrize("name", ["jsc-tiny", "jsc-toy", "jsc-s"])
def test_a_float_model_runs_in_onnxruntime_within_1e5_with_the_same_argmax(data: Any, name: str) -> None:
    model = fresh(name)
    kind, exported, _, comparison = export_model(model, {}, data)
    x = example_batch(model, data.x_test)
    with torch.no_grad():
        expected = model.eval()(x).numpy()
    got = onnxruntime_outputs(exported, x)
    assert kind == "float" and got.shape == expected.shape == (20000, 5)
    assert np.abs(got - expected).max() <= FLOAT_ATOL
    assert (got.argmax(axis=1) == expected.argmax(axis=1)).all()
    assert comparison.rows == 20000 and comparison.mismatching_rows == 0 and comparison.argmax_agreement == 1.0
    assert comparison.max_abs_difference == pytest.approx(float(np.abs(got - expected).max()), abs=1e-9)
    assert onnx.load_from_string(exported).opset_import[0].version == 17


@pytest.mark.parametrize("name", ["jsc-tiny", "jsc-toy"])
@pytest.mark.parametrize("config", [INTEGER_8_4, WEIGHTS_4], ids=["integer-8-4", "weights-4"])
def test_a_quantised_graph_equals_the_integer_reference_exactly_on_the_test_split(
        data: Any, name: str, config: dict[str, Any]) -> None:
    kind, exported, _, comparison = export_model(fresh(name), quantise(config), data)
    prepared, _ = prepare_graph(quantised_graphs(fresh(name), quantise(config), data).quantised, HardwareOptions())
    x = example_batch(fresh(name), data.x_test)
    expected = output_format(prepared).to_real(integer_reference(prepared, x)).numpy()
    got = onnxruntime_outputs(exported, x).astype(np.float64)
    assert kind == "quantised" and got.shape == expected.shape
    assert (got == expected).all()
    assert (comparison.rows, comparison.mismatching_rows, comparison.max_abs_difference) == (20000, 0, 0.0)
    graph = onnx.load_from_string(exported).graph
    ops = {node.op_type for node in graph.node}
    assert {"QuantizeLinear", "DequantizeLinear", "MatMul"} <= ops
    stored = {init.name: init.data_type for init in graph.initializer}
    weights = [dtype for init, dtype in stored.items() if init.endswith(".weight.codes")]
    assert weights and set(weights) == {onnx.TensorProto.INT8}  # 8- and 4-bit weights are stored as int8 codes


def test_a_format_wider_than_16_bits_is_a_one_line_error_naming_the_node(data: Any) -> None:
    wide = {**INTEGER_8_4, "data_in_width": 20, "data_in_frac_width": 8}
    with pytest.raises(ExportError) as error:
        export_model(fresh("jsc-tiny"), quantise(wide), data)
    assert str(error.value) == ("node 'fixed_input' (fixed_input): format fixed<20,8> has no ONNX form: QuantizeLinear "
                                "rounds to at most 16-bit integers; quantise it to at most 16 bits")


def test_a_minifloat_format_is_a_one_line_error_naming_the_node_and_format(data: Any) -> None:
    with pytest.raises(ExportError) as error:
        export_model(fresh("jsc-tiny"), quantise(MINIFLOAT), data)
    message = str(error.value)
    assert "node 'seq_blocks_0'" in message and "'minifloat_ieee'" in message and "\n" not in message


def test_an_op_without_a_twin_is_a_one_line_error_naming_the_node(data: Any) -> None:
    torch.manual_seed(0)
    with pytest.raises(ExportError) as error:
        export_model(WithSigmoid(), quantise(INTEGER_8_4), data)
    assert str(error.value).startswith("quantised ONNX export (through the hardware preparation): node 'sigmoid' "
                                       "(sigmoid) has no hardware twin")
    assert "\n" not in str(error.value)
