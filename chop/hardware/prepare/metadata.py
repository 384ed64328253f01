"""MASE's hardware metadata (``node.meta["mase"]["hardware"]``) with real values.

Before quantisation (MASE's flow runs ``add_hardware_metadata_analysis_pass`` first) a node knows
its op, shapes and float or quantised precisions; in a prepared graph each twin knows its exact
formats. Both fill the same fields: ``module`` (the RTL component, ``fixed_linear``...),
``toolchain`` (``"INTERNAL"``: machop emits it), ``dependence_files``, ``interface`` (constants in
on-chip memory), ``verilog_param`` under MASE's names and machop's ``formats``.

``verilog_param`` follows MASE: ``<OPERAND>_PRECISION_<i>`` is the operand's precision list
(width, frac), ``<OPERAND>_TENSOR_SIZE_DIM_<d>`` its size along dimension ``d`` counted from the
last (dimension 0 is the innermost), ``<OPERAND>_PARALLELISM_DIM_<d>`` the elements handled per
cycle (all of them: the designs are fully parallel). Data operands are described for one sample
(the batch dimension is 1, as in MASE's flow with a batch of one); scalar arguments appear as
``<NAME>`` (booleans as 0/1). In a ``fixed_affine``, ``weight`` is the per-channel scale and
``bias`` the shift.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chop.hardware.fixed import FixedFormat
from chop.hardware.ops import FixedAdd, FixedAffine, FixedInput, FixedLinear, FixedReLU, HardwareOp
from chop.hardware.prepare.constants import stored_format
from chop.ir.graph.mase_metadata import CommonMeta, HardwareMeta, TensorMeta
from chop.quantizers import Quantizer
from chop.hardware.rtl.components import dependence_files as component_files
from chop.quantizers.integer import Integer

TOOLCHAIN = "INTERNAL"
UNSUPPORTED = "UNSUPPORTED"  # the toolchain of an op machop has no hardware twin for
IMPLICIT_TYPES = ("implicit_func", "placeholder", "get_attr", "output")

# mase op -> the RTL component that implements it (a batch norm that does not fold is an affine; a conv1d is
# lowered to a linear over the flattened sample)
COMPONENTS = {"linear": FixedLinear.kind, "relu": FixedReLU.kind, "batch_norm1d": FixedAffine.kind,
              "add": FixedAdd.kind, "conv1d": FixedLinear.kind}
# component -> (mase_type, mase_op) of the op it stands for, for the common metadata of a prepared graph
TWIN_OPS = {FixedLinear.kind: ("module_related_func", "linear"), FixedReLU.kind: ("module_related_func", "relu"),
            FixedAffine.kind: ("module", "batch_norm1d"), FixedAdd.kind: ("builtin_func", "add"),
            FixedInput.kind: ("module", FixedInput.kind)}
CONSTANTS = ("weight", "bias")
FIXED_TYPE = "fixed"


def dependence_files(kind: str) -> list[str]:
    """The component files a node of ``kind`` needs, as the RTL emitter writes them."""
    return list(component_files(kind))


def twin_formats(module: HardwareOp) -> dict[str, FixedFormat]:
    """Operand -> format of a twin: inputs, constants (as stored), accumulator, output."""
    formats: dict[str, FixedFormat] = {}
    if isinstance(module, (FixedLinear, FixedAffine)):
        offset = module.bias if isinstance(module, FixedLinear) else module.shift
        weight_format = module.weight_format if isinstance(module, FixedLinear) else module.scale_format
        formats.update(data_in_0=module.in_format, weight=weight_format,
                       bias=stored_format(offset, module.acc_format.frac), accumulator=module.acc_format)
    elif isinstance(module, FixedReLU):
        formats["data_in_0"] = module.in_format
    elif isinstance(module, FixedAdd):
        formats.update(data_in_0=module.a_format, data_in_1=module.b_format, accumulator=module.acc_format)
    formats["data_out_0"] = module.out_format
    return formats


def describe_twin(common: CommonMeta, module: HardwareOp) -> None:
    """Make a prepared node's common metadata say what the twin computes: its op, fixed types, constants."""
    common.mase_type, common.mase_op = TWIN_OPS[module.kind]
    formats = twin_formats(module)
    for section in (common.args, common.results):
        for name, entry in section.items():
            if isinstance(entry, TensorMeta) and name in formats:
                entry.type, entry.precision = FIXED_TYPE, [formats[name].width, formats[name].frac]
    constants = {"weight": getattr(module, "weight", getattr(module, "scale", None)),
                 "bias": getattr(module, "bias", getattr(module, "shift", None))}
    for name, codes in constants.items():
        if codes is not None:
            fmt = formats[name]
            common.args[name] = TensorMeta(type=FIXED_TYPE, precision=[fmt.width, fmt.frac], shape=list(codes.shape),
                                           torch_dtype=codes.dtype, is_parameter=True)


