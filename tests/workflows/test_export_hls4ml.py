"""``chop.workflows.export_hls4ml``: zoo models and random MLPs through hls4ml's C++ emulation, bit for bit.

The reference is computed here without the exporter: the integer reference of the graph the test
quantises and prepares itself. hls4ml's outputs are read by calling the compiled library the export
left in the project (``firmware/machop-<stamp>.so``) with ``ctypes``, not through the exporter; the
precisions are read from the written ``defines.h`` and ``machop.cpp``. Every C++ build of the module
goes through one cache directory, so a model compiled twice is compiled once.
"""

from __future__ import annotations

import ctypes
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import numpy.ctypeslib as npc
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import Tensor, nn

from chop.dataset import load_dataset
from chop.errors import ExportError
from chop.hardware.fixed import FixedFormat
from chop.hardware.ops import FixedAffine, FixedInput, FixedLinear, FixedReLU, HardwareOp
from chop.hardware.reference import integer_reference, output_format
from chop.ir.graph.mase_graph import trace
from chop.models import get_model
from chop.models.input_shape import example_batch
from chop.workflows import export_hls4ml
from chop.workflows.export_hls4ml import (EXPORT_DIR, build_library, convert, mirror_model, run_export_hls4ml,
                                          write_and_compile)
from chop.workflows.hardware import HardwareOptions, prepare_graph, quantised_graphs
from export_helpers import INTEGER_8_4, MINIFLOAT, WEIGHTS_4, quantise

def mixed(linears: list[str]) -> dict[str, Any]:
    """Data 8/4; weights 6/5 in the first linear, 3/2 in the hidden ones, 8/6 in the last (benchmarks' mixed point)."""
    passes: dict[str, Any] = {"by": "name", "default": {"config": INTEGER_8_4}}
    for k, name in enumerate(linears):
        weight = (6, 5) if k == 0 else (8, 6) if k == len(linears) - 1 else (3, 2)
        passes[name] = {"config": {**INTEGER_8_4, "weight_width": weight[0], "weight_frac_width": weight[1]}}
    return {"quantize": passes}


@pytest.fixture(scope="module")
def data() -> Any:
    return load_dataset("jsc-pythia")


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The module's compiled emulations."""
    return tmp_path_factory.mktemp("hls4ml-cache")


def fresh(name: str, trained_like: bool = False) -> nn.Module:
    """A seeded zoo model; ``trained_like``: its batch norms get random statistics (else each is the identity)."""
    torch.manual_seed(0)
    model = get_model(name)
    if trained_like:
        with torch.no_grad():
            for module in model.modules():
                if isinstance(module, nn.BatchNorm1d):
                    module.weight.uniform_(0.5, 2.0)
                    module.bias.uniform_(-0.5, 0.5)
                    module.running_mean.uniform_(-1.0, 1.0)
                    module.running_var.uniform_(0.25, 4.0)
    return model


def emulated(project: Path, x: np.ndarray, outputs: int) -> np.ndarray:
    """The library in ``project/firmware`` run row by row with ``ctypes`` (hls4ml's ``machop_double`` bridge)."""
    libraries = list((project / "firmware").glob("machop-*.so"))
    assert len(libraries) == 1
    function = ctypes.CDLL(str(libraries[0])).machop_double
    function.restype = None
    function.argtypes = [npc.ndpointer(ctypes.c_double, flags="C_CONTIGUOUS")] * 2
    rows = np.zeros((len(x), outputs), dtype=np.float64)
    for row, out in zip(np.ascontiguousarray(x, dtype=np.float64), rows):
        function(np.ascontiguousarray(row), out)
    return rows


def reference(model: nn.Module, passes: dict[str, Any], data: Any, options: HardwareOptions) -> tuple[Any, Tensor]:
    """The test's own prepared graph and its output reals on the whole test split."""
    prepared, _ = prepare_graph(quantised_graphs(model, passes, data).quantised, options)
    x = example_batch(model, data.x_test)
    return prepared, output_format(prepared).to_real(integer_reference(prepared, x))


