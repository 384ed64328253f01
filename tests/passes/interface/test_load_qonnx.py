"""``MaseGraph.from_qonnx``: QONNX MLPs (machop's exports and one written here) read back, computing what qonnx does.

The reference is qonnx's own executor on the file; the imported graph is prepared and run by
machop's integer reference. A file written here with ``onnx.helper`` (not by the exporter) checks
the reading of Gemm, float weights rounded by their Quant, an affine, unsigned values and a residual add.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.util.basic import qonnx_make_model
from qonnx.util.cleanup import cleanup_model

from chop.dataset import load_dataset
from chop.errors import ModelError
from chop.hardware.fixed import FixedFormat
from chop.hardware.ops import FixedAffine, FixedLinear, HardwareOp
from chop.hardware.reference import integer_reference, output_format
from chop.ir.graph.mase_graph import MaseGraph
from chop.quantized import node_quantizers
from chop.workflows.export_common import constant_format
from chop.workflows.export_qonnx import export_model
from chop.workflows.hardware import HardwareOptions, prepare_graph, quantised_graphs

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "workflows"))
from export_helpers import INTEGER_8_4, WEIGHTS_4, fresh, quantise  # noqa: E402  (the export tests' points)




@pytest.fixture(scope="module")
def data() -> Any:
    return load_dataset("jsc-pythia")



def qonnx_outputs(path: Path, x: torch.Tensor) -> np.ndarray:
    wrapper = cleanup_model(ModelWrapper(str(path)), override_inpsize=len(x))
    return execute_onnx(wrapper, {wrapper.graph.input[0].name: x.numpy().astype(np.float32)})["global_out"]


def machop_outputs(graph: MaseGraph, x: torch.Tensor) -> np.ndarray:
    prepared, _ = prepare_graph(graph, HardwareOptions())
    return output_format(prepared).to_real(integer_reference(prepared, x)).numpy()


def precisions(graph: MaseGraph) -> dict[str, dict[str, list[int]]]:
    """Node -> operand -> [width, frac, signed], from the metadata and the node's quantisers."""
    found = {}
    for node in graph.nodes:
        quantizers = node_quantizers(graph.model, node)
        args = node.meta["mase"]["common"]["args"]
        found[node.name] = {arg: [*entry["precision"], int(quantizers["data_in" if arg.startswith("data_in") else arg]
                                                           .signed)]
                            for arg, entry in args.items() if hasattr(entry, "keys") and entry["type"] == "integer"}
    return {name: operands for name, operands in found.items() if operands}


def widened(fmt: FixedFormat) -> list[int]:
    """A constant's format as the import holds it: ``integer`` needs frac <= width, the codes stay."""
    return [max(fmt.width, fmt.frac), fmt.frac, int(fmt.signed)]


@pytest.mark.parametrize(("name", "config"), [("jsc-tiny", INTEGER_8_4), ("jsc-tiny", WEIGHTS_4),
                                              ("jsc-toy", INTEGER_8_4), ("jsc-s", INTEGER_8_4),
                                              ("jsc-three-linear", INTEGER_8_4)])
def test_an_export_reads_back_with_the_prepared_formats_and_computes_qonnxs_codes(
        tmp_path: Path, data: Any, name: str, config: dict[str, Any]) -> None:
    exported, *_ = export_model(fresh(name), quantise(config), data)
    path = tmp_path / "model.onnx"
    path.write_bytes(exported)
    graph = MaseGraph.from_qonnx(path)
    x = torch.from_numpy(data.x_test)
    got = machop_outputs(graph, x)
    assert (got == qonnx_outputs(path, x)).all() and got.shape == (20000, 5)

    original, _ = prepare_graph(quantised_graphs(fresh(name), quantise(config), data).quantised, HardwareOptions())
    twins = {node.name: original.model.get_submodule(str(node.target)) for node in original.nodes
             if node.op == "call_module" and node.name != "fixed_input"}
    expected = {}
    for node_name, twin in twins.items():
        expected[node_name] = {"data_in_0": twin.in_format.as_list()}
        if isinstance(twin, FixedLinear):
            expected[node_name].update(weight=widened(twin.weight_format),
                                       bias=widened(constant_format(twin.bias, twin.acc_format.frac)))
        if isinstance(twin, FixedAffine):
            expected[node_name].update(weight=widened(twin.scale_format),
                                       bias=widened(constant_format(twin.shift, twin.acc_format.frac)))
    assert precisions(graph) == expected
    again, _ = prepare_graph(graph, HardwareOptions())
    for node_name, twin in twins.items():  # the same twins: codes and formats (a widened weight keeps its frac)
        back = again.model.get_submodule(node_name)
        assert type(back) is type(twin) and (back.in_format, back.out_format) == (twin.in_format, twin.out_format)
        for buffer in ("weight", "bias", "scale", "shift"):
            if hasattr(twin, buffer):
                assert torch.equal(getattr(back, buffer), getattr(twin, buffer))
        if isinstance(twin, (FixedLinear, FixedAffine)):
            assert back.acc_format == twin.acc_format


