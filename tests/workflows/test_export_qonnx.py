"""``chop.workflows.export_qonnx``: every zoo model through qonnx's executor, bit for bit against the integer reference.

The reference is computed here without the exporter (the integer reference of the graph the test
quantises and prepares itself), and qonnx's own flow runs the exported bytes: ``ModelWrapper``,
``cleanup_model``, ``execute_onnx``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.custom_op.general.quant import quant
from qonnx.util.cleanup import cleanup_model
from torch import nn

from chop.dataset import load_dataset
from chop.errors import ExportError
from chop.hardware.fixed import FixedFormat
from chop.hardware.ops import FixedInput, FixedLinear
from chop.hardware.reference import integer_reference, output_format
from chop.models.input_shape import example_batch
from chop.workflows import export_onnx
from chop.workflows.export_qonnx import QONNX_DOMAIN, export_model, qonnx_model
from chop.workflows.hardware import HardwareOptions, prepare_graph, quantised_graphs

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hardware"))
from rtl_helpers import mlps, prepared  # noqa: E402  (the hardware tests' random-MLP strategy)
from export_helpers import INTEGER_8_4, MINIFLOAT, WEIGHTS_4, WithSigmoid, fresh, quantise

ZOO = ["jsc-tiny", "jsc-toy", "jsc-s", "jsc-three-linear"]



@pytest.fixture(scope="module")
def data() -> Any:
    return load_dataset("jsc-pythia")



def qonnx_outputs(model: bytes, x: torch.Tensor) -> np.ndarray:
    """qonnx's flow on the bytes: wrap, clean up (batch = the rows), execute node by node."""
    wrapper = cleanup_model(ModelWrapper(model), override_inpsize=len(x))
    return execute_onnx(wrapper, {wrapper.graph.input[0].name: x.numpy().astype(np.float32)})["global_out"]


def quant_nodes(model: bytes) -> list[tuple[onnx.NodeProto, dict[str, Any], dict[str, float]]]:
    """Each Quant node, its attributes and its scalar scale, zero point and bit width."""
    graph = onnx.load_from_string(model).graph
    constants = {init.name: onnx.numpy_helper.to_array(init) for init in graph.initializer}
    found = []
    for node in graph.node:
        if node.op_type == "Quant":
            attributes = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
            scalars = dict(zip(("scale", "zeropt", "bitwidth"), (float(constants[i]) for i in node.input[1:])))
            found.append((node, attributes, scalars))
    return found


@settings(max_examples=200)
@given(st.integers(2, 20), st.integers(-4, 20), st.booleans(), st.data())
def test_qonnx_round_is_machops_round_half_to_even_with_saturation(width: int, frac: int, signed: bool,
                                                                   data: st.DataObject) -> None:
    fmt = FixedFormat(width, frac, signed)
    halves = data.draw(st.lists(st.integers(2 * fmt.lo - 6, 2 * fmt.hi + 6), min_size=1, max_size=40))
    x = np.array(halves, dtype=np.float64) / 2 * fmt.step  # every half code: ties, both neighbours, beyond the range
    got = quant(x.astype(np.float32), np.float32(fmt.step), np.float32(0), np.float32(width), int(signed), 0, "ROUND")
    assert np.array_equal(got.astype(np.float64), fmt.fake(torch.from_numpy(x)).numpy())


def test_a_1_bit_signed_quant_is_bipolar_in_qonnx_so_it_is_an_export_error() -> None:
    got = quant(np.array([-1.0, 0.0], dtype=np.float32), np.float32(1), np.float32(0), np.float32(1), 1, 0, "ROUND")
    assert got.tolist() == [-1.0, 1.0]  # machop's 1-bit signed codes are -1 and 0
    with pytest.raises(ExportError) as error:
        qonnx_model(prepared(nn.Sequential(FixedInput(FixedFormat(1, 0, True)))), (4,))
    assert str(error.value) == ("node '_0' (fixed_input): format fixed<1,0> has no QONNX form: a 1-bit signed "
                                "Quant is bipolar (-1, +1) in QONNX, machop's codes are (-1, 0); quantise it to at "
                                "least 2 bits")


def test_a_constant_of_1_signed_bit_is_stored_as_a_2_bit_quant_and_stays_exact() -> None:
    in_format = FixedFormat(4, 2)
    linear = FixedLinear(torch.tensor([[1, -2], [3, 0]]), torch.tensor([-1, 0]), in_format, FixedFormat(3, 1),
                         FixedFormat(8, 3), FixedFormat(8, 3))  # the bias codes -1, 0: fixed<1,3>
    module = prepared(nn.Sequential(FixedInput(in_format), linear))
    exported = qonnx_model(module, (2,))
    bias = [scalars for node, _, scalars in quant_nodes(exported) if node.output[0].endswith(".bias")]
    assert bias == [{"scale": 2.0**-3, "zeropt": 0.0, "bitwidth": 2.0}]
    x = torch.tensor([[a / 4, b / 4] for a in range(-9, 9) for b in range(-9, 9)], dtype=torch.float64)
    expected = output_format(module).to_real(integer_reference(module, x)).numpy()
    assert np.array_equal(qonnx_outputs(exported, x.float()).astype(np.float64), expected)


def expected_outputs(name: str, config: dict[str, Any], data: Any) -> tuple[np.ndarray, torch.Tensor]:
    graph = quantised_graphs(fresh(name), quantise(config), data).quantised
    prepared_graph, _ = prepare_graph(graph, HardwareOptions())
    x = example_batch(fresh(name), data.x_test)
    return output_format(prepared_graph).to_real(integer_reference(prepared_graph, x)).numpy(), x


