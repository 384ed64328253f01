"""The fast path: K models of a Linear / BatchNorm1d / ReLU chain as stacked ``(K, ...)`` tensors.

Every layer runs for all K models at once (batched matmuls, per-model BatchNorm statistics); the
backward pass is written out by hand for the three layer kinds (no autograd tape: on tiny models
the tape costs more than the arithmetic), and all parameters live in one ``(K, P)`` tensor so the
optimiser update is a handful of ops whatever the depth. Each model gets exactly its own gradient
and its own hyper-parameters. The step is a pure function of tensors, so a whole range of steps,
loop included, can be handed to ``torch.compile`` as one program, which removes what per-op and
per-step overhead is left on CPU (performance notes). The flat parameter layout and the optimiser
step also serve the vmap path (``vmapped.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from chop.engine.schedule import ADAM_BETAS, ADAM_EPS, SGD_MOMENTUM, make_optimizer
from chop.engine.types import RunConfig

Tensors = dict[str, Tensor]
MatMul = Callable[[Tensor, Tensor], Tensor]


@dataclass(frozen=True)
class Layer:
    """One layer of the chain: ``kind`` is linear, batchnorm or relu; ``prefix`` its module path."""

    kind: str
    prefix: str
    eps: float = 0.0
    momentum: float = 0.0
    has_bias: bool = True


@dataclass(frozen=True)
class ParamLayout:
    """Where each parameter of one architecture sits in the flat ``(K, P)`` tensor of K models."""

    param_names: tuple[str, ...]   # in ``model.named_parameters()`` order (= torch.optim's order)
    param_shapes: tuple[tuple[int, ...], ...]

    @classmethod
    def of(cls, model: nn.Module) -> ParamLayout:
        named = list(model.named_parameters())
        return cls(tuple(name for name, _ in named), tuple(tuple(p.shape) for _, p in named))

    @property
    def slices(self) -> list[tuple[str, int, int, tuple[int, ...]]]:
        """``(name, start, stop, shape)`` of each parameter inside the flat ``(K, P)`` tensor."""
        out, start = [], 0
        for name, shape in zip(self.param_names, self.param_shapes):
            size = int(torch.Size(shape).numel())
            out.append((name, start, start + size, shape))
            start += size
        return out


@dataclass(frozen=True)
class StackedPlan(ParamLayout):
    layers: tuple[Layer, ...] = ()
    stat_names: tuple[str, ...] = ()    # BatchNorm running_mean / running_var


def _layer_of(name: str, module: nn.Module) -> Layer | None:
    kind = type(module)
    if kind is nn.Linear:
        return Layer("linear", name, has_bias=module.bias is not None)
    if kind is nn.BatchNorm1d:
        if not (module.affine and module.track_running_stats and module.momentum is not None):
            return None
        return Layer("batchnorm", name, eps=float(module.eps), momentum=float(module.momentum))
    if kind is nn.ReLU and not module.inplace:
        return Layer("relu", name)
    return None


def plan_for(model: nn.Module) -> StackedPlan | None:
    """The layer chain of ``model`` if it is exactly a sequence the fast path handles, else None.

    The model is traced with torch.fx; every node between input and output must be a call to one
    of the supported modules on the previous node's output, and every parameter must belong to them.
    Anything else (quantised modules, residual adds, Conv1d, reshapes) takes the vmap or general path.
    """
    if tuple(getattr(model, "input_shape", (0,))).__len__() != 1:
        return None
    try:
        graph = torch.fx.symbolic_trace(model).graph
    except Exception:  # untraceable user code simply takes another path
        return None
    modules = dict(model.named_modules())
    nodes = list(graph.nodes)
    if len(nodes) < 3 or nodes[0].op != "placeholder" or nodes[-1].op != "output":
        return None
    layers: list[Layer] = []
    previous = nodes[0]
    for node in nodes[1:-1]:
        if node.op != "call_module" or node.args != (previous,) or node.kwargs:
            return None
        layer = _layer_of(str(node.target), modules[str(node.target)])
        if layer is None:
            return None
        layers.append(layer)
        previous = node
    if nodes[-1].args != (previous,):
        return None
    owned = {f"{layer.prefix}.{p}" for layer in layers if layer.kind != "relu" for p in ("weight", "bias")}
    named = list(model.named_parameters())
    if not {name for name, _ in named} <= owned:
        return None
    stats = tuple(f"{layer.prefix}.{s}" for layer in layers if layer.kind == "batchnorm"
                  for s in ("running_mean", "running_var"))
    return StackedPlan(tuple(n for n, _ in named), tuple(tuple(p.shape) for _, p in named), tuple(layers), stats)


def stack(models: Sequence[nn.Module], names: Sequence[str], device: torch.device) -> Tensors:
    """``{name: (K, ...)}`` copies of the named parameters/buffers of K models."""
    tables = [dict(m.named_parameters()) | dict(m.named_buffers()) for m in models]
    return {name: torch.stack([t[name].detach().float() for t in tables]).to(device).contiguous()
            for name in names}


def flatten(plan: ParamLayout, tensors: Tensors) -> Tensor:
    """Per-parameter ``(K, ...)`` tensors → one ``(K, P)`` tensor in ``plan.param_names`` order."""
    return torch.cat([tensors[name].reshape(tensors[name].shape[0], -1) for name in plan.param_names], 1).contiguous()


def unflatten(plan: ParamLayout, flat: Tensor) -> Tensors:
    """Views of ``(K, P)`` as ``{name: (K, *shape)}``."""
    return {name: flat[:, start:stop].view(flat.shape[0], *shape) for name, start, stop, shape in plan.slices}


def unstack_into(models: Sequence[nn.Module], tensors: Tensors) -> None:
    """Copy stacked tensors back into the K modules (in place, on their own devices)."""
    with torch.no_grad():
        for k, model in enumerate(models):
            table = dict(model.named_parameters()) | dict(model.named_buffers())
            for name, value in tensors.items():
                table[name].copy_(value[k])


def fused_matmul(a: Tensor, b: Tensor) -> Tensor:
    """``a @ b`` for ``(K, n, m)`` x ``(1 or K, m, p)`` as a broadcast product summed over ``m``.

    Only for compiled code: inductor folds it into the neighbouring kernels as a reduction loop
    (vectorised over the batch), where ``bmm`` is a separate library call per matmul that costs
    more than these tiny products (~30 us each for K=10 at batch 256). Eagerly it would
    materialise a ``(K, n, m, p)`` tensor.
    """
    return (a.unsqueeze(3) * b.unsqueeze(1)).sum(2)


def forward(plan: StackedPlan, params: Tensors, stats: Tensors, x: Tensor, training: bool,
            matmul: MatMul = torch.matmul) -> tuple[Tensor, Tensors, list[Any]]:
    """Logits ``(K, C, B)`` for inputs ``(1 or K, F, B)``.

    Activations are features-major: the batch is the innermost, contiguous dimension, so every
    element-wise op and BatchNorm reduction vectorises over the rows (class and hidden widths of
    5-16 do not fill a vector: batch-major, the compiled loss kernel alone cost ~0.25 ms per
    step for K=10 at batch 256). In training also the new running statistics and what
    ``backward`` needs per layer.
    """
    h = x
    new_stats: Tensors = {}
    cache: list[Any] = []
    for layer in plan.layers:
        p = layer.prefix
        if layer.kind == "linear":
            cache.append(h)
            h = matmul(params[f"{p}.weight"], h)
            if layer.has_bias:
                h = h + params[f"{p}.bias"].unsqueeze(2)
        elif layer.kind == "relu":
            h = torch.relu(h)
            cache.append(h)
        else:
            weight, bias = params[f"{p}.weight"].unsqueeze(2), params[f"{p}.bias"].unsqueeze(2)
            if training:
                rows = h.shape[2]
                var, mean = torch.var_mean(h, dim=2, correction=0, keepdim=True)
                invstd = torch.rsqrt(var + layer.eps)
                xhat = (h - mean) * invstd
                cache.append((xhat, invstd))
                h = xhat * weight + bias
                m = layer.momentum
                running_mean, running_var = stats[f"{p}.running_mean"], stats[f"{p}.running_var"]
                new_stats[f"{p}.running_mean"] = (1 - m) * running_mean + m * mean.squeeze(2)
                new_stats[f"{p}.running_var"] = (1 - m) * running_var + m * var.squeeze(2) * (rows / (rows - 1))
            else:
                mean = stats[f"{p}.running_mean"].unsqueeze(2)
                var = stats[f"{p}.running_var"].unsqueeze(2)
                h = (h - mean) * torch.rsqrt(var + layer.eps) * weight + bias
    return h, new_stats, cache


def backward(plan: StackedPlan, params: Tensors, cache: list[Any], grad_out: Tensor,
             matmul: MatMul = torch.matmul) -> Tensors:
    """Hand-derived gradients of every parameter, given d(loss)/d(logits) ``(K, C, B)``."""
    grads: Tensors = {}
    g = grad_out
    for index in range(len(plan.layers) - 1, -1, -1):
        layer, saved, p = plan.layers[index], cache[index], plan.layers[index].prefix
        first = index == 0  # the input needs no gradient
        if layer.kind == "linear":
            grads[f"{p}.weight"] = matmul(g, saved.transpose(1, 2))
            if layer.has_bias:
                grads[f"{p}.bias"] = g.sum(2)
            if not first:
                g = matmul(params[f"{p}.weight"].transpose(1, 2), g)
        elif layer.kind == "relu":
            if not first:
                g = g * (saved > 0)
        else:
            xhat, invstd = saved
            grads[f"{p}.weight"] = (g * xhat).sum(2)
            grads[f"{p}.bias"] = g.sum(2)
            if not first:
                dxhat = g * params[f"{p}.weight"].unsqueeze(2)
                g = invstd * (dxhat - dxhat.mean(2, keepdim=True) - xhat * (dxhat * xhat).mean(2, keepdim=True))
    return grads


def loss_and_grad(logits: Tensor, y: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Per-model mean cross-entropy, accuracy, and d(sum of the K losses)/d(logits ``(K, C, B)``)."""
    labels = y.expand(logits.shape[0], -1).unsqueeze(1)
    logp = torch.log_softmax(logits, dim=1)
    picked = logp.gather(1, labels)
    loss = -picked.squeeze(1).mean(1)
    acc = (logits.argmax(1, keepdim=True) == labels).squeeze(1).to(logits.dtype).mean(1)
    probs = logp.exp()
    grad = probs.scatter(1, labels, picked.exp() - 1) / logits.shape[2]
    return loss, acc, grad


