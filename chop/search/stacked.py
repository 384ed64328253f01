"""Stacked PTQ scoring: many quantisation candidates of one float graph in one pass over the rows.

A one-at-a-time trial copies the graph, quantises the copy and runs every evaluation row through
it. Here the candidates of a batch share one walk over the float graph, in the row chunks
``basic_evaluation`` uses (``runners.CHUNK_ROWS``), each cut into passes of ``PASS_ROWS`` rows.
Each node's output is a stack of *lanes* ``(L, features, rows)``: a lane is one distinct value of
that node's output, so candidates that agree on every node so far share it. The float prefix
runs once, a first layer with 18 configs runs 18 times for any number of candidates, and only
the nodes after the candidates part ways run once per candidate. Weights are fake-quantised once
per batch per distinct config; data is fake-quantised per lane with that lane's width and frac
width; element-wise work common to all lanes (batch norm in float, relu) runs once on the stack.

The metrics are exactly those of the one-at-a-time path (``runners.basic_evaluation`` on the
quantised graph), because every value comes from the same arithmetic:
  - fixed-point quantisation (``integer`` / ``fixed``, widths float32 holds) is exact, so its
    values do not depend on the layout;
  - a quantised linear layer multiplies integers: in units of its finest grid every product and
    partial sum is an integer below 2^24 (checked per candidate from its quantised weights,
    ``EXACT_SUM_LIMIT``), so any order of summing gives ``F.linear``'s result, in float32 or as
    int8 x int8 -> int32 (``torch._int_mm``, where data and weight integers fit int8);
  - float nodes run their own kernels: batch norm through ``native_batch_norm`` on the stack
    (per-channel arithmetic, whatever the layout), relu, and a linear left in float through
    ``F.linear`` on each lane's rows of the float graph's own chunks;
  - ``loss`` is ``F.nll_loss`` of ``F.log_softmax`` per chunk (``F.cross_entropy`` is exactly
    that), summed in Python as ``basic_evaluation`` does; ``accuracy`` takes the first maximal
    class, as ``argmax``. Tests check both against the one-at-a-time metrics.

What it handles: graphs made only of ``linear``, ``batch_norm1d`` (eval mode, running statistics)
and ``relu`` modules, each reading one earlier node (the JSC zoo), every node in float or
quantised by ``integer`` / ``fixed``, evaluated in eval mode. ``stacking_obstacle`` says why a
graph or setting is not handled; ``StackedScorer.unsupported`` why a candidate is not (another
format, a sum too wide to be exact, a config the quantiser refuses). Those go through the
one-at-a-time path, so every candidate gets the same metrics whichever path scores it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, fx, nn

from chop.errors import PassError
from chop.ir.graph.mase_metadata import TensorMeta
from chop.passes.graph.analysis.count_ops import MAC_OPS
from chop.passes.graph.transforms.quantize import check_node_config
from chop.quantized.node_config import NodeQuantConfig, is_skip
from chop.quantizers.integer import Integer, exact_dtype
from chop.search.runners import CHUNK_ROWS, Runners, bitwidth_metrics
from chop.search.strategy_base import Measured  # (software, hardware) metrics; a str: why a config is unusable

# float32 holds every integer up to 2^24: a sum of integers within it is exact in any order
EXACT_SUM_LIMIT = 2**24
STACKED_MODULES: dict[str, type[nn.Module]] = {"linear": nn.Linear, "batch_norm1d": nn.BatchNorm1d, "relu": nn.ReLU}



@dataclass(frozen=True)
class _Step:
    """One node of the float graph: its op, its module and the step whose output it reads (-1: the rows)."""

    node: str
    op: str
    module: nn.Module
    source: int


@dataclass(frozen=True)
class _Plan:
    """The steps of a graph that stacked scoring handles, and the node whose output is the logits."""

    steps: tuple[_Step, ...]
    output: int


def _plan(graph: Any) -> _Plan | str:
    """The graph's steps, or why it is not a chain of linear / batch_norm1d / relu modules."""
    index: dict[fx.Node, int] = {}
    steps: list[_Step] = []
    output = None
    inputs = 0
    for node in graph.fx_graph.nodes:
        if node.op == "placeholder":
            inputs += 1
            index[node] = -1
            continue
        if node.op == "output":
            result = node.args[0]
            if not isinstance(result, fx.Node) or result not in index:
                return "the graph's output is not one tensor"
            output = index[result]
            continue
        op = node.meta["mase"]["common"]["mase_op"]
        if node.op != "call_module" or op not in STACKED_MODULES:
            return f"node {node.name} ({op}, {node.op}) is not a linear, batch_norm1d or relu module"
        module = graph.modules[str(node.target)]
        if not isinstance(module, STACKED_MODULES[op]):
            return f"node {node.name} is a {type(module).__name__}, not an nn.{STACKED_MODULES[op].__name__}"
        if isinstance(module, nn.BatchNorm1d) and (module.running_mean is None or module.running_var is None):
            return f"node {node.name} has no running statistics (batch norm would use the batch's)"
        if len(node.args) != 1 or node.kwargs or not isinstance(node.args[0], fx.Node) or node.args[0] not in index:
            return f"node {node.name} does not read exactly one earlier node"
        index[node] = len(steps)
        steps.append(_Step(node.name, op, module, index[node.args[0]]))
    if inputs != 1:
        return f"the graph has {inputs} inputs, not one"
    if output is None or output < 0:
        return "the graph's output is not computed by a module"
    return _Plan(tuple(steps), output)


