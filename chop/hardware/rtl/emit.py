"""``emit_rtl``: a prepared graph to SystemVerilog files, and the plan the MASE passes write in parts.

``plan_rtl`` builds every file's text in memory (nothing on disk); ``emit_rtl`` writes them all.
MASE's passes write parts of one plan: ``top.sv`` with the layer modules, the components, the
constant memories (``chop.passes.graph.transforms.verilog``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from torch import fx

from chop.errors import HardwareError
from chop.hardware.rtl.components import component_text, components_for
from chop.hardware.rtl.da4ml_sums import LINEAR_IMPLS
from chop.hardware.rtl.design import RtlDesign, RtlLayer
from chop.hardware.rtl.layers import PIPELINES, LayerModule, layer_module
from chop.hardware.rtl.memories import constant_memories
from chop.hardware.rtl.netlist import Netlist, build_netlist
from chop.hardware.rtl.products import PRODUCT_STYLES
from chop.hardware.rtl.top import top_text
from chop.hardware.rtl.verilog import check_identifier
from chop.tools.atomic import atomic_write_text
from chop.tools.versions import keep_earlier_run


@dataclass(frozen=True)
class RtlPlan:
    """Every file of a design, as text: components (shared), layer modules, top, constant memories."""

    top_name: str
    pipeline: str
    netlist: Netlist
    layers: tuple[LayerModule, ...]
    top: str
    latency: int
    components: tuple[str, ...]

    def layer_sources(self) -> dict[str, str]:
        return {f"{layer.module}.sv": layer.text for layer in self.layers}

    def layer_files(self) -> dict[str, str]:
        """The other files the layer modules instantiate (da4ml's adder graphs and helpers, each once)."""
        return {name: text for layer in self.layers for name, text in layer.files}

    def top_sources(self) -> dict[str, str]:
        """``{top}.sv``, the layer modules it instantiates and their files (what the design itself is made of)."""
        return {**self.layer_files(), **self.layer_sources(), f"{self.top_name}.sv": self.top}

    def component_sources(self) -> dict[str, str]:
        return {name: component_text(name) for name in self.components}

    def memory_sources(self) -> dict[str, str]:
        return constant_memories(self.netlist)

    def design(self, rtl_dir: Path) -> RtlDesign:
        """The design as it lies in ``rtl_dir`` once every source is written there."""
        rtl_dir = Path(rtl_dir)
        names = [*self.components, *self.layer_files(), *self.layer_sources(), f"{self.top_name}.sv"]
        layers = tuple(RtlLayer(layer.node, layer.module, layer.kind, rtl_dir / f"{layer.module}.sv", layer.latency)
                       for layer in self.layers)
        return RtlDesign(self.top_name, rtl_dir, tuple(rtl_dir / name for name in names),
                         self.netlist.input.shape, self.netlist.input.fmt, self.netlist.output.shape,
                         self.netlist.output.fmt, self.latency, self.pipeline, layers)


def plan_rtl(prepared: fx.GraphModule, *, top_name: str = "top", pipeline: str = "layer",
             products: str = "shared", linear_impl: str = "machop") -> RtlPlan:
    """The text of every file of ``prepared``'s design; see ``emit_rtl`` for the options."""
    if pipeline not in PIPELINES:
        raise HardwareError(f"unknown pipeline '{pipeline}'; use one of: {', '.join(PIPELINES)}")
    if products not in PRODUCT_STYLES:
        raise HardwareError(f"unknown products style '{products}'; use one of: {', '.join(PRODUCT_STYLES)}")
    if linear_impl not in LINEAR_IMPLS:
        raise HardwareError(f"unknown linear_impl '{linear_impl}'; use one of: {', '.join(LINEAR_IMPLS)}")
    check_identifier(top_name, "top_name")
    netlist = build_netlist(prepared)
    layers = tuple(layer_module(step, pipeline, products, linear_impl) for step in netlist.compute)
    components = components_for({layer.kind for layer in layers})
    taken = {name.removesuffix(".sv") for name in components} | {top_name}
    for layer in layers:
        if layer.module in taken:
            raise HardwareError(f"node '{layer.node}' would make a module '{layer.module}', a name already taken; "
                                f"rename the node or choose another top_name")
        taken.add(layer.module)
    text, latency = top_text(netlist, {layer.node: layer for layer in layers}, top_name, pipeline)
    return RtlPlan(top_name, pipeline, netlist, layers, text, latency, components)


def write_sources(sources: dict[str, str], directory: Path) -> list[Path]:
    """Write each file atomically (a crash leaves the earlier file or the new one, never half of one)."""
    paths = []
    for name, text in sources.items():
        atomic_write_text(Path(directory) / name, text)
        paths.append(Path(directory) / name)
    return paths


def emit_rtl(prepared: fx.GraphModule, rtl_dir: Path, *, top_name: str = "top", pipeline: str = "layer",
             products: str = "shared", linear_impl: str = "machop") -> RtlDesign:
    """Write the SystemVerilog of ``prepared`` to ``rtl_dir``: components, one module per layer, ``{top_name}.sv``.

    ``pipeline``: ``"layer"`` (a register after each layer), ``"none"`` (combinational) or
    ``"split"`` (also a register before the requantiser of linear and affine layers).
    ``products``: ``"shared"`` (shift-and-add trees of canonical signed digits, the sums that several
    rows contain computed once), ``"csd"`` (the same, one tree per row) or ``"multiply"``.
    ``linear_impl``: ``"machop"`` (linear layers' row sums as ``products`` says) or ``"da4ml"``
    (da4ml's adder graph of each weight matrix, ``{layer}_cmvm.v`` and its ``.v`` helpers; the
    bias, requantiser and register stage stay machop's, so the codes are the same).
    An earlier ``rtl_dir`` is moved aside to ``rtl_dir-vN``, never mixed with the new files.
    """
    plan = plan_rtl(prepared, top_name=top_name, pipeline=pipeline, products=products, linear_impl=linear_impl)
    rtl_dir = Path(rtl_dir)
    keep_earlier_run(rtl_dir)
    write_sources({**plan.component_sources(), **plan.top_sources()}, rtl_dir)
    return plan.design(rtl_dir)