def train_step(plan: StackedPlan, optimizer: str, flat: Tensor, stats: Tensors, slots: Sequence[Tensor],
               x: Tensor, y: Tensor, hp: Tensor, matmul: MatMul = torch.matmul
               ) -> tuple[Tensor, Tensors, tuple[Tensor, ...], Tensor, Tensor]:
    """One optimiser step of all K models: new parameters, running statistics and optimiser slots
    (``state_slots`` order), and each model's loss and accuracy on the batch.

    ``x`` is ``(1 or K, F, B)`` (features-major, see ``forward``), ``y`` ``(1 or K, B)``. ``hp`` is
    a ``(4, K)`` row: Adam/AdamW ``[step_size, sqrt(bias_correction2), 1 - lr*wd, wd]``, SGD
    ``[lr, unused, unused, wd]``, computed on the host in double precision exactly as torch.optim
    does; the update applies torch.optim's ops in torch.optim's order, so it matches
    ``torch.optim`` to float rounding. Written out of place
    because it is the body of a ``while_loop`` (see ``make_runner``).
    """
    params = unflatten(plan, flat)
    logits, new_stats, cache = forward(plan, params, stats, x, training=True, matmul=matmul)
    loss, acc, grad_logits = loss_and_grad(logits, y)
    grad = flatten(plan, backward(plan, params, cache, grad_logits, matmul))
    flat, slots = optimizer_update(optimizer, flat, grad, slots, hp)
    return flat, new_stats, slots, loss, acc