ROUND_TRIPS = {
    "jsc-tiny-identity-bn-8-4": ("jsc-tiny", False, quantise(INTEGER_8_4), HardwareOptions()),
    "jsc-tiny-affine-weights-4": ("jsc-tiny", True, quantise(WEIGHTS_4), HardwareOptions()),
    "jsc-toy-folded-8-4": ("jsc-toy", True, quantise(INTEGER_8_4), HardwareOptions()),
    "jsc-toy-mixed-affines": ("jsc-toy", True, mixed(["seq_blocks_2", "seq_blocks_5", "seq_blocks_8"]),
                              HardwareOptions(fold_batchnorm=False)),
    "jsc-s-8-4": ("jsc-s", False, quantise(INTEGER_8_4), HardwareOptions()),
}


@pytest.fixture(scope="module")
def exports(data: Any, cache: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Each round trip exported once (a C++ build each), shared by the tests that read them."""
    done = {}
    for case, (name, trained_like, passes, options) in ROUND_TRIPS.items():
        project = tmp_path_factory.mktemp(case)
        done[case] = run_export_hls4ml(fresh(name, trained_like), passes, data, project, options, cache=cache)
    return done


@pytest.mark.parametrize("case", list(ROUND_TRIPS))
def test_the_emulation_equals_the_integer_reference_on_the_whole_test_split(
        data: Any, exports: dict[str, Any], case: str) -> None:
    name, trained_like, passes, options = ROUND_TRIPS[case]
    outcome = exports[case]
    prepared, expected = reference(fresh(name, trained_like), passes, data, options)
    x = example_batch(fresh(name), data.x_test).numpy()
    got = emulated(outcome.export_dir, x, 5)
    assert got.shape == tuple(expected.shape) == (20000, 5)
    assert (got == expected.numpy()).all()
    c = outcome.comparison
    assert (c.rows, c.mismatching_rows, c.max_abs_difference) == (20000, 0, 0.0)
    y = torch.as_tensor(data.y_test).long()
    assert c.hls4ml_accuracy == c.prepared_accuracy == float((torch.as_tensor(got).argmax(1) == y).double().mean())
    summary = json.loads((outcome.export_dir / "summary.json").read_text())
    assert summary == outcome.as_json() and summary["mismatching_rows"] == 0
    assert "not available here" in summary["vendor_synthesis"]


def test_an_affine_batch_norm_is_hls4mls_batch_normalization_and_an_identity_one_a_dense(
        exports: dict[str, Any]) -> None:
    affine = (exports["jsc-tiny-affine-weights-4"].export_dir / "firmware" / "machop.cpp").read_text()
    identity = (exports["jsc-tiny-identity-bn-8-4"].export_dir / "firmware" / "machop.cpp").read_text()
    assert re.search(r"nnet::normalize<.*// seq_blocks_0$", affine, re.M)
    assert re.search(r"nnet::dense<.*// seq_blocks_0$", identity, re.M)
    mixed_toy = (exports["jsc-toy-mixed-affines"].export_dir / "firmware" / "machop.cpp").read_text()
    assert len(re.findall(r"nnet::normalize<", mixed_toy)) == 4  # no fold: every batch norm is an affine
    folded_toy = (exports["jsc-toy-folded-8-4"].export_dir / "firmware" / "machop.cpp").read_text()
    assert len(re.findall(r"nnet::normalize<", folded_toy)) == 1  # only the input one, before a ReLU, stays


def holding(values: list[int], frac: int) -> FixedFormat:
    return FixedFormat.holding(min(0, *values), max(0, *values), frac)


def dense_accumulator(weight: Tensor, bias: Tensor, in_format: FixedFormat, shift: int, frac: int) -> FixedFormat:
    """What hls4ml's Dense stores in ``accum_t``: every product, and the bias plus any of them: the narrowest
    format holding the row sums with and without the bias."""
    lo = torch.minimum(weight * in_format.lo, weight * in_format.hi).sum(1) << shift
    hi = torch.maximum(weight * in_format.lo, weight * in_format.hi).sum(1) << shift
    return FixedFormat.holding(int(torch.minimum(lo, lo + bias).min()), int(torch.maximum(hi, hi + bias).max()), frac)


def ap_type(fmt: FixedFormat) -> str:
    """The ap_fixed type machop's format must be in ``defines.h``: W bits, W - F integer bits, AP_RND_CONV, AP_SAT."""
    return f"ap_{'' if fmt.signed else 'u'}fixed<{fmt.width},{fmt.width - fmt.frac},AP_RND_CONV,AP_SAT,0>"


def written_types(project: Path) -> tuple[dict[str, str], dict[str, str]]:
    """``defines.h``'s typedefs (name -> type), and each layer's result type name from ``machop.cpp``'s calls
    (the template argument before the config: ``nnet::dense<input_t, layer2_t, config2>(...); // seq_blocks_0``)."""
    typedefs = dict((name, kind) for kind, name in
                    re.findall(r"^typedef (.+) (\w+);$", (project / "firmware" / "defines.h").read_text(), re.M))
    results = {layer: result for result, layer in
               re.findall(r"nnet::\w+<(?:\w+, )+(\w+), \w+>\(.*\); // (\w+)$",
                          (project / "firmware" / "machop.cpp").read_text(), re.M)}
    return typedefs, results


@pytest.mark.parametrize("case", ["jsc-tiny-affine-weights-4", "jsc-toy-mixed-affines", "jsc-s-8-4"])
def test_the_written_precisions_are_machops_layer_by_layer(data: Any, exports: dict[str, Any], case: str) -> None:
    name, trained_like, passes, options = ROUND_TRIPS[case]
    prepared, _ = reference(fresh(name, trained_like), passes, data, options)
    typedefs, results = written_types(exports[case].export_dir)
    checked = 0
    for node in prepared.model.graph.nodes:
        if node.op != "call_module":
            continue
        twin = prepared.model.get_submodule(str(node.target))
        if isinstance(twin, FixedInput):
            assert typedefs["input_t"] == ap_type(twin.out_format)
            continue
        assert typedefs[results[node.name]] == ap_type(twin.out_format), node.name
        if isinstance(twin, FixedLinear):
            assert typedefs[f"{node.name}_weight_t"] == ap_type(twin.weight_format)
            assert typedefs[f"{node.name}_bias_t"] == ap_type(holding(twin.bias.tolist(), twin.acc_format.frac))
            assert typedefs[f"{node.name}_accum_t"] == ap_type(dense_accumulator(
                twin.weight, twin.bias, twin.in_format, twin.product_shift, twin.acc_format.frac))
        elif isinstance(twin, FixedAffine) and (twin.scale == 2**twin.scale_format.frac).all() and not twin.shift.any():
            # an identity (untrained) batch norm is a Dense with the identity matrix: weights 0/1, bias 0
            assert typedefs[f"{node.name}_weight_t"] == "ap_ufixed<1,1,AP_RND_CONV,AP_SAT,0>"
            assert typedefs[f"{node.name}_bias_t"] == ap_type(FixedFormat(1, twin.in_format.frac, False))
            assert typedefs[f"{node.name}_accum_t"] == ap_type(twin.in_format)
        elif isinstance(twin, FixedAffine):
            assert typedefs[f"{node.name}_scale_t"] == ap_type(twin.scale_format)
            assert typedefs[f"{node.name}_bias_t"] == ap_type(holding(twin.shift.tolist(), twin.acc_format.frac))
        else:
            assert isinstance(twin, FixedReLU)
        checked += 1
    assert checked == len(results)  # every layer hls4ml wrote is one of machop's, and every one is checked
    assert not any("16,6" in kind for kind in typedefs.values())  # nothing of hls4ml's default precision


def test_the_written_weights_are_the_twins_codes(data: Any, exports: dict[str, Any]) -> None:
    """``weights/w*.h`` holds every weight exactly (decimal text of codes × 2^-frac), in hls4ml's (in, out) order."""
    name, trained_like, passes, options = ROUND_TRIPS["jsc-toy-mixed-affines"]
    prepared, _ = reference(fresh(name, trained_like), passes, data, options)
    firmware = exports["jsc-toy-mixed-affines"].export_dir / "firmware"
    linear = prepared.model.get_submodule("seq_blocks_5")
    header = next(path for path in (firmware / "weights").glob("w*.h") if "seq_blocks_5_weight_t" in path.read_text())
    values = np.array([float(v) for v in re.search(r"\{(.*)\}", header.read_text()).group(1).split(",")])
    expected = (linear.weight.double() * 2.0**-linear.weight_format.frac).T.reshape(-1).numpy()
    assert values.shape == expected.shape and (values == expected).all()


def test_a_rerun_reuses_the_cached_build_and_versions_the_earlier_export(
        data: Any, cache: Path, exports: dict[str, Any], tmp_path: Path) -> None:
    first = exports["jsc-tiny-identity-bn-8-4"]
    assert not first.library.cached and first.library.build_seconds > 0
    name, trained_like, passes, options = ROUND_TRIPS["jsc-tiny-identity-bn-8-4"]
    again = run_export_hls4ml(fresh(name, trained_like), passes, data, first.export_dir.parent.parent, options,
                              cache=cache)
    assert again.library.cached and again.library.path == first.library.path and again.library.build_seconds == 0
    assert again.kept == first.export_dir.parent / "hls4ml-v1" and (again.kept / "summary.json").is_file()
    assert again.comparison == first.comparison
    assert (cache / first.library.key / "build.log").is_file()
    other = exports["jsc-tiny-affine-weights-4"]
    assert other.library.key != first.library.key


def test_a_dense_accumulator_also_holds_the_products_before_a_large_bias() -> None:
    """Sums 100 + (x0 - x1) over 4-bit inputs lie in 85..115 (machop: ufixed<7,0>); the products alone reach
    -15..15, which hls4ml stores in accum_t too: fixed<8,0> holds both."""
    fmt = FixedFormat(4, 0)
    linear = FixedLinear(torch.tensor([[1, -1]]), torch.tensor([100]), fmt, FixedFormat(2, 0), FixedFormat(7, 0, False),
                         FixedFormat(8, 0, False))
    assert export_hls4ml.dense_accumulator(linear) == FixedFormat(8, 0)
    unbiased = FixedLinear(torch.tensor([[1, -1]]), torch.tensor([0]), fmt, FixedFormat(2, 0), FixedFormat(5, 0),
                           FixedFormat(8, 0))
    assert export_hls4ml.dense_accumulator(unbiased) == FixedFormat(5, 0)  # machop's, unchanged


# --- random MLPs ------------------------------------------------------------------------------------------

@st.composite
def mlps(draw: st.DrawFn) -> tuple[list[HardwareOp], int, int]:
    """FixedInput, then 1-2 blocks of a linear or a per-channel affine, each maybe followed by a ReLU; random
    formats (widths 2..10, fraction bits -2..10, either sign) and constants over their whole code range, the
    bias anywhere in a wide range (so a Dense's products can lie outside its biased sums); and a seed."""
    def fmt() -> FixedFormat:
        return FixedFormat(draw(st.integers(2, 10)), draw(st.integers(-2, 10)), draw(st.booleans()))

    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    features = [draw(st.integers(1, 6))]
    current = fmt()
    modules: list[HardwareOp] = [FixedInput(current)]
    for _ in range(draw(st.integers(1, 2))):
        weight_format, out, shift = fmt(), fmt(), draw(st.integers(0, 2))
        frac = current.frac + weight_format.frac + shift
        n_in = features[-1]
        n_out = n_in if draw(st.booleans()) else draw(st.integers(1, 6))
        bias = torch.randint(-(2 ** (current.width + 3)), 2 ** (current.width + 3), (n_out,), generator=gen)
        if n_out == n_in and draw(st.booleans()):
            scale = torch.randint(weight_format.lo, weight_format.hi + 1, (n_in,), generator=gen)
            lo = (torch.minimum(scale * current.lo, scale * current.hi) << shift) + bias
            hi = (torch.maximum(scale * current.lo, scale * current.hi) << shift) + bias
            acc = FixedFormat.holding(int(lo.min()), int(hi.max()), frac)
            modules.append(FixedAffine(scale, bias, current, weight_format, acc, out))
        else:
            weight = torch.randint(weight_format.lo, weight_format.hi + 1, (n_out, n_in), generator=gen)
            lo = (torch.minimum(weight * current.lo, weight * current.hi).sum(1) << shift) + bias
            hi = (torch.maximum(weight * current.lo, weight * current.hi).sum(1) << shift) + bias
            acc = FixedFormat.holding(int(lo.min()), int(hi.max()), frac)
            modules.append(FixedLinear(weight, bias, current, weight_format, acc, out))
        features.append(n_out)
        current = out
        if draw(st.booleans()):
            out = fmt()
            modules.append(FixedReLU(current, out))
            current = out
    return modules, features[0], draw(st.integers(0, 2**31 - 1))


def inputs(fmt: FixedFormat, features: int, seed: int) -> Tensor:
    """Reals on and between the input format's grid points (exact ties included) and beyond its range."""
    gen = torch.Generator().manual_seed(seed)
    codes = torch.randint(fmt.lo - 4, fmt.hi + 5, (400, features), generator=gen).to(torch.float64)
    offsets = torch.tensor([0.0, 0.5, -0.5, 0.25, 0.75])[torch.randint(0, 5, (400, features), generator=gen)]
    corners = torch.tensor([[fmt.lo], [fmt.hi], [0.0], [fmt.lo - 0.5], [fmt.hi + 0.5]], dtype=torch.float64)
    return torch.cat([corners.expand(-1, features), codes + offsets]) * fmt.step


@pytest.mark.property
@settings(max_examples=4)
@given(mlps())
def test_random_mlps_and_formats_are_bit_exact_in_the_emulation(cache: Path, tmp_path_factory: pytest.TempPathFactory,
                                                                 drawn: tuple[list[HardwareOp], int, int]) -> None:
    modules, features, seed = drawn
    prepared = trace(nn.Sequential(*modules), leaf_modules=[HardwareOp])
    x = inputs(modules[0].out_format, features, seed)
    expected = modules[-1].out_format.to_real(integer_reference(prepared, x)).numpy()
    sources = [(m, m.in_format if isinstance(m, FixedReLU) else m.acc_format if isinstance(m, FixedAffine) else
                dense_accumulator(m.weight, m.bias, m.in_format, m.product_shift, m.acc_format.frac))
               for m in modules[1:]]
    degenerate = [(m, source) for m, source in sources if source.frac - m.out_format.frac > source.width]
    if degenerate:  # every output of that layer is 0, and ap_fixed asserts converting it: a one-line error
        with pytest.raises(ExportError, match=f"drops {degenerate[0][1].frac - degenerate[0][0].out_format.frac} "
                                              f"fraction bits, more than the {degenerate[0][1].width} it has"):
            mirror_model(prepared)
        return
    project = tmp_path_factory.mktemp("mlp")
    model = convert(mirror_model(prepared), (x.shape[1],), project)
    write_and_compile(model, project, cache)
    got = emulated(project, x.numpy(), expected.shape[1])
    assert got.shape == expected.shape and (got == expected).all()


# --- errors -----------------------------------------------------------------------------------------------

def test_a_minifloat_format_is_a_one_line_error_naming_the_node_and_format(data: Any, tmp_path: Path) -> None:
    with pytest.raises(ExportError) as error:
        run_export_hls4ml(fresh("jsc-tiny"), quantise(MINIFLOAT), data, tmp_path)
    message = str(error.value)
    assert message.startswith("quantised hls4ml export (through the hardware preparation): node 'seq_blocks_0'")
    assert "'minifloat_ieee'" in message and "\n" not in message
    assert not (tmp_path / EXPORT_DIR).exists()


class Residual(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(16, 16)
        self.out = nn.Linear(16, 5)

    def forward(self, x: Tensor) -> Tensor:
        return self.out(torch.relu(self.fc(x)) + x)


def test_a_residual_add_is_hls4mls_merge_and_equals_the_integer_reference(
        data: Any, cache: Path, tmp_path: Path) -> None:
    torch.manual_seed(0)
    outcome = run_export_hls4ml(Residual(), quantise(INTEGER_8_4), data, tmp_path, cache=cache)
    torch.manual_seed(0)
    prepared, expected = reference(Residual(), quantise(INTEGER_8_4), data, HardwareOptions())
    got = emulated(outcome.export_dir, data.x_test, 5)
    assert (got == expected.numpy()).all() and outcome.comparison.mismatching_rows == 0
    add = prepared.model.get_submodule("add")
    typedefs, results = written_types(outcome.export_dir)
    assert typedefs[results["add"]] == ap_type(add.out_format)
    assert re.search(r"nnet::add<.*// add$", (outcome.export_dir / "firmware" / "machop.cpp").read_text(), re.M)


def test_an_op_the_export_does_not_write_is_a_one_line_error_naming_the_node() -> None:
    fmt = FixedFormat(8, 4)
    linear = FixedLinear(torch.ones(2, 4, dtype=torch.int64), torch.zeros(2, dtype=torch.int64), fmt, fmt,
                         FixedFormat(12, 8), fmt)
    graph = trace(nn.Sequential(FixedInput(fmt), nn.Flatten(), linear), leaf_modules=[HardwareOp])
    with pytest.raises(ExportError) as error:
        mirror_model(graph)
    assert str(error.value) == ("node '_1' (Flatten) has no hls4ml form in machop's export; linear layers, "
                                "batch norms (folded or affine), ReLUs and adds do")


def test_a_float_model_is_a_one_line_error_naming_its_first_float_node(data: Any, tmp_path: Path) -> None:
    with pytest.raises(ExportError) as error:
        run_export_hls4ml(fresh("jsc-tiny"), {}, data, tmp_path)
    assert str(error.value) == ("quantised hls4ml export (through the hardware preparation): node 'seq_blocks_0' (batch_norm1d) "
                                "is not quantised; give it a [passes.quantize] entry with name = \"integer\"")


def test_a_compile_failure_is_a_one_line_error_with_the_log_path(exports: dict[str, Any], tmp_path: Path) -> None:
    project = tmp_path / "broken"
    source = exports["jsc-tiny-identity-bn-8-4"].export_dir
    for path in [source / "machop_bridge.cpp", source / "build_lib.sh", *(source / "firmware").rglob("*")]:
        if path.is_file() and path.suffix != ".so":
            target = project / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    with open(project / "firmware" / "machop.cpp", "a") as cpp:
        cpp.write("\nthis is not C++;\n")
    stamp = re.search(r"LIB_STAMP=(\w+)", (project / "build_lib.sh").read_text()).group(1)
    with pytest.raises(ExportError) as error:
        build_library(project, stamp, tmp_path / "cache")
    match = re.fullmatch(r"hls4ml's C\+\+ emulation of (\S+) did not compile \(g\+\+ exit 1\); see (\S+)",
                         str(error.value))
    assert match and match.group(1) == str(project)
    log = Path(match.group(2))
    assert log.parent.name.endswith(".failed") and "error" in log.read_text()
    assert not list((tmp_path / "cache").glob("*.build-*"))  # the build folder is gone; no entry was made
    assert [entry.name.endswith(".failed") for entry in (tmp_path / "cache").iterdir()] == [True]


def test_without_gpp_the_error_says_what_to_install(exports: dict[str, Any], tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ExportError) as error:
        build_library(exports["jsc-tiny-identity-bn-8-4"].export_dir, "x", tmp_path / "cache")
    assert str(error.value) == "hls4ml's C++ emulation needs g++ on PATH; install it (e.g. apt install g++)"
