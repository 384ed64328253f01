"""What an emitted design is: the files, the ports' formats and shapes, the latency, the layer modules."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from chop.hardware.fixed import FixedFormat


@dataclass(frozen=True)
class RtlLayer:
    """One layer module: the graph node it implements, its module and file, and its latency in cycles."""

    node: str
    module: str
    kind: str
    file: Path
    latency: int


@dataclass(frozen=True)
class RtlDesign:
    """An emitted design, enough to simulate or synthesise it without the graph.

    ``files`` lists every SystemVerilog file (components, layer modules, ``{top_name}.sv`` last);
    ports: ``data_in_0`` holds ``input_size`` codes of ``input_format`` (element i at
    ``[i*width +: width]``), ``data_out_0`` likewise; ``latency`` counts cycles from a valid input
    to its valid output.
    """

    top_name: str
    rtl_dir: Path
    files: tuple[Path, ...]
    input_shape: tuple[int, ...]
    input_format: FixedFormat
    output_shape: tuple[int, ...]
    output_format: FixedFormat
    latency: int
    pipeline: str
    layers: tuple[RtlLayer, ...]

    @property
    def input_size(self) -> int:
        return math.prod(self.input_shape)

    @property
    def output_size(self) -> int:
        return math.prod(self.output_shape)

    @property
    def input_bits(self) -> int:
        return self.input_size * self.input_format.width

    @property
    def output_bits(self) -> int:
        return self.output_size * self.output_format.width

    @property
    def layer_modules(self) -> tuple[str, ...]:
        return tuple(layer.module for layer in self.layers)