def optimizer_update(optimizer: str, flat: Tensor, grad: Tensor, slots: Sequence[Tensor], hp: Tensor
                     ) -> tuple[Tensor, tuple[Tensor, ...]]:
    """One ``torch.optim`` step of K models at once: new ``(K, P)`` parameters and optimiser slots.

    ``hp`` is the step's ``(4, K)`` row (see ``train_step``); the ops are torch.optim's, in its order.
    """
    beta1, beta2 = ADAM_BETAS
    g = grad + hp[3].unsqueeze(1) * flat
    if optimizer == "sgd":
        buf = torch.add(slots[0] * SGD_MOMENTUM, g)
        return flat - hp[0].unsqueeze(1) * (g + SGD_MOMENTUM * buf), (buf,)
    if optimizer == "adamw":
        flat = flat * hp[2].unsqueeze(1)
    m = torch.lerp(slots[0], g, 1 - beta1)
    v = torch.addcmul(slots[1] * beta2, g, g, value=1 - beta2)
    denom = (v.sqrt() / hp[1].unsqueeze(1)) + ADAM_EPS
    return torch.addcdiv(flat, m * -hp[0].unsqueeze(1), denom), (m, v)


def _python_while_loop(cond: Callable[..., Tensor], body: Callable[..., tuple], carry: tuple) -> tuple:
    """``torch._higher_order_ops.while_loop`` semantics for eager runs, without the operator's overhead."""
    while bool(cond(*carry)):
        carry = body(*carry)
    return carry