def _sample_shape(entry: TensorMeta) -> list[int]:
    """A data operand for one sample (batch dimension 1); a constant as it is."""
    return list(entry.shape) if entry.is_parameter or not entry.shape else [1, *entry.shape[1:]]


def verilog_params(common: CommonMeta) -> dict[str, int]:
    """MASE's ``verilog_param`` of a node, from its operand and result descriptions."""
    params: dict[str, int] = {}
    for name, entry in {**common.args, **common.results}.items():
        if isinstance(entry, TensorMeta) and entry.torch_dtype is not None:
            key = name.upper()
            for index, value in enumerate(entry.precision):
                params[f"{key}_PRECISION_{index}"] = int(value)
            shape = _sample_shape(entry)
            for dim, size in enumerate(reversed(shape)):
                params[f"{key}_TENSOR_SIZE_DIM_{dim}"] = int(size)
                params[f"{key}_PARALLELISM_DIM_{dim}"] = int(size)
        elif isinstance(entry, bool):
            params[name.upper()] = int(entry)
        elif isinstance(entry, (int, float)):
            params[name.upper()] = entry  # type: ignore[assignment]  (MASE keeps float arguments as they are)
    return params


def quantizer_formats(common: CommonMeta, quantizers: Mapping[str, Quantizer]) -> dict[str, list[int]]:
    """``[width, frac, signed]`` of each operand a fixed-point quantiser covers (before preparation)."""
    formats = {}
    for name, entry in common.args.items():
        quantizer = quantizers.get("data_in" if name.startswith("data_in") else name)
        if isinstance(entry, TensorMeta) and isinstance(quantizer, Integer):
            formats[name] = FixedFormat(quantizer.width, quantizer.frac_width, quantizer.signed).as_list()
    return formats


def hardware_meta(common: CommonMeta, module: Any, quantizers: Mapping[str, Quantizer],
                  toolchain: str = TOOLCHAIN) -> HardwareMeta:
    """The hardware record of one node: a prepared twin's exact formats, or what the graph knows so far."""
    tensors = {name: entry for name, entry in {**common.args, **common.results}.items()
               if isinstance(entry, TensorMeta) and entry.torch_dtype is not None}
    parallelism = {name: list(entry.shape[-1:]) for name, entry in tensors.items()}
    interface = {name: {"storage": "BRAM", "transpose": False} for name, entry in tensors.items() if entry.is_parameter}
    if isinstance(module, HardwareOp):
        formats = {name: fmt.as_list() for name, fmt in twin_formats(module).items()}
        implicit = isinstance(module, FixedInput)  # the input port: the codes arrive already quantised
        return HardwareMeta(is_implicit=implicit, toolchain=None if implicit else toolchain, module=module.kind,
                            device_id=-1, interface=interface, parallelism=parallelism,
                            dependence_files=[] if implicit else dependence_files(module.kind),
                            verilog_param=verilog_params(common), formats=formats)
    if common.mase_type in IMPLICIT_TYPES:
        return HardwareMeta(is_implicit=True, interface=interface, parallelism=parallelism)
    kind = COMPONENTS.get(str(common.mase_op))
    return HardwareMeta(is_implicit=False, toolchain=toolchain if kind is not None else UNSUPPORTED, module=kind,
                        device_id=-1, interface=interface, parallelism=parallelism,
                        dependence_files=dependence_files(kind) if kind is not None else [],
                        verilog_param=verilog_params(common), formats=quantizer_formats(common, quantizers))
