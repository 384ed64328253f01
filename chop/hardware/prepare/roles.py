"""What each node of a quantised graph becomes in hardware, and the errors for nodes that cannot.

A node is one of: the graph input, a compute op with a hardware twin (``linear``,
``batch_norm1d``, ``relu``, ``add``, and ``conv1d``, which ``conv`` lowers to a linear), a reshape that moves codes unchanged (``flatten``,
``view``, ``reshape``, and the ``size`` calls they read), or the output. Anything else has no
twin, and the error names the node and its op. Quantisers are read from the graph itself (a
twin's ``.quantizers``, a quantised call's ``config``), so a graph loaded from ``.mz`` works too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import fx, nn

from chop.errors import HardwareError
from chop.hardware.ops import HardwareOp
from chop.ir.graph.ops import classify
from chop.quantized import node_quantizers
from chop.quantizers import Quantizer

COMPUTE_OPS = ("linear", "batch_norm1d", "relu", "add", "conv1d")
LINEAR_OPS = ("linear", "conv1d")  # the ops that become a FixedLinear (BatchNorms fold into them)
RESHAPE_OPS = ("flatten", "view", "reshape", "size")
SUPPORTED = ", ".join(COMPUTE_OPS + RESHAPE_OPS[:-1])


@dataclass(frozen=True)
class Role:
    """One node: its op (a compute op, ``reshape``, ``placeholder`` or ``output``) and its quantisers."""

    node: fx.Node
    op: str
    quantizers: dict[str, Quantizer] = field(default_factory=dict)
    module: nn.Module | None = None

    @property
    def where(self) -> str:
        """``node 'seq_blocks_2' (linear)``: how messages name it."""
        return f"node '{self.node.name}' ({self.op})"

    def quantizer(self, operand: str) -> Quantizer:
        """The operand's quantiser; a float node or operand is an error that says how to quantise it."""
        if not self.quantizers:
            raise HardwareError(f"{self.where} is not quantised; give it a [passes.quantize] entry with "
                                f"name = \"integer\"")
        if operand not in self.quantizers:
            raise HardwareError(f"{self.where}: its {operand} is not quantised; give the node's [passes.quantize] "
                                f"entry {operand}_width and {operand}_frac_width")
        return self.quantizers[operand]


def node_roles(graph_module: fx.GraphModule) -> dict[fx.Node, Role]:
    """The role of every node, in graph order; the first node without a hardware twin is an error."""
    modules = dict(graph_module.named_modules())
    nodes = list(graph_module.graph.nodes)
    inputs = [node.name for node in nodes if node.op == "placeholder"]
    if len(inputs) != 1:
        raise HardwareError(f"the graph has {len(inputs)} inputs ({', '.join(inputs) or 'none'}); "
                            f"the hardware flow takes exactly one")
    roles = {}
    for node in nodes:
        _, op = classify(node, modules)
        module = modules[str(node.target)] if node.op == "call_module" else None
        if isinstance(module, HardwareOp):
            raise HardwareError(f"node '{node.name}' is already a hardware twin ({module.kind}): the graph is prepared; "
                                f"prepare the quantised graph it came from")
        if node.op in ("placeholder", "output"):
            roles[node] = Role(node, node.op)
        elif op in RESHAPE_OPS:
            roles[node] = Role(node, "reshape", module=module)
        elif op in COMPUTE_OPS and node.op in ("call_module", "call_function", "call_method"):
            _check_operands(node, op)
            roles[node] = Role(node, op, node_quantizers(graph_module, node), module)
        else:
            raise HardwareError(f"node '{node.name}' ({op}) has no hardware twin; the hardware flow supports "
                                f"{SUPPORTED}")
    return roles


def _check_operands(node: fx.Node, op: str) -> None:
    """Function ops take graph values only: ``x + 1.0`` or ``torch.add(x, y, alpha=2)`` have no twin."""
    if node.op == "call_module":
        return
    if op == "conv1d":  # F.conv1d reads its weight as a graph value, not a constant
        raise HardwareError(f"node '{node.name}' (conv1d) is a function call; the hardware flow supports conv1d "
                            f"as an nn.Conv1d module (constant weights)")
    count = 2 if op == "add" else 1
    values = node.args[:count]
    extra = {k: v for k, v in node.kwargs.items() if k not in ("config", "inplace")}
    if len(node.args) != count or not all(isinstance(v, fx.Node) for v in values) or extra:
        shown = ", ".join([*map(str, node.args), *(f"{k}={v}" for k, v in extra.items())])
        raise HardwareError(f"node '{node.name}' ({op}) has no hardware twin for arguments ({shown}): "
                            f"only {op} of {count} graph value{'s' if count > 1 else ''} is supported")