def make_runner(plan: StackedPlan, optimizer: str, compiled: bool) -> Callable[..., tuple[Tensor, Tensor]]:
    """``run(flat, stats, state, x_all, y_all, batches, hp, start, stop) -> (loss, acc)``.

    Runs steps ``start .. stop-1`` of an epoch and updates ``flat``, ``stats`` and ``state`` in
    place; returns the last step's per-model loss and accuracy. ``batches`` is ``(T, 1 or K, B)``:
    the row indices of each step, gathered from ``x_all`` ``(N, F)`` / ``y_all`` ``(N,)`` inside the
    step; or ``x_all`` / ``y_all`` are already in batch order, ``(T, 1, F, B)`` / ``(T, 1, B)``
    (a shared order, permuted once per epoch: each step reads a contiguous block), and ``batches``
    is not read. ``hp`` is ``(>= T, 4, K)``; ``start`` and
    ``stop`` are 0-d int64 tensors, values rather than shapes, so one compiled graph serves every
    range. With ``compiled`` the steps run in a ``while_loop``, which ``torch.compile`` turns into one
    call for the whole range: no Python, guard checks or host syncs between steps, which is what
    was left of the per-step cost once the step itself was compiled (the performance notes).
    """
    from torch._higher_order_ops import while_loop

    loop, matmul = (while_loop, fused_matmul) if compiled else (_python_while_loop, torch.matmul)
    names, slot_names = plan.stat_names, state_slots(optimizer)
    num_slots = len(slot_names)

    def run(flat: Tensor, stats: Tensors, state: Tensors, x_all: Tensor, y_all: Tensor, batches: Tensor,
            hp: Tensor, start: Tensor, stop: Tensor) -> tuple[Tensor, Tensor]:
        def cond(i: Tensor, *carry: Tensor) -> Tensor:
            return i < stop

        def body(i: Tensor, params: Tensor, loss: Tensor, acc: Tensor, *rest: Tensor) -> tuple[Tensor, ...]:
            if x_all.dim() == 4:  # already in batch order: a contiguous block, no gather
                x, y = x_all.index_select(0, i.view(1)).squeeze(0), y_all.index_select(0, i.view(1)).squeeze(0)
            else:
                rows = batches.index_select(0, i.view(1)).squeeze(0)
                x = torch.index_select(x_all, 0, rows.reshape(-1)).view(*rows.shape, x_all.shape[1]).transpose(1, 2)
                y = torch.index_select(y_all, 0, rows.reshape(-1)).view(rows.shape)
            params, new_stats, slots, loss, acc = train_step(
                plan, optimizer, params, dict(zip(names, rest[num_slots:])), rest[:num_slots], x, y,
                hp.index_select(0, i.view(1)).squeeze(0), matmul)
            return (i + 1, params, loss, acc, *slots, *(new_stats[name] for name in names))

        zeros = flat.new_zeros(flat.shape[0])
        carry = (start.clone(), flat.clone(), zeros, zeros.clone(), *(state[slot].clone() for slot in slot_names),
                 *(stats[name].clone() for name in names))
        out = loop(cond, body, carry)
        flat.copy_(out[1])
        for slot, value in zip(slot_names, out[4:4 + num_slots]):
            state[slot].copy_(value)
        for name, value in zip(names, out[4 + num_slots:]):
            stats[name].copy_(value)
        return out[2], out[3]

    return run


def state_slots(optimizer: str) -> tuple[str, ...]:
    return ("momentum_buffer",) if optimizer == "sgd" else ("exp_avg", "exp_avg_sq")


