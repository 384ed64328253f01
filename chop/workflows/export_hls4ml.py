"""``ch export hls4ml`` as library calls: the prepared graph as an hls4ml project, checked by its C++ emulation.

The hls4ml model is built from the *prepared* graph of ``chop.hardware`` (the fixed-point twins
whose integer reference the RTL matches), never from hls4ml's defaults:

- a plain float64 torch model mirrors the prepared graph node for node, under the prepared node
  names: a ``FixedLinear`` becomes an ``nn.Linear`` holding its dequantised integer constants
  (weight codes × 2^-frac, bias codes at the accumulator's frac), a ``FixedAffine`` (a batch norm
  that did not fold) an ``nn.BatchNorm1d`` with mean 0, variance 1 and eps 0, so that hls4ml's
  ``gamma / sqrt(var + eps)`` and ``beta - mean * scale`` are exactly the affine's scale and shift
  (an identity affine, which hls4ml would delete, a Dense with the identity matrix), a ``FixedReLU``
  an ``nn.ReLU``, a ``FixedAdd`` a ``+`` (hls4ml's Merge); the ``FixedInput`` is hls4ml's input layer;
- ``hls4ml.converters.convert_from_pytorch_model`` reads it with a per-layer config
  (``granularity='name'``) in which every precision is machop's format (``precision_string``):
  machop's ``fixed<W,F>`` (F fraction bits) is hls4ml's ``fixed<W,W-F,RND_CONV,SAT>`` (W-F integer
  bits), ``ufixed`` when unsigned; ``AP_RND_CONV`` rounds half to even and ``AP_SAT`` saturates to
  the format's range, as machop's quantiser does. Backend Vivado, ``io_parallel``, strategy
  Latency; weights are compiled in (no ``.txt`` weight files), so the library depends on nothing
  outside itself.

Every requantisation is then hls4ml's assignment of an exact value to the result type: Dense sums
exact products into its accumulator and casts it to the result; BatchNormalization computes
``x * scale + bias`` at full precision and casts it; ReLU assigns ``max(x, 0)``, Merge the exact
sum. The one accumulator that may differ from machop's is a Dense's: hls4ml stores each product and
each partial sum (bias first) in ``accum_t``, so its range also covers the products without the
bias (machop's covers the finished sums; see ``dense_accumulator``).

hls4ml's ``ModelGraph.compile`` writes the project and runs its ``build_lib.sh`` (g++) in place.
machop runs that same script in a build folder of its cache (``build_library``), keyed by a hash of
the sources it compiles and of the compiler, so a rerun (and every test) loads the library built
before; the library is copied next to the sources as hls4ml would leave it, and ``predict`` is
hls4ml's. Vendor HLS (Vivado/Vitis synthesis) is not available here: the check is the C++ emulation.

Outputs go to ``{project_dir}/export/hls4ml/`` (the hls4ml project, then ``summary.json``); an
earlier export there is moved aside to ``hls4ml-vN`` first, and a failed run puts it back.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import io
import json
import operator
import os
import shutil
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, fx, nn

from chop.dataset.cache import cache_root
from chop.errors import ExportError
from chop.hardware.fixed import FixedFormat
from chop.hardware.ops import FixedAdd, FixedAffine, FixedInput, FixedLinear, FixedReLU, HardwareOp
from chop.hardware.prepare import linear_bounds
from chop.hardware.prepare.constants import stored_format
from chop.hardware.reference import accuracy_before_after, integer_reference, output_format
from chop.ir.graph.mase_graph import MaseGraph
from chop.tools.atomic import atomic_write_text
from chop.tools.versions import replacing
from chop.workflows.export_common import prepared_for_export
from chop.workflows.hardware import HardwareOptions, quantised_graphs, split_rows

EXPORT_DIR, SUMMARY_FILE = Path("export") / "hls4ml", "summary.json"
PROJECT_NAME = "machop"  # hls4ml's project: the top function machop(), firmware/machop.cpp
BACKEND, IO_TYPE, STRATEGY = "Vivado", "io_parallel", "Latency"
CACHE_DIR = "hls4ml"  # under machop's cache root ($MACHOP_CACHE_DIR or ~/.cache/machop)
LIBRARY, BUILD_LOG = "emulation.so", "build.log"
COMPILER = "g++"  # what hls4ml's build_lib.sh calls
VENDOR_SYNTHESIS = ("not run: Vivado/Vitis HLS is not available here; the check is hls4ml's C++ emulation "
                    "compiled with g++")


def _hls4ml() -> Any:
    try:
        import hls4ml
    except ImportError:
        raise ExportError("ch export hls4ml needs hls4ml: pip install 'machop[export]'") from None
    return hls4ml


# --- formats ---------------------------------------------------------------------------------------------

def precision_string(fmt: FixedFormat) -> str:
    """hls4ml's precision for ``fmt``: integer bits W-F, round half to even, saturation (machop's quantiser)."""
    return f"{'fixed' if fmt.signed else 'ufixed'}<{fmt.width},{fmt.width - fmt.frac},RND_CONV,SAT>"


def dense_accumulator(module: FixedLinear) -> FixedFormat:
    """The accumulator hls4ml's Dense needs: machop's, widened to hold the products before the bias is added.

    hls4ml stores every product ``x_j * w_rj`` in ``accum_t`` and sums them onto the bias one by
    one; every such value lies within the bounds of the sums with and without the bias (each
    product's range contains 0), so the narrowest format holding both is exact for all of them.
    """
    acc = module.acc_format
    no_bias = torch.zeros(len(module.weight), dtype=torch.int64)
    low, high = linear_bounds(module.weight, no_bias, module.in_format, module.product_shift)
    if acc.lo <= low and high <= acc.hi:
        return acc
    return FixedFormat.holding(min(low, acc.lo), max(high, acc.hi), acc.frac)


@dataclass(frozen=True)
class LayerPrecisions:
    """One hls4ml layer: its name (the prepared node's), the twin it mirrors, its hls4ml class and machop's format
    for each hls4ml precision key (``result``, ``weight``, ``bias``, ``accum``, ``scale``)."""

    name: str
    machop_kind: str
    hls4ml_class: str
    formats: dict[str, FixedFormat]
    constants: dict[str, np.ndarray] = field(default_factory=dict, compare=False)  # hls4ml's layout, reals

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "machop": self.machop_kind, "class": self.hls4ml_class,
                "precision": {key: precision_string(fmt) for key, fmt in self.formats.items()},
                "machop_format": {key: str(fmt) for key, fmt in self.formats.items()}}


def check_requantisation(where: str, source: FixedFormat, target: FixedFormat, operand: str) -> None:
    """A requantisation that drops more fraction bits than ``source`` has cannot be written for hls4ml.

    Every value of ``source`` then rounds to 0 (it is below half a step of ``target``), and
    hls4ml's ap_fixed conversion asserts on it ("Attempting to read bit beyond MSB" in ap_private)
    instead of computing that 0. ``source`` is what hls4ml converts: a Dense's ``accum``, a ReLU's
    input, a BatchNormalization's exact ``x * scale + bias`` (whose type is at least as wide as
    machop's accumulator, which stands for it here).
    """
    dropped = source.frac - target.frac
    if dropped > source.width:
        raise ExportError(f"{where}: requantising its {operand} {source} to {target} drops {dropped} fraction bits, "
                          f"more than the {source.width} it has, so every output is 0; hls4ml's ap_fixed types "
                          f"cannot convert that (ap_private asserts); give the output more fraction bits")


def _where(node: fx.Node, module: nn.Module | None) -> str:
    kind = module.kind if isinstance(module, HardwareOp) else type(module).__name__ if module is not None else node.op
    return f"node '{node.name}' ({kind})"


def _real(codes: Tensor, frac: int) -> Tensor:
    return codes.to(torch.float64) * 2.0**-frac


def _mirror_linear(module: FixedLinear) -> tuple[nn.Module, dict[str, FixedFormat], dict[str, np.ndarray]]:
    out_features, in_features = module.weight.shape
    linear = nn.Linear(in_features, out_features, dtype=torch.float64)
    with torch.no_grad():
        linear.weight.copy_(_real(module.weight, module.weight_format.frac))
        linear.bias.copy_(_real(module.bias, module.acc_format.frac))
    formats = {"weight": module.weight_format, "bias": stored_format(module.bias, module.acc_format.frac),
               "accum": dense_accumulator(module), "result": module.out_format}
    return linear, formats, _dense_constants(linear)


def _dense_constants(linear: nn.Linear) -> dict[str, np.ndarray]:
    """A Dense's weight as hls4ml stores it, (in, out), and its bias."""
    return {"weight": linear.weight.detach().T.numpy().copy(), "bias": linear.bias.detach().numpy().copy()}


def _mirror_affine(module: FixedAffine) -> tuple[nn.Module, dict[str, FixedFormat], dict[str, np.ndarray]]:
    channels = len(module.scale)
    norm = nn.BatchNorm1d(channels, eps=0.0, dtype=torch.float64)
    with torch.no_grad():
        norm.weight.copy_(_real(module.scale, module.scale_format.frac))
        norm.bias.copy_(_real(module.shift, module.acc_format.frac))
        norm.running_mean.zero_()
        norm.running_var.fill_(1.0)
    formats = {"scale": module.scale_format, "bias": stored_format(module.shift, module.acc_format.frac),
               "result": module.out_format}
    constants = {"scale": norm.weight.detach().numpy().copy(), "bias": norm.bias.detach().numpy().copy()}
    return norm.eval(), formats, constants


def is_identity(module: FixedAffine) -> bool:
    """Whether the affine multiplies by exactly 1 and adds 0 (an untrained batch norm): only its requantisation acts."""
    return bool((module.scale == 2**module.scale_format.frac).all() and (module.shift == 0).all())


def _mirror_identity(module: FixedAffine) -> tuple[nn.Module, dict[str, FixedFormat], dict[str, np.ndarray]]:
    """An identity affine as a Dense with the identity matrix: hls4ml removes a batch norm of scale 1 and bias 0
    (its ``remove_nop_batch_normalization``), and with it the requantisation to the affine's out format."""
    channels, fmt = len(module.scale), module.in_format
    linear = nn.Linear(channels, channels, dtype=torch.float64)
    with torch.no_grad():
        linear.weight.copy_(torch.eye(channels, dtype=torch.float64))
        linear.bias.zero_()
    zeros = torch.zeros(channels, dtype=torch.int64)
    formats = {"weight": FixedFormat(1, 0, False), "bias": stored_format(zeros, fmt.frac),
               "accum": FixedFormat.holding(fmt.lo, fmt.hi, fmt.frac), "result": module.out_format}
    return linear, formats, _dense_constants(linear)


@dataclass(frozen=True)
class Mirror:
    """The float64 torch model hls4ml reads, and machop's precisions for each of its layers (input first)."""

    model: fx.GraphModule
    layers: tuple[LayerPrecisions, ...]


def mirror_model(prepared: MaseGraph | fx.GraphModule) -> Mirror:
    """The prepared graph as a plain torch model whose constants are exactly the twins' (see the module docstring)."""
    module = prepared.model if isinstance(prepared, MaseGraph) else prepared
    graph, modules, env = fx.Graph(), {}, {}
    layers: list[LayerPrecisions] = []
    for node in module.graph.nodes:
        called = module.get_submodule(str(node.target)) if node.op == "call_module" else None
        if node.op == "placeholder":
            env[node] = graph.placeholder(node.name)
        elif node.op == "output":
            graph.output(env[node.args[0]])
        elif isinstance(called, FixedInput):
            env[node] = env[node.args[0]]  # hls4ml's input layer quantises: its result type is this format
            layers.append(LayerPrecisions(node.args[0].name, called.kind, "Input", {"result": called.out_format}))
        elif isinstance(called, (FixedLinear, FixedAffine, FixedReLU)):
            if isinstance(called, FixedLinear):
                (twin, formats, constants), hls4ml_class = _mirror_linear(called), "Dense"
            elif isinstance(called, FixedAffine) and is_identity(called):
                (twin, formats, constants), hls4ml_class = _mirror_identity(called), "Dense"
            elif isinstance(called, FixedAffine):
                (twin, formats, constants), hls4ml_class = _mirror_affine(called), "BatchNormalization"
            else:
                (twin, formats, constants), hls4ml_class = (nn.ReLU(), {"result": called.out_format}, {}), "Activation"
            source, operand = ((formats["accum"], "accumulator") if "accum" in formats else
                               (called.in_format, "input") if isinstance(called, FixedReLU) else
                               (called.acc_format, "accumulator"))
            check_requantisation(_where(node, called), source, called.out_format, operand)
            modules[node.name] = twin
            env[node] = graph.call_module(node.name, (env[node.args[0]],))
            layers.append(LayerPrecisions(node.name, called.kind, hls4ml_class, formats, constants))
        elif isinstance(called, FixedAdd):  # hls4ml's Merge add: the exact sum, cast to the result
            check_requantisation(_where(node, called), called.acc_format, called.out_format, "accumulator")
            env[node] = graph.create_node("call_function", operator.add, tuple(env[arg] for arg in node.args),
                                          name=node.name)
            layers.append(LayerPrecisions(node.name, called.kind, "Merge", {"result": called.out_format}))
        else:
            raise ExportError(f"{_where(node, called)} has no hls4ml form in machop's export; linear layers, "
                              f"batch norms (folded or affine), ReLUs and adds do")
    return Mirror(fx.GraphModule(modules, graph, "machop_hls4ml_mirror").eval(), tuple(layers))


# --- the hls4ml model -------------------------------------------------------------------------------------

def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


@contextlib.contextmanager
def _hls4ml_quiet() -> Iterator[None]:
    """hls4ml prints its progress ("Interpreting Model ..."); it is dropped, so ``--json``'s stdout stays JSON."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def hls_config(mirror: Mirror, input_shape: tuple[int, ...]) -> dict[str, Any]:
    """hls4ml's ``hls_config``: machop's precision for every layer and key, nothing left to hls4ml's defaults."""
    hls4ml = _hls4ml()
    with _hls4ml_quiet():
        config = hls4ml.utils.config_from_pytorch_model(mirror.model, input_shape=input_shape, granularity="name",
                                                        backend=BACKEND)
    names = config["LayerName"]
    ours = {layer.name for layer in mirror.layers}
    if set(names) != ours:
        raise ExportError(f"hls4ml reads the layers {sorted(names)}, machop wrote {sorted(ours)}; report it as a bug")
    for layer in mirror.layers:
        precisions = names[layer.name].setdefault("Precision", {})
        precisions.update({key: precision_string(fmt) for key, fmt in layer.formats.items()})
    config["Model"]["Strategy"] = STRATEGY
    return config


def convert(mirror: Mirror, input_shape: tuple[int, ...], output_dir: Path) -> Any:
    """The hls4ml ``ModelGraph`` of ``mirror`` (not written yet), its precisions checked against machop's."""
    hls4ml = _hls4ml()
    config = hls_config(mirror, input_shape)
    try:
        with _hls4ml_quiet():
            model = hls4ml.converters.convert_from_pytorch_model(
                mirror.model, output_dir=str(output_dir), project_name=PROJECT_NAME, backend=BACKEND,
                io_type=IO_TYPE, hls_config=config, write_weights_txt=False)
    except Exception as error:  # hls4ml raises plain Exceptions with its reasons
        raise ExportError(f"hls4ml cannot convert machop's model: {_first_line(error)}") from None
    _check_precisions(model, mirror)
    _check_constants(model, mirror)
    return model


def _check_precisions(model: Any, mirror: Mirror) -> None:
    """Every layer hls4ml built has machop's precisions (no optimiser fused, dropped or retyped one)."""
    built = {layer.name: layer for layer in model.get_layers()}
    for layer in mirror.layers:
        found = built.get(layer.name)
        if found is None or found.class_name != layer.hls4ml_class:
            raise ExportError(f"hls4ml turned layer '{layer.name}' ({layer.hls4ml_class}) into "
                              f"{found.class_name if found else 'nothing'}; report it as a bug")
        for key, fmt in layer.formats.items():
            got = found.get_attr(f"{key}_t").precision
            if str(got) != str(_hls4ml_precision(precision_string(fmt))):
                raise ExportError(f"hls4ml gives layer '{layer.name}' {key} {got}, machop derived "
                                  f"{precision_string(fmt)} ({fmt}); report it as a bug")
    if len(built) != len(mirror.layers):
        raise ExportError(f"hls4ml built the layers {sorted(built)}, machop wrote {[l.name for l in mirror.layers]}; "
                          f"report it as a bug")


def _check_constants(model: Any, mirror: Mirror) -> None:
    """hls4ml writes every constant exactly as machop holds it: the text it puts in ``weights/*.h`` (one decimal
    number per value, as many digits as the type's fraction bits) reads back as machop's value, so nothing was
    re-quantised, reordered or dropped."""
    built = {layer.name: layer for layer in model.get_layers()}
    for layer in mirror.layers:
        weights = built[layer.name].weights
        if set(weights) != set(layer.constants):
            raise ExportError(f"hls4ml holds the constants {sorted(weights)} for layer '{layer.name}', machop wrote "
                              f"{sorted(layer.constants)}; report it as a bug")
        for key, expected in layer.constants.items():
            written = np.array([float(text) for text in weights[key]], dtype=np.float64)
            if written.shape != (expected.size,) or not (written == expected.reshape(-1)).all():
                raise ExportError(f"hls4ml would write the {key} of layer '{layer.name}' with values that differ from "
                                  f"machop's constants; report it as a bug")


def _hls4ml_precision(text: str) -> Any:
    from hls4ml.backends import get_backend

    return get_backend(BACKEND).convert_precision_string(text)


# --- the C++ emulation and its cache ----------------------------------------------------------------------

def _compiler_identity() -> str:
    try:
        found = subprocess.run([COMPILER, "--version"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        raise ExportError(f"hls4ml's C++ emulation needs {COMPILER} on PATH; install it (e.g. apt install g++)") \
            from None
    return found.stdout


def _sources(project: Path) -> list[Path]:
    """What ``build_lib.sh`` compiles: the bridge, everything under ``firmware/`` but libraries, and the script."""
    found = [project / f"{PROJECT_NAME}_bridge.cpp", project / "build_lib.sh"]
    found += [path for path in (project / "firmware").rglob("*") if path.is_file() and path.suffix != ".so"]
    return sorted(found)


def source_hash(project: Path, stamp: str) -> str:
    """The cache key: the compiled sources (hls4ml's random library stamp blanked) and the compiler's version."""
    digest = hashlib.sha256(_compiler_identity().encode())
    for path in _sources(project):
        digest.update(str(path.relative_to(project)).encode() + b"\0")
        digest.update(path.read_bytes().replace(stamp.encode(), b"STAMP") + b"\0")
    return digest.hexdigest()[:24]


def cache_dir() -> Path:
    """Where compiled emulations are kept: ``$MACHOP_CACHE_DIR/hls4ml`` (default ``~/.cache/machop/hls4ml``)."""
    return cache_root() / CACHE_DIR


@dataclass(frozen=True)
class Library:
    """A compiled emulation: its path in the cache, whether it was there before, and the build's seconds."""

    path: Path
    cached: bool
    key: str
    build_seconds: float


def build_library(project: Path, stamp: str, cache: Path) -> Library:
    """The emulation library of the written hls4ml ``project``: from ``cache`` or built there by its ``build_lib.sh``.

    The build runs in ``cache/<key>.build-<pid>/`` (a copy of the sources) and becomes ``cache/<key>/``
    (the library ``emulation.so`` and ``build.log``) by one rename, so a cached entry is always
    complete. A failed build keeps its log in ``cache/<key>.failed/build.log``, named in the
    one-line error.
    """
    key = source_hash(project, stamp)
    entry = cache / key
    if (entry / LIBRARY).is_file():
        return Library(entry / LIBRARY, True, key, 0.0)
    work = cache / f"{key}.build-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    for path in _sources(project):
        target = work / path.relative_to(project)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    started = time.perf_counter()
    with open(work / BUILD_LOG, "w") as log:
        result = subprocess.run(["bash", "build_lib.sh"], cwd=work, stdout=log, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - started
    built = work / "firmware" / f"{PROJECT_NAME}-{stamp}.so"
    if result.returncode != 0 or not built.is_file():
        failed = cache / f"{key}.failed"
        shutil.rmtree(failed, ignore_errors=True)
        failed.mkdir(parents=True)
        os.replace(work / BUILD_LOG, failed / BUILD_LOG)
        shutil.rmtree(work, ignore_errors=True)
        raise ExportError(f"hls4ml's C++ emulation of {project} did not compile ({COMPILER} exit "
                          f"{result.returncode}); see {failed / BUILD_LOG}")
    os.replace(built, work / LIBRARY)
    for path in work.iterdir():  # the entry keeps the library and its log, not the copied sources
        if path.is_dir():
            shutil.rmtree(path)
        elif path.name not in (LIBRARY, BUILD_LOG):
            path.unlink()
    try:
        os.replace(work, entry)
    except OSError:  # another process finished the same build first: its entry is the same library
        shutil.rmtree(work, ignore_errors=True)
    return Library(entry / LIBRARY, False, key, seconds)


def load_library(model: Any, library: Library, project: Path, stamp: str) -> Path:
    """Copy ``library`` to where hls4ml's compile leaves it (``firmware/machop-<stamp>.so``) and hand it to ``model``.

    hls4ml's ``ModelGraph._compile`` loads its library with ``ctypes`` into ``_top_function_lib``,
    which ``predict`` calls; machop does the same with the cached one.
    """
    target = project / "firmware" / f"{PROJECT_NAME}-{stamp}.so"
    shutil.copy2(library.path, target)
    model._top_function_lib = ctypes.cdll.LoadLibrary(str(target))  # noqa: SLF001 (hls4ml's compile sets it so)
    return target


def write_and_compile(model: Any, project: Path, cache: Path) -> Library:
    """Write hls4ml's project of ``model`` to ``project`` (its ``output_dir``), build or reuse its library, load it."""
    with _hls4ml_quiet():
        model.write()
    stamp = model.config.get_config_value("Stamp")
    cache.mkdir(parents=True, exist_ok=True)
    library = build_library(project, stamp, cache)
    load_library(model, library, project, stamp)
    return library


# --- running and comparing --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Hls4mlComparison:
    """hls4ml's C++ emulation against machop's integer reference on ``rows`` test rows (exact)."""

    rows: int
    mismatching_rows: int
    max_abs_difference: float
    hls4ml_accuracy: float
    prepared_accuracy: float
    quantised_accuracy: float


def compare(hls4ml_out: np.ndarray, prepared: MaseGraph, quantised: MaseGraph, x: Tensor,
            y: Tensor) -> Hls4mlComparison:
    """hls4ml's outputs (reals) against the integer reference's codes × 2^-frac; the three accuracies."""
    reference = output_format(prepared).to_real(integer_reference(prepared, x)).reshape(len(y), -1)
    theirs = torch.as_tensor(np.asarray(hls4ml_out), dtype=torch.float64).reshape(len(y), -1)
    difference = (theirs - reference).abs()
    accuracies = accuracy_before_after(quantised, prepared, x, y)
    return Hls4mlComparison(len(y), int((difference > 0).any(dim=1).sum()), float(difference.max()),
                            float((theirs.argmax(dim=1) == y).double().mean()), accuracies["prepared_accuracy"],
                            accuracies["quantised_accuracy"])


def _model_sources_bytes(project: Path) -> int:
    """Bytes of the model's own sources (top function, headers, weights): not hls4ml's copied libraries."""
    firmware = project / "firmware"
    own = [path for path in firmware.iterdir() if path.is_file() and path.suffix in (".cpp", ".h")]
    own += [path for path in (firmware / "weights").iterdir() if path.is_file()]
    return sum(path.stat().st_size for path in own)


@dataclass(frozen=True)
class Hls4mlExport:
    """What ``run_export_hls4ml`` wrote and found; ``as_json`` is ``summary.json``."""

    export_dir: Path
    kept: Path | None
    layers: tuple[LayerPrecisions, ...]
    file_bytes: int
    library: Library
    export_seconds: float  # building the mirror, hls4ml's conversion and write, the cache lookup: all but g++
    predict_seconds: float
    comparison: Hls4mlComparison

    def as_json(self) -> dict[str, Any]:
        return {"target": "hls4ml", "backend": BACKEND, "io_type": IO_TYPE, "strategy": STRATEGY,
                "project": str(self.export_dir), "project_name": PROJECT_NAME, "file_bytes": self.file_bytes,
                "layers": [layer.as_json() for layer in self.layers],
                "export_seconds": self.export_seconds, "compile_seconds": round(self.library.build_seconds, 3),
                "compile_cached": self.library.cached, "library": str(self.library.path),
                "predict_seconds": self.predict_seconds, "vendor_synthesis": VENDOR_SYNTHESIS,
                **asdict(self.comparison)}


def prepared_graphs(model: nn.Module, passes: Mapping[str, Any], data: Any,
                    options: HardwareOptions) -> tuple[MaseGraph, MaseGraph]:
    """The user's quantised graph and its prepared form (errors as ``ExportError``)."""
    graphs = quantised_graphs(model, passes, data)
    return graphs.quantised, prepared_for_export(graphs.quantised, options, "hls4ml")


def run_export_hls4ml(model: nn.Module, passes: Mapping[str, Any], data: Any, project_dir: str | Path,
                      options: HardwareOptions = HardwareOptions(), cache: Path | None = None) -> Hls4mlExport:
    """``ch export hls4ml``: write the project, compile (or reuse) its emulation, compare on the whole test split.

    ``cache``: where compiled emulations are kept (default ``cache_dir()``).
    """
    quantised, prepared = prepared_graphs(model, passes, data, options)
    x, y = split_rows(model, data, None)
    export_dir = Path(project_dir) / EXPORT_DIR
    started = time.perf_counter()
    mirror = mirror_model(prepared)
    hls_model = convert(mirror, tuple(x.shape[1:]), export_dir)
    convert_seconds = time.perf_counter() - started
    cache = cache_dir() if cache is None else cache
    with replacing(export_dir) as kept:
        started = time.perf_counter()
        library = write_and_compile(hls_model, export_dir, cache)
        export_seconds = convert_seconds + time.perf_counter() - started - library.build_seconds
        started = time.perf_counter()
        outputs = hls_model.predict(np.ascontiguousarray(x.to(torch.float64).numpy()))
        predict_seconds = time.perf_counter() - started
        comparison = compare(outputs, prepared, quantised, x, y)
        outcome = Hls4mlExport(export_dir, kept, mirror.layers, _model_sources_bytes(export_dir), library,
                               round(export_seconds, 3), round(predict_seconds, 3), comparison)
        atomic_write_text(export_dir / SUMMARY_FILE, json.dumps(outcome.as_json(), indent=2) + "\n")
    return outcome