def stacking_obstacle(graph: Any, runners: Runners) -> str | None:
    """Why this graph and these runners cannot be scored stacked, or None when they can."""
    if not runners.strategy.eval_mode:
        return "eval_mode = false evaluates batch norm on each chunk's statistics"
    plan = _plan(graph)
    return plan if isinstance(plan, str) else None


def _bounds(q: Integer) -> tuple[int, int]:
    """The integer range of a fixed-point quantiser (its values times 2^frac_width)."""
    return (-(2 ** (q.width - 1)), 2 ** (q.width - 1) - 1) if q.signed else (0, 2**q.width - 1)


INT8_RANGE = (-(2**7), 2**7 - 1)


def _fits_int8(bounds: tuple[int, int]) -> bool:
    return INT8_RANGE[0] <= bounds[0] and bounds[1] <= INT8_RANGE[1]


@dataclass(frozen=True)
class _LinearWeights:
    """A quantised linear layer's operands for integer data ``X = q(x) * 2^data_frac``.

    ``y = weight @ X + bias`` in float32, the data's ``2^-data_frac`` folded into ``weight``; or,
    where data and weight integers fit int8, ``y = (weight_int8 @ X_int8) * scale + bias`` with
    int32 sums (``torch._int_mm``), several times faster on CPUs with int8 dot products.
    """

    weight: Tensor  # (out, in): q(W) * 2^-data_frac
    bias: Tensor | None  # (out, 1)
    weight_int8: Tensor | None  # (out, in): q(W) * 2^weight_frac, where it fits
    scale: float  # 2^-(data_frac + weight_frac)


def _linear_weights(module: nn.Linear, config: NodeQuantConfig) -> _LinearWeights | str:
    """The operands of ``module`` under ``config``, or why float32 would not sum them exactly."""
    data, weight, bias = (config.quantizer(o) for o in ("data_in", "weight", "bias"))
    with torch.no_grad():
        w = weight(module.weight.detach())
        b = bias(module.bias.detach()) if module.bias is not None else None
    # in units of the finest grid 2^-G, |every partial sum| <= sum |w x| + |b| must stay below 2^24
    grid = max(data.frac_width + weight.frac_width, bias.frac_width if b is not None else -math.inf)
    largest_x = max(abs(v) for v in _bounds(data))
    sums = (w.double().abs().sum(1) * largest_x * 2.0 ** (grid - data.frac_width)
            + (b.double().abs() * 2.0**grid if b is not None else 0.0))
    if float(sums.max()) >= EXACT_SUM_LIMIT:
        return (f"linear sums reach {float(sums.max()):.3g} units of 2^-{grid:g}, beyond float32's exact "
                f"integers (2^24)")
    int8 = _fits_int8(_bounds(data)) and _fits_int8(_bounds(weight))
    return _LinearWeights(w * 2.0**-data.frac_width, b.view(-1, 1) if b is not None else None,
                          (w * 2.0**weight.frac_width).to(torch.int8) if int8 else None,
                          2.0 ** -(data.frac_width + weight.frac_width))


