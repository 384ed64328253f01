"""``top.sv``: the layer modules wired in graph order, with the operands of a join lined up in time.

Every edge of the graph is a pair of signals, ``{node}_valid`` and ``{node}_data`` (the packed
codes). Reshapes are plain assignments. Where an add joins two branches of different latency,
the earlier branch goes through a ``fixed_delay`` so both operands meet in the same cycle.
"""

from __future__ import annotations

from chop.hardware.rtl.layers import LayerModule, layer_latency
from chop.hardware.rtl.netlist import Netlist, Step, Wire
from chop.hardware.rtl.verilog import describe, vector


def latencies(netlist: Netlist, pipeline: str) -> dict[str, int]:
    """Cycles from the design's input to each node's output (reshapes take none)."""
    at = {netlist.input.node: 0}
    for step in netlist.steps:
        start = max(at[wire.node] for wire in step.inputs)
        at[step.node] = start + (layer_latency(step.kind, pipeline) if step.op is not None else 0)
    return at


def design_latency(netlist: Netlist, pipeline: str) -> int:
    """The design's latency in cycles, without writing any of it (what ``top_text`` reports)."""
    return latencies(netlist, pipeline)[netlist.output.node]


def _signals(wire: Wire) -> list[str]:
    return [f"    logic {wire.node}_valid;",
            f"    logic {vector(wire.bits)} {wire.node}_data;  // {describe(wire.fmt, wire.size)}"]


def _instance(step: Step, layer: LayerModule, at: dict[str, int]) -> list[str]:
    lines: list[str] = []
    start = max(at[wire.node] for wire in step.inputs)
    sources = []
    for k, wire in enumerate(step.inputs):
        delay = start - at[wire.node]
        if delay == 0:
            sources.append(wire.node)
            continue
        aligned = f"{step.node}_in{k}"
        lines += [f"    // operand {k} of {step.node} is ready {delay} cycle{'s' if delay > 1 else ''} early: delay it",
                  f"    logic {aligned}_valid;", f"    logic {vector(wire.bits)} {aligned}_data;",
                  f"    fixed_delay #(.WIDTH({wire.bits}), .STAGES({delay})) u_{aligned} (",
                  f"        .clk(clk), .rst(rst), .in_valid({wire.node}_valid), .in_data({wire.node}_data),",
                  f"        .out_valid({aligned}_valid), .out_data({aligned}_data)", "    );"]
        sources.append(aligned)
    ports = ["        .clk(clk), .rst(rst),"]
    ports += [f"        .data_in_{k}_valid({s}_valid), .data_in_{k}({s}_data)," for k, s in enumerate(sources)]
    ports += [f"        .data_out_0_valid({step.node}_valid), .data_out_0({step.node}_data)"]
    return lines + [f"    {layer.module} u_{step.node} (", *ports, "    );"]


def top_text(netlist: Netlist, layers: dict[str, LayerModule], top_name: str, pipeline: str) -> tuple[str, int]:
    """The text of ``top.sv`` and the design's latency in cycles."""
    at = latencies(netlist, pipeline)
    latency = at[netlist.output.node]
    source, result = netlist.input, netlist.output
    lines = [f"// {top_name}: the prepared network, fully parallel: a sample in and a sample out every cycle.",
             "// Written by machop (chop.hardware.rtl). One module per layer, named after its node:",
             f"//   {'module':<32} {'component':<13} data_out_0"]
    lines += [f"//   {layers[s.node].module:<32} {s.kind:<13} {describe(s.out.fmt, s.out.size)}"
              for s in netlist.compute]
    lines += [f"// data_in_0:  {describe(source.fmt, source.size)}, element i at [i*{source.fmt.width} +: "
              f"{source.fmt.width}] (sample shape {list(source.shape)})",
              f"// data_out_0: {describe(result.fmt, result.size)}, element i at [i*{result.fmt.width} +: "
              f"{result.fmt.width}] (sample shape {list(result.shape)})",
              f"// latency: {latency} cycle{'s' if latency != 1 else ''} (pipeline \"{pipeline}\"); "
              "data_out_0_valid marks each result",
              f"module {top_name} (",
              "    input  logic clk,",
              "    input  logic rst,  // synchronous, active high: clears the valid bits",
              "    input  logic data_in_0_valid,",
              f"    input  logic {vector(source.bits)} data_in_0,",
              "    output logic data_out_0_valid,",
              f"    output logic {vector(result.bits)} data_out_0",
              ");",
              f"    // {source.node}: the network's input codes"]
    lines += _signals(source)
    lines += [f"    assign {source.node}_valid = data_in_0_valid;", f"    assign {source.node}_data = data_in_0;"]
    for step in netlist.steps:
        lines.append("")
        lines += _signals(step.out)
        if step.op is None:
            wire = step.inputs[0]
            lines += [f"    // {step.node}: a reshape to {list(step.out.shape)}, the same elements in the same order",
                      f"    assign {step.node}_valid = {wire.node}_valid;", f"    assign {step.node}_data = {wire.node}_data;"]
        else:
            lines += _instance(step, layers[step.node], at)
    lines += ["", f"    assign data_out_0_valid = {result.node}_valid;", f"    assign data_out_0 = {result.node}_data;",
              "endmodule", ""]
    return "\n".join(lines), latency