class QonnxFile:
    """A QONNX graph written node by node, as a test or another tool would write one."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []

    def constant(self, name: str, values: Any) -> str:
        self.initializers.append(numpy_helper.from_array(np.asarray(values, dtype=np.float32), name))
        return name

    def quant(self, source: str, name: str, width: int, frac: int, signed: bool = True, scale: float | None = None,
              zeropt: float = 0.0, **attributes: Any) -> str:
        inputs = [source, self.constant(f"{name}.scale", 2.0**-frac if scale is None else scale),
                  self.constant(f"{name}.zeropt", zeropt), self.constant(f"{name}.bitwidth", width)]
        attributes = {"signed": int(signed), "narrow": 0, "rounding_mode": "ROUND", **attributes}
        self.nodes.append(helper.make_node("Quant", inputs, [name], name=name, domain="qonnx.custom_op.general",
                                           **attributes))
        return name

    def op(self, op: str, inputs: list[str], name: str, **attributes: Any) -> str:
        self.nodes.append(helper.make_node(op, inputs, [name], name=name, **attributes))
        return name

    def save(self, path: Path, output: str, features: int = 6, out_features: int = 5) -> Path:
        graph = helper.make_graph(self.nodes, "written", [helper.make_tensor_value_info("inp", TensorProto.FLOAT,
                                                                                        [1, features])],
                                  [helper.make_tensor_value_info(output, TensorProto.FLOAT, [1, out_features])],
                                  self.initializers)
        onnx.save(qonnx_make_model(graph), str(path))
        return path


def written_mlp(path: Path, defect: str = "") -> Path:
    """input Quant -> Mul+Add (an affine) -> Quant -> Relu -> unsigned Quant -> Gemm -> Quant -> MatMul+Add -> Quant,
    then a residual Add of the two Quant'd linear outputs. ``defect`` breaks one thing, for the error tests."""
    gen = np.random.default_rng(0)
    f = QonnxFile()
    xq = f.quant("inp", "xq", 7, 3, scale=0.3 if defect == "scale" else None, zeropt=1.0 if defect == "zeropt" else 0.0)
    scale = f.quant(f.constant("bn.s", gen.uniform(0.5, 1.5, 6)), "bn.scale", 6, 4)
    shift = f.quant(f.constant("bn.t", gen.normal(0, 0.5, 6)), "bn.shift", 10, 7)
    bn = f.quant(f.op("Add", [f.op("Mul", [xq, scale], "bn"), shift], "bn.acc"), "bn.q", 8, 4)
    bn = f.quant(bn, "bn.q2", 8, 3) if defect == "twice" else bn
    relu = f.op("Sigmoid" if defect == "op" else "Relu", [bn], "relu")
    relu_q = relu if defect == "no-quant" else f.quant(relu, "relu.q", 7, 4, signed=False,
                                                       rounding_mode="FLOOR" if defect == "floor" else "ROUND",
                                                       narrow=int(defect == "narrow"))
    w1 = f.quant(f.constant("fc1.w", gen.normal(0, 0.6, (5, 6))), "fc1.weight", 5, 3)  # rounded by its Quant
    b1 = f.quant(f.constant("fc1.b", gen.normal(0, 0.5, 5)), "fc1.bias", 12, 7)
    fc1 = f.quant(f.op("Gemm", [relu_q, w1, b1], "fc1", transB=1), "fc1.q", 8, 3)
    w2 = f.quant(f.constant("fc2.w", gen.normal(0, 0.4, (5, 5))), "fc2.weight", 6, 4)
    b2 = f.quant(f.constant("fc2.b", gen.normal(0, 0.5, 5)), "fc2.bias", 11, 7)
    fc2 = f.quant(f.op("Add", [f.op("MatMul", [fc1, w2], "fc2"), b2], "fc2.acc"), "fc2.q", 8, 3)
    out = f.op("Add", [fc1, fc2], "res")
    return f.save(path, f.quant(out, "out.q", 8, 3) if defect == "output-quant" else out)