class _Workspace:
    """Buffers that every pass of a batch reuses, by (step, role), and what a batch works out once.

    A fresh stack of several MB per pass comes from mmap, and its page faults cost more than the
    arithmetic on it; reusing one buffer per role keeps the passes in memory already touched.
    """

    def __init__(self) -> None:
        self._buffers: dict[tuple[Any, ...], Tensor] = {}
        self._made: dict[tuple[Any, ...], Any] = {}

    def stacked(self, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
        """What ``make`` builds for ``key`` (a lane group's stacked operands), built once per batch."""
        if key not in self._made:
            self._made[key] = make()
        return self._made[key]

    def take(self, key: tuple[Any, ...], shape: tuple[int, ...], dtype: torch.dtype = torch.float32) -> Tensor:
        size = math.prod(shape)
        buffer = self._buffers.get((*key, dtype))
        if buffer is None or buffer.numel() < size:
            buffer = self._buffers[(*key, dtype)] = torch.empty(size, dtype=dtype)
        return buffer[:size].view(shape)


def _fixed_point(stack: Tensor, sources: Sequence[int], q: Integer, target: Tensor) -> Tensor:
    """Lanes ``sources`` of ``stack`` on ``q``'s integer grid (``q(x) * 2^frac``), written to ``target``.

    ``target`` may be ``stack`` itself when ``sources`` are all its lanes in order.
    """
    lo, hi = _bounds(q)
    scale = 2.0**q.frac_width
    first = sources[0]
    if list(sources) == list(range(first, first + len(sources))):  # a slice of the stack
        torch.mul(stack[first:first + len(sources)], scale, out=target)
    else:  # gather and scale in one pass
        for i, source in enumerate(sources):
            torch.mul(stack[source], scale, out=target[i])
    return target.round_().clamp_(lo, hi)


def _identity(sources: Sequence[int], stack: Tensor) -> bool:
    return len(sources) == len(stack) and all(i == s for i, s in enumerate(sources))


@dataclass(frozen=True)
class _Program:
    """A step's lanes: ``lanes[j] = (source lane, config)``, each candidate's lane, and the lane groups.

    A group is a range of lanes that treat their sources alike (one config, or for a quantised
    linear one data quantiser), so each group is one slice of the output stack.
    """

    index: int
    step: _Step
    lanes: tuple[tuple[int, NodeQuantConfig | None], ...]
    lane_of: tuple[int, ...]
    groups: tuple[tuple[int, int], ...]


def _group_key(step: _Step, config: NodeQuantConfig | None) -> Any:
    """What the lanes of one group share: the data quantiser of a quantised linear, else the whole config."""
    return config.quantizer("data_in") if config is not None and step.op == "linear" else config


def _programs(plan: _Plan, candidates: Sequence[Mapping[str, NodeQuantConfig | None]]) -> list[_Program]:
    """Per step, its distinct outputs (lanes, grouped) and which one each candidate reads."""
    programs: list[_Program] = []
    for index, step in enumerate(plan.steps):
        source = [0] * len(candidates) if step.source < 0 else programs[step.source].lane_of
        keys = list(dict.fromkeys((lane, c[step.node]) for lane, c in zip(source, candidates)))
        groups: dict[Any, list[tuple[int, NodeQuantConfig | None]]] = {}
        for key in keys:
            groups.setdefault(_group_key(step, key[1]), []).append(key)
        # within a group, lanes follow their sources, so a float step over all lanes needs no gather
        lanes = tuple(key for members in groups.values() for key in sorted(members, key=lambda k: k[0]))
        where = {key: j for j, key in enumerate(lanes)}
        bounds, start = [], 0
        for members in groups.values():
            bounds.append((start, start + len(members)))
            start += len(members)
        lane_of = tuple(where[(lane, c[step.node])] for lane, c in zip(source, candidates))
        programs.append(_Program(index, step, lanes, lane_of, tuple(bounds)))
    return programs


def _run(program: _Program, stack: Tensor, owned: bool, workspace: _Workspace, scorer: StackedScorer) -> Tensor:
    """One step on the source stack ``(lanes, features, rows)``: the output stack, lane ``j`` being
    ``program.lanes[j]``.

    ``owned``: no later step reads ``stack``, so a step that keeps the lanes may overwrite it.
    """
    step, lanes = program.step, program.lanes
    rows = stack.shape[2]
    features = step.module.out_features if step.op == "linear" else stack.shape[1]
    in_place = owned and step.op != "linear" and _identity([source for source, _ in lanes], stack)
    out = stack if in_place else workspace.take((program.index, "out"), (len(lanes), features, rows))
    for start, end in program.groups:
        config = lanes[start][1]
        sources = [source for source, _ in lanes[start:end]]
        target = out[start:end]
        if step.op == "linear" and config is not None:
            _quantised_linear(program, start, end, stack, owned and len(program.groups) == 1, workspace, scorer,
                              target)
        elif config is not None:  # quantised relu or batch norm: quantise the data, then the op in place
            data = config.quantizer("data_in")
            x = _fixed_point(stack, sources, data, target).mul_(2.0**-data.frac_width)
            _float_op(step, x, x, config)
        elif _identity(sources, stack):
            _float_op(step, stack, target, None)
        else:
            _float_op(step, torch.index_select(stack, 0, torch.tensor(sources)), target, None)
    return out


def _float_op(step: _Step, x: Tensor, out: Tensor, config: NodeQuantConfig | None) -> None:
    """relu, batch norm or a float linear of ``x`` into ``out`` (may be ``x``); quantised weights where
    ``config`` has them."""
    module = step.module
    if step.op == "relu":
        torch.clamp_min(x, 0.0, out=out)
    elif step.op == "batch_norm1d":
        weight, bias = module.weight, module.bias
        if config is not None:
            weight = config.quantizer("weight")(weight) if weight is not None else None
            bias = config.quantizer("bias")(bias) if bias is not None else None
        # (lanes, features, rows) is batch norm's (N, C, L) form: the same per-channel arithmetic
        torch.ops.aten.native_batch_norm.out(x, weight, bias, module.running_mean, module.running_var, False, 0.0,
                                             module.eps, out=out, save_mean=_EMPTY, save_invstd=_EMPTY)
    else:  # a linear left in float: the module's own call on each lane's rows, row-major as the float graph has them
        for lane, target in zip(x, out):
            target.copy_(F.linear(lane.t().contiguous(), module.weight, module.bias).t())


_EMPTY = torch.empty(0)  # batch norm's saved statistics, which evaluation does not keep


@dataclass(frozen=True)
class _LinearGroup:
    """A quantised linear's lane group, worked out once per batch: its data lanes and each lane's operands."""

    sources: tuple[int, ...]  # the source lanes it quantises, in order
    rows: tuple[int, ...]  # per output lane, its row among ``sources``
    weights: tuple[_LinearWeights, ...]
    int8: bool  # every lane's data and weight integers fit int8
    scales: Tensor | None  # (lanes, 1, 1): 2^-(data_frac + weight_frac), for the int8 sums
    biases: Tensor | None  # (lanes, out, 1)


def _linear_group(program: _Program, start: int, end: int, scorer: StackedScorer) -> _LinearGroup:
    lanes = program.lanes[start:end]
    sources = tuple(dict.fromkeys(source for source, _ in lanes))
    row_of = {lane: i for i, lane in enumerate(sources)}
    weights = tuple(scorer.linear_weights(program.step, config) for _, config in lanes)
    int8 = all(w.weight_int8 is not None for w in weights)
    scales = torch.tensor([w.scale for w in weights]).view(-1, 1, 1) if int8 else None
    biases = torch.stack([w.bias for w in weights]) if weights[0].bias is not None else None
    return _LinearGroup(sources, tuple(row_of[source] for source, _ in lanes), weights, int8, scales, biases)


def _quantised_linear(program: _Program, start: int, end: int, stack: Tensor, owned: bool, workspace: _Workspace,
                      scorer: StackedScorer, out: Tensor) -> None:
    """Lanes ``start:end`` of a quantised linear step into ``out``: one data quantiser, any weight and bias
    quantisers."""
    group: _LinearGroup = workspace.stacked((program.index, start), lambda: _linear_group(program, start, end, scorer))
    data = program.lanes[start][1].quantizer("data_in")
    x = stack if owned and _identity(group.sources, stack) else workspace.take((program.index, "x", start),
                                                                                (len(group.sources), *stack.shape[1:]))
    x = _fixed_point(stack, group.sources, data, x)
    if group.int8:
        x8 = workspace.take((program.index, "x8", start), x.shape, torch.int8)
        x8.copy_(x)
        sums = workspace.take((program.index, "sums"), out.shape, torch.int32)
        for i, (row, w) in enumerate(zip(group.rows, group.weights)):
            torch._int_mm(w.weight_int8, x8[row], out=sums[i])
        out.copy_(sums)  # exact: |sums| < 2^24
        out.mul_(group.scales)
        if group.biases is not None:
            out.add_(group.biases)
        return
    for i, (row, w) in enumerate(zip(group.rows, group.weights)):
        if w.bias is None:
            torch.mm(w.weight, x[row], out=out[i])
        else:
            torch.addmm(w.bias, w.weight, x[row], out=out[i])


def _chunk_metrics(logits: Tensor, y: Tensor) -> tuple[list[float], list[int]]:
    """Per lane of ``(L, classes, rows)``, the summed cross-entropy and how many rows' first maximal class is ``y``.

    ``F.cross_entropy(reduction="sum")`` is ``F.nll_loss`` of ``F.log_softmax``: the soft-max here
    runs over the class axis (fast for few classes), and each lane's picked log-probabilities go
    through ``F.nll_loss`` as a one-class problem, so they are summed in ``nll_loss``'s own order.
    """
    log_p = F.log_softmax(logits, dim=1)
    picked = log_p.gather(1, y.view(1, 1, -1).expand(len(logits), 1, -1))
    first_class = torch.zeros_like(y)
    loss = [float(F.nll_loss(lane.view(-1, 1), first_class, reduction="sum")) for lane in picked]
    # argmax's first maximal class, one class plane at a time (a reduction over the short class axis is slow)
    classes = logits.shape[1]
    best = logits[:, 0]
    predicted = torch.zeros((len(logits), logits.shape[2]), dtype=torch.uint8 if classes <= 256 else torch.long)
    for c in range(1, classes):
        predicted.masked_fill_(logits[:, c] > best, c)
        best = torch.maximum(best, logits[:, c])
    correct = (predicted == y.to(predicted.dtype)).sum(dim=1).tolist()
    return loss, correct
class StackedScorer:
    """Scores batches of candidates (quantise-pass configs) on one float graph, stacked."""

    def __init__(self, graph: Any, runners: Runners) -> None:
        plan = _plan(graph)
        if isinstance(plan, str):
            raise ValueError(plan)
        self.graph, self.runners, self.plan = graph, runners, plan
        self._nodes = {node.name: node for node in graph.fx_graph.nodes}
        self._linear: dict[tuple[str, NodeQuantConfig], _LinearWeights | str] = {}
        self._float_widths = self._weight_widths()

    def _weight_widths(self) -> dict[str, tuple[int, int]]:
        """Node -> (weight elements, width in float) for the MAC nodes ``average_bitwidth`` counts."""
        widths = {}
        for node in self.graph.fx_graph.nodes:
            common = node.meta["mase"].parameters.common
            weight = common.args.get("weight")
            if common.mase_op in MAC_OPS and isinstance(weight, TensorMeta):
                widths[node.name] = (math.prod(weight.shape), int(weight.precision[0]))
        return widths

    def node_configs(self, config: Mapping[str, Any]) -> dict[str, NodeQuantConfig | None] | str:
        """Each step's parsed config (None: float) for a ``by = "name"`` pass config, or why it is not stackable."""
        parsed: dict[str, NodeQuantConfig | None] = {}
        default = config.get("default", {}).get("config", {"name": None})
        for step in self.plan.steps:
            raw = config.get(step.node, {}).get("config", default)
            if is_skip(raw):
                parsed[step.node] = None
                continue
            try:
                node_config = check_node_config(self.graph, self._nodes[step.node], raw)
            except PassError as error:
                return str(error)
            for operand, quantizer in node_config.quantizers:
                if not isinstance(quantizer, Integer) or exact_dtype(torch.float32, quantizer.width) != torch.float32:
                    return f"node {step.node}: {operand} {quantizer} is not a fixed-point format float32 holds"
            if step.op == "linear":
                weights = self.linear_weights(step, node_config)
                if isinstance(weights, str):
                    return f"node {step.node}: {weights}"
            parsed[step.node] = node_config
        return parsed

    def unsupported(self, config: Mapping[str, Any]) -> str | None:
        """Why this candidate goes through the one-at-a-time path, or None when it is stacked."""
        parsed = self.node_configs(config)
        return parsed if isinstance(parsed, str) else None

    def linear_weights(self, step: _Step, config: NodeQuantConfig) -> _LinearWeights | str:
        key = (step.node, config)
        if key not in self._linear:
            self._linear[key] = _linear_weights(step.module, config)
        return self._linear[key]

    def score(self, configs: Sequence[Mapping[str, Any]], fallback: Callable[[Mapping[str, Any]], Measured | str],
              graph_hardware: Callable[[Mapping[str, Any]], dict[str, float] | str]) -> list[Measured | str]:
        """The (software, hardware) metrics of every config, in order; ``fallback`` scores the unstackable ones.

        Hardware metrics that need a candidate's quantised graph (``bitops``, ``resource_estimate``:
        ``runners.needs_graph``) come from ``graph_hardware``, one graph per stacked candidate (this
        scorer builds none), and first: a candidate the hardware flow refuses (a reason, not
        metrics) is not scored. Otherwise the average bit width is read from the parsed configs.
        ``fallback`` measures its configs' hardware itself, so they are not measured here.
        """
        results: list[Measured | str | None] = [None] * len(configs)
        parsed = [self.node_configs(config) for config in configs]
        for i, p in enumerate(parsed):
            if isinstance(p, str):
                results[i] = fallback(configs[i])
        hardware: dict[int, dict[str, float]] = {}
        if self.runners.needs_graph:
            for i in [i for i, result in enumerate(results) if result is None]:
                measured = graph_hardware(configs[i])
                if isinstance(measured, str):
                    results[i] = measured
                else:
                    hardware[i] = measured
        stacked = [i for i, result in enumerate(results) if result is None]
        software = self._software([parsed[i] for i in stacked]) if stacked else []
        for i, metrics in zip(stacked, software):
            results[i] = (metrics, hardware[i] if i in hardware else self._hardware(parsed[i]))
        return results  # type: ignore[return-value]

    def _hardware(self, parsed: Mapping[str, NodeQuantConfig | None]) -> dict[str, float]:
        bitwidth = self.runners.strategy.bitwidth
        if bitwidth is None:
            return {}
        widths = []
        for node, (elements, width) in self._float_widths.items():
            config = parsed.get(node)
            weight = config.quantizer("weight") if config is not None else None
            widths.append((elements, int(weight.precision()[0]) if weight is not None else width))
        return bitwidth_metrics(widths, bitwidth.compare_to)

    def _software(self, candidates: Sequence[Mapping[str, NodeQuantConfig | None]]) -> list[dict[str, float]]:
        rows = self.runners.rows
        if rows is None:
            return [{} for _ in candidates]
        programs = _programs(self.plan, candidates)
        output = programs[self.plan.output]
        float_linear = any(p.step.op == "linear" and config is None for p in programs for _, config in p.lanes)
        # a float linear rounds its sums, and gemm may sum in another order for another number of
        # rows: it must see the chunks the float graph sees
        pass_rows = CHUNK_ROWS if float_linear else PASS_ROWS
        workspace = _Workspace()
        loss = [0.0] * len(output.lanes)
        correct = [0] * len(output.lanes)
        with torch.no_grad():
            for start in range(0, len(rows.y), CHUNK_ROWS):
                x = rows.x[start:start + CHUNK_ROWS]
                logits = torch.cat([self._forward(x[i:i + pass_rows], programs, workspace)
                                    for i in range(0, len(x), pass_rows)], dim=2)
                chunk_loss, chunk_correct = _chunk_metrics(logits, rows.y[start:start + CHUNK_ROWS])
                for lane in range(len(output.lanes)):
                    loss[lane] += chunk_loss[lane]
                    correct[lane] += chunk_correct[lane]
        return [{"loss": loss[lane] / len(rows.y), "accuracy": correct[lane] / len(rows.y)} for lane in output.lane_of]

    def _forward(self, rows: Tensor, programs: Sequence[_Program], workspace: _Workspace) -> Tensor:
        """The logits lanes ``(L, classes, rows)`` of some rows ``(rows, features)``."""
        x = rows.t().contiguous().unsqueeze(0)
        users = [0] * len(programs)
        for program in programs:
            if program.step.source >= 0:
                users[program.step.source] += 1
        outputs: list[Tensor | None] = [None] * len(programs)
        for program in programs:
            source = program.step.source
            # the last reader of an intermediate stack may overwrite it; the logits stay
            owned = source >= 0 and users[source] == 1 and source != self.plan.output
            outputs[program.index] = _run(program, x if source < 0 else outputs[source], owned, workspace, self)
            if source >= 0:
                users[source] -= 1
        return outputs[self.plan.output].clone()  # its buffer is the next pass's


# Rows per pass through the steps: a power of two dividing CHUNK_ROWS; lane stacks of this many
# rows stay in cache while gemm still runs at speed
PASS_ROWS = 2048