@pytest.mark.parametrize("name", ZOO)
def test_every_zoo_model_at_integer_8_4_is_bit_exact_in_qonnx_on_the_whole_test_split(data: Any, name: str) -> None:
    exported, _, _, comparison = export_model(fresh(name), quantise(INTEGER_8_4), data)
    expected, x = expected_outputs(name, INTEGER_8_4, data)
    got = qonnx_outputs(exported, x).astype(np.float64)
    assert got.shape == expected.shape == (20000, 5)
    assert (got == expected).all()
    assert (comparison.rows, comparison.mismatching_rows, comparison.max_abs_difference) == (20000, 0, 0.0)
    assert comparison.peer_accuracy == comparison.machop_accuracy == float((expected.argmax(1) == data.y_test).mean())
    quants = quant_nodes(exported)
    for node, attributes, scalars in quants:
        assert node.domain == QONNX_DOMAIN
        assert (attributes["narrow"], attributes["rounding_mode"], scalars["zeropt"]) == (0, b"ROUND", 0.0)
        assert attributes["signed"] in (0, 1) and float(scalars["bitwidth"]).is_integer()
        assert np.log2(scalars["scale"]).is_integer()  # 2^-frac
    linears = sum(isinstance(m, nn.Linear) for m in fresh(name).modules())
    weights = [q for q in quants if q[0].output[0].endswith(".weight")]
    assert len(weights) == linears and all(q[2]["bitwidth"] == 8 for q in weights)


@pytest.mark.parametrize("name", ["jsc-tiny", "jsc-toy"])
def test_4_bit_weights_are_4_bit_quant_nodes_and_exact(data: Any, name: str) -> None:
    exported, _, _, comparison = export_model(fresh(name), quantise(WEIGHTS_4), data)
    expected, x = expected_outputs(name, WEIGHTS_4, data)
    assert (qonnx_outputs(exported, x).astype(np.float64) == expected).all()
    assert comparison.mismatching_rows == 0
    weights = [scalars["bitwidth"] for node, _, scalars in quant_nodes(exported) if node.output[0].endswith(".weight")]
    assert weights and set(weights) == {4.0}


def test_a_17_bit_format_that_onnx_qdq_cannot_hold_is_exact_in_qonnx(data: Any) -> None:
    wide = {**INTEGER_8_4, "data_in_width": 17, "data_in_frac_width": 8, "weight_width": 3, "weight_frac_width": 2}
    with pytest.raises(ExportError, match="QuantizeLinear rounds to at most 16-bit integers"):
        export_onnx.export_model(fresh("jsc-tiny"), quantise(wide), data)
    exported, _, _, comparison = export_model(fresh("jsc-tiny"), quantise(wide), data)
    expected, x = expected_outputs("jsc-tiny", wide, data)
    assert (qonnx_outputs(exported, x).astype(np.float64) == expected).all() and comparison.mismatching_rows == 0
    assert 17.0 in {scalars["bitwidth"] for _, _, scalars in quant_nodes(exported)}


@pytest.mark.property
@settings(max_examples=25)
@given(mlps(max_width=8), st.integers(0, 2**31 - 1))
def test_random_mlps_and_formats_are_bit_exact_in_qonnx(modules: list[nn.Module], seed: int) -> None:
    module = prepared(nn.Sequential(*modules))
    fmt, features = modules[0].out_format, next(m for m in modules if hasattr(m, "weight")).weight.shape[1]
    gen = torch.Generator().manual_seed(seed)
    halves = torch.randint(2 * fmt.lo - 6, 2 * fmt.hi + 7, (64, features), generator=gen)
    x = halves.to(torch.float64) / 2 * fmt.step  # ties, neighbours and saturation at the input
    expected = output_format(module).to_real(integer_reference(module, x)).numpy()
    assert np.array_equal(qonnx_outputs(qonnx_model(module, (features,)), x.float()).astype(np.float64), expected)


def test_a_format_wider_than_float32_holds_is_a_one_line_error_naming_the_node(data: Any) -> None:
    wide = {**INTEGER_8_4, "data_in_width": 26, "data_in_frac_width": 8}
    with pytest.raises(ExportError) as error:
        export_model(fresh("jsc-tiny"), quantise(wide), data)
    assert str(error.value) == ("node 'fixed_input' (fixed_input): the output format fixed<26,8> has no exact QONNX "
                                "float32 form (at most 24 bits); use narrower weights or inputs")


def test_a_float_model_is_a_one_line_error_asking_for_quantisation(data: Any) -> None:
    with pytest.raises(ExportError) as error:
        export_model(fresh("jsc-tiny"), {}, data)
    assert str(error.value) == ("ch export qonnx exports quantised graphs: give a [passes.quantize] table with "
                                "name = \"integer\" (or --load a quantised graph.mz)")


def test_a_minifloat_format_is_a_one_line_error_naming_the_node_and_format(data: Any) -> None:
    with pytest.raises(ExportError) as error:
        export_model(fresh("jsc-tiny"), quantise(MINIFLOAT), data)
    message = str(error.value)
    assert message.startswith("quantised QONNX export (through the hardware preparation): node 'seq_blocks_0'")
    assert "'minifloat_ieee'" in message and "\n" not in message


def test_an_op_without_a_twin_is_a_one_line_error_naming_the_node(data: Any) -> None:
    torch.manual_seed(0)
    with pytest.raises(ExportError) as error:
        export_model(WithSigmoid(), quantise(INTEGER_8_4), data)
    assert str(error.value).startswith("quantised QONNX export (through the hardware preparation): node 'sigmoid' "
                                       "(sigmoid) has no hardware twin")