def test_a_qonnx_mlp_written_with_onnx_helper_reads_into_machops_formats_and_computes_qonnxs_codes(
        tmp_path: Path) -> None:
    path = written_mlp(tmp_path / "mlp.onnx")
    graph = MaseGraph.from_qonnx(path)
    assert [node.name for node in graph.nodes] == ["x", "bn", "relu", "fc1", "fc2", "res", "output"]
    assert precisions(graph) == {
        "bn": {"data_in_0": [7, 3, 1], "weight": [6, 4, 1], "bias": [10, 7, 1]},
        "relu": {"data_in_0": [8, 4, 1]},
        "fc1": {"data_in_0": [7, 4, 0], "weight": [5, 3, 1], "bias": [12, 7, 1]},
        "fc2": {"data_in_0": [8, 3, 1], "weight": [6, 4, 1], "bias": [11, 7, 1]},
        "res": {"data_in_0": [8, 3, 1], "data_in_1": [8, 3, 1]},
    }
    gen = torch.Generator().manual_seed(1)
    x = torch.randn((512, 6), generator=gen, dtype=torch.float64) * 6  # beyond fixed<7,3>'s range too
    x[:64] = torch.round(x[:64] * 16) / 16  # ties of the input's grid
    expected = qonnx_outputs(path, x)
    assert np.array_equal(machop_outputs(graph, x), expected)
    assert len(np.unique(expected)) > 50  # the outputs vary: the check is not of a constant
    prepared, _ = prepare_graph(graph, HardwareOptions())
    kinds = [m.kind for m in prepared.model.children() if isinstance(m, HardwareOp)]
    assert kinds == ["fixed_input", "fixed_affine", "fixed_relu", "fixed_linear", "fixed_linear", "fixed_add"]


def test_bipolar_weights_read_as_2_bit_codes_of_plus_and_minus_one(tmp_path: Path) -> None:
    f = QonnxFile()
    weights = np.random.default_rng(2).normal(0, 1, (6, 5))
    xq = f.quant("inp", "xq", 6, 3)
    out = f.op("MatMul", [xq, f.quant(f.constant("w", weights), "fc.weight", 1, 0)], "fc")
    path = f.save(tmp_path / "bipolar.onnx", out)
    graph = MaseGraph.from_qonnx(path)
    assert precisions(graph) == {"fc": {"data_in_0": [6, 3, 1], "weight": [2, 0, 1]}}
    assert torch.equal(graph.model.get_submodule("fc").weight.detach(),
                       torch.from_numpy(np.where(weights >= 0, 1.0, -1.0).T).float())
    x = torch.randn((256, 6), generator=torch.Generator().manual_seed(3), dtype=torch.float64) * 3
    assert np.array_equal(machop_outputs(graph, x), qonnx_outputs(path, x))


@pytest.mark.parametrize(("defect", "message"), [
    ("scale", "node 'xq' (Quant): scale 0.3 is not a power of two; machop's fixed-point formats have scales 2^-frac"),
    ("zeropt", "node 'xq' (Quant): zero point 1 is not 0; machop's fixed-point formats have none"),
    ("op", "node 'relu' (Sigmoid) has no machop form; a QONNX MLP of Quant, MatMul/Gemm, Add, Mul, Relu and "
           "Identity nodes is read"),
    ("no-quant", "node 'fc1' (Gemm) reads 'relu', which no Quant node quantises; machop quantises the input of every "
                 "op (its data_in format): put a Quant before it"),
    ("floor", "node 'relu.q' (Quant): rounding_mode FLOOR is not machop's round half to even (ROUND)"),
    ("narrow", "node 'relu.q' (Quant): narrow = 1 (a range one code short of ufixed<7,4>'s) has no machop format; "
               "use narrow = 0"),
    ("twice", "node 'bn.q2' (Quant) requantises the output of Quant 'bn.q'; machop rounds once between two ops: "
              "remove one of them"),
    ("output-quant", "node 'out.q' (Quant) requantises the graph output, which machop's graph does not (its output "
                     "keeps the exact format of its last op); remove it"),
])
def test_what_machop_cannot_express_is_a_one_line_error_naming_the_node_and_value(
        tmp_path: Path, defect: str, message: str) -> None:
    with pytest.raises(ModelError) as error:
        MaseGraph.from_qonnx(written_mlp(tmp_path / "mlp.onnx", defect))
    assert str(error.value) == message


def test_a_missing_or_foreign_file_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as error:
        MaseGraph.from_qonnx(tmp_path / "none.onnx")
    assert str(error.value) == f"no QONNX file at {tmp_path / 'none.onnx'}"
    (tmp_path / "text.onnx").write_text("not a model")
    with pytest.raises(ModelError) as error:
        MaseGraph.from_qonnx(tmp_path / "text.onnx")
    assert str(error.value).startswith(f"cannot read {tmp_path / 'text.onnx'} as an ONNX model: ")