def step_hyperparameters(optimizer: str, lrs: Sequence[float], weight_decays: Sequence[float],
                         first_step: int, num_steps: int, device: torch.device) -> Tensor:
    """``(num_steps, 4, K)`` rows for ``train_step``; global steps are 1-based like torch.optim's.

    Computed in float64 like torch.optim's Python scalars, then rounded to float32 once.
    """
    lr = torch.tensor(lrs, dtype=torch.float64)
    wd = torch.tensor(weight_decays, dtype=torch.float64)
    ones = torch.ones(num_steps, len(lrs), dtype=torch.float64)
    if optimizer == "sgd":
        rows = [ones * lr, ones, ones, ones * wd]
    else:
        beta1, beta2 = ADAM_BETAS
        t = torch.arange(first_step, first_step + num_steps, dtype=torch.float64).unsqueeze(1)
        step_size = lr / (1 - beta1 ** t)
        correction2_sqrt = ((1 - beta2 ** t) ** 0.5) * ones
        if optimizer == "adamw":
            rows = [step_size, correction2_sqrt, ones * (1 - lr * wd), ones * 0.0]
        else:
            rows = [step_size, correction2_sqrt, ones, ones * wd]
    return torch.stack(rows, dim=1).to(device=device, dtype=torch.float32)


@torch.no_grad()
def evaluate(plan: StackedPlan, flat: Tensor, stats: Tensors, x: Tensor, y: Tensor,
             chunk: int = 8192) -> tuple[Tensor, Tensor]:
    """Per-model (accuracy, mean cross-entropy) over all rows, in eval mode, as ``(K,)`` tensors."""
    params = unflatten(plan, flat)
    k = flat.shape[0]
    correct = torch.zeros(k, dtype=torch.float64, device=x.device)
    loss = torch.zeros(k, dtype=torch.float64, device=x.device)
    for start in range(0, x.shape[0], chunk):
        logits, _, _ = forward(plan, params, stats, x[start:start + chunk].T.unsqueeze(0), training=False)
        labels = y[start:start + chunk].unsqueeze(0).expand(k, -1)
        nll = F.cross_entropy(logits, labels, reduction="none")
        loss += nll.double().sum(1)
        correct += (logits.argmax(1) == labels).double().sum(1)
    rows = max(x.shape[0], 1)
    return correct / rows, loss / rows


def optimizer_state_to_torch(plan: ParamLayout, optimizer: str, state: Tensors, k: int, step: int,
                             param_group: dict[str, Any]) -> dict[str, Any]:
    """Model ``k``'s optimiser state in ``torch.optim``'s ``state_dict`` layout (for checkpoints)."""
    per_param: dict[int, dict[str, Any]] = {}
    if step > 0:
        for index, (_, start, stop, shape) in enumerate(plan.slices):
            entry: dict[str, Any] = {} if optimizer == "sgd" else {"step": torch.tensor(float(step))}
            for slot in state_slots(optimizer):
                entry[slot] = state[slot][k, start:stop].reshape(shape).cpu().clone()
            per_param[index] = entry
    group = dict(param_group, params=list(range(len(plan.param_names))))
    return {"state": per_param, "param_groups": [group]}


def torch_optimizer_states(plan: ParamLayout, optimizer: str, state: Tensors, runs: Sequence[RunConfig],
                           lrs: Sequence[float], step: int) -> list[dict[str, Any]]:
    """Every model's optimiser state as ``torch.optim`` would hold it after ``step`` steps at ``lrs``."""
    states = []
    for k, (run, lr) in enumerate(zip(runs, lrs)):
        group = make_optimizer(run, [nn.Parameter(torch.zeros(1))]).param_groups[0]
        group = {key: value for key, value in group.items() if key != "params"}
        group.update(lr=lr, initial_lr=run.learning_rate)
        states.append(optimizer_state_to_torch(plan, optimizer, state, k, step, group))
    return states


def optimizer_state_from_torch(plan: ParamLayout, optimizer: str, saved: Sequence[dict[str, Any]],
                               state: Tensors) -> None:
    """Copy K ``torch.optim`` state dicts into the flat ``(K, P)`` state tensors (absent slots stay 0)."""
    for k, sd in enumerate(saved):
        for index, (_, start, stop, _) in enumerate(plan.slices):
            entry = sd["state"].get(index, sd["state"].get(str(index), {}))
            for slot in state_slots(optimizer):
                if entry.get(slot) is not None:
                    state[slot][k, start:stop] = entry[slot].reshape(-1).to(state[slot])
