"""The fast path: K models of a Linear / BatchNorm1d / ReLU chain as stacked ``(K, ...)`` tensors.

Every layer runs for all K models at once (batched matmuls, per-model BatchNorm statistics); the
backward pass is written out by hand for the three layer kinds (no autograd tape: on tiny models
the tape costs more than the arithmetic), and all parameters live in one ``(K, P)`` tensor so the
optimiser update is a handful of ops whatever the depth. Each model gets exactly its own gradient
and its own hyper-parameters. The step is a pure function of tensors, so it can be handed to
``torch.compile`` whole, which removes what per-op overhead is left on CPU (performance notes).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from chop.engine.schedule import ADAM_BETAS, ADAM_EPS, SGD_MOMENTUM

Tensors = dict[str, Tensor]


@dataclass(frozen=True)
class Layer:
    """One layer of the chain: ``kind`` is linear, batchnorm or relu; ``prefix`` its module path."""

    kind: str
    prefix: str
    eps: float = 0.0
    momentum: float = 0.0
    has_bias: bool = True


@dataclass(frozen=True)
class StackedPlan:
    layers: tuple[Layer, ...]
    param_names: tuple[str, ...]   # in ``model.named_parameters()`` order (= torch.optim's order)
    param_shapes: tuple[tuple[int, ...], ...]
    stat_names: tuple[str, ...]    # BatchNorm running_mean / running_var

    @property
    def slices(self) -> list[tuple[str, int, int, tuple[int, ...]]]:
        """``(name, start, stop, shape)`` of each parameter inside the flat ``(K, P)`` tensor."""
        out, start = [], 0
        for name, shape in zip(self.param_names, self.param_shapes):
            size = int(torch.Size(shape).numel())
            out.append((name, start, start + size, shape))
            start += size
        return out


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
    Anything else (quantised modules, residual adds, Conv1d, reshapes) takes the general path.
    """
    if tuple(getattr(model, "input_shape", (0,))).__len__() != 1:
        return None
    try:
        graph = torch.fx.symbolic_trace(model).graph
    except Exception:  # untraceable user code simply takes the general path
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
    return StackedPlan(tuple(layers), tuple(n for n, _ in named), tuple(tuple(p.shape) for _, p in named), stats)


def stack(models: Sequence[nn.Module], names: Sequence[str], device: torch.device) -> Tensors:
    """``{name: (K, ...)}`` copies of the named parameters/buffers of K models."""
    tables = [dict(m.named_parameters()) | dict(m.named_buffers()) for m in models]
    return {name: torch.stack([t[name].detach().float() for t in tables]).to(device).contiguous()
            for name in names}


def flatten(plan: StackedPlan, tensors: Tensors) -> Tensor:
    """Per-parameter ``(K, ...)`` tensors → one ``(K, P)`` tensor in ``plan.param_names`` order."""
    return torch.cat([tensors[name].reshape(tensors[name].shape[0], -1) for name in plan.param_names], 1).contiguous()


def unflatten(plan: StackedPlan, flat: Tensor) -> Tensors:
    """Views of ``(K, P)`` as ``{name: (K, *shape)}``."""
    return {name: flat[:, start:stop].view(flat.shape[0], *shape) for name, start, stop, shape in plan.slices}


def unstack_into(models: Sequence[nn.Module], tensors: Tensors) -> None:
    """Copy stacked tensors back into the K modules (in place, on their own devices)."""
    with torch.no_grad():
        for k, model in enumerate(models):
            table = dict(model.named_parameters()) | dict(model.named_buffers())
            for name, value in tensors.items():
                table[name].copy_(value[k])


def forward(plan: StackedPlan, params: Tensors, stats: Tensors, x: Tensor, training: bool
            ) -> tuple[Tensor, Tensors, list[Any]]:
    """Logits ``(K, B, C)`` for inputs ``(1 or K, B, F)``.

    In training also the new running statistics and what ``backward`` needs per layer.
    """
    h = x
    new_stats: Tensors = {}
    cache: list[Any] = []
    for layer in plan.layers:
        p = layer.prefix
        if layer.kind == "linear":
            cache.append(h)
            h = torch.matmul(h, params[f"{p}.weight"].transpose(1, 2))
            if layer.has_bias:
                h = h + params[f"{p}.bias"].unsqueeze(1)
        elif layer.kind == "relu":
            h = torch.relu(h)
            cache.append(h)
        else:
            weight, bias = params[f"{p}.weight"].unsqueeze(1), params[f"{p}.bias"].unsqueeze(1)
            if training:
                rows = h.shape[1]
                var, mean = torch.var_mean(h, dim=1, correction=0, keepdim=True)
                invstd = torch.rsqrt(var + layer.eps)
                xhat = (h - mean) * invstd
                cache.append((xhat, invstd))
                h = xhat * weight + bias
                m = layer.momentum
                running_mean, running_var = stats[f"{p}.running_mean"], stats[f"{p}.running_var"]
                new_stats[f"{p}.running_mean"] = (1 - m) * running_mean + m * mean.squeeze(1)
                new_stats[f"{p}.running_var"] = (1 - m) * running_var + m * var.squeeze(1) * (rows / (rows - 1))
            else:
                mean = stats[f"{p}.running_mean"].unsqueeze(1)
                var = stats[f"{p}.running_var"].unsqueeze(1)
                h = (h - mean) * torch.rsqrt(var + layer.eps) * weight + bias
    return h, new_stats, cache


def backward(plan: StackedPlan, params: Tensors, cache: list[Any], grad_out: Tensor) -> Tensors:
    """Hand-derived gradients of every parameter, given d(loss)/d(logits) ``(K, B, C)``."""
    grads: Tensors = {}
    g = grad_out
    for index in range(len(plan.layers) - 1, -1, -1):
        layer, saved, p = plan.layers[index], cache[index], plan.layers[index].prefix
        first = index == 0  # the input needs no gradient
        if layer.kind == "linear":
            grads[f"{p}.weight"] = torch.matmul(g.transpose(1, 2), saved)
            if layer.has_bias:
                grads[f"{p}.bias"] = g.sum(1)
            if not first:
                g = torch.matmul(g, params[f"{p}.weight"])
        elif layer.kind == "relu":
            if not first:
                g = g * (saved > 0)
        else:
            xhat, invstd = saved
            grads[f"{p}.weight"] = (g * xhat).sum(1)
            grads[f"{p}.bias"] = g.sum(1)
            if not first:
                dxhat = g * params[f"{p}.weight"].unsqueeze(1)
                g = invstd * (dxhat - dxhat.mean(1, keepdim=True) - xhat * (dxhat * xhat).mean(1, keepdim=True))
    return grads


def loss_and_grad(logits: Tensor, y: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Per-model mean cross-entropy, accuracy, and d(sum of the K losses)/d(logits)."""
    labels = y.expand(logits.shape[0], -1).unsqueeze(-1)
    logp = torch.log_softmax(logits, dim=-1)
    picked = logp.gather(-1, labels)
    loss = -picked.squeeze(-1).mean(1)
    acc = (logits.argmax(-1, keepdim=True) == labels).squeeze(-1).to(logits.dtype).mean(1)
    probs = logp.exp()
    grad = probs.scatter(-1, labels, picked.exp() - 1) / logits.shape[1]
    return loss, acc, grad


def make_step(plan: StackedPlan, optimizer: str) -> Callable[..., tuple[Tensor, Tensor]]:
    """The whole training step as one function of tensors (eager, or compiled by the caller).

    ``hp`` is a ``(4, K)`` row: Adam/AdamW ``[step_size, sqrt(bias_correction2), 1 - lr*wd, wd]``,
    SGD ``[lr, unused, unused, wd]``, computed on the host in double precision exactly as
    torch.optim does, so the update matches ``torch.optim`` to float rounding.
    """
    beta1, beta2 = ADAM_BETAS

    def step(flat: Tensor, stats: Tensors, state: Tensors, x_all: Tensor, y_all: Tensor,
             idx: Tensor, hp: Tensor) -> tuple[Tensor, Tensor]:
        params = unflatten(plan, flat)
        rows = idx.reshape(-1)
        x = torch.index_select(x_all, 0, rows).view(idx.shape[0], idx.shape[1], x_all.shape[1])
        y = torch.index_select(y_all, 0, rows).view(idx.shape)
        logits, new_stats, cache = forward(plan, params, stats, x, training=True)
        loss, acc, grad_logits = loss_and_grad(logits, y)
        grads = backward(plan, params, cache, grad_logits)
        for name, value in new_stats.items():
            stats[name].copy_(value)
        g = flatten(plan, grads) + hp[3].unsqueeze(1) * flat
        if optimizer == "sgd":
            buf = state["momentum_buffer"]
            buf.mul_(SGD_MOMENTUM).add_(g)
            flat.sub_(hp[0].unsqueeze(1) * (g + SGD_MOMENTUM * buf))
            return loss, acc
        if optimizer == "adamw":
            flat.mul_(hp[2].unsqueeze(1))
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m.lerp_(g, 1 - beta1)
        v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
        denom = (v.sqrt() / hp[1].unsqueeze(1)).add_(ADAM_EPS)
        flat.addcdiv_(m * -hp[0].unsqueeze(1), denom)
        return loss, acc

    return step


def state_slots(optimizer: str) -> tuple[str, ...]:
    return ("momentum_buffer",) if optimizer == "sgd" else ("exp_avg", "exp_avg_sq")


def step_hyperparameters(optimizer: str, lrs: Sequence[float], weight_decays: Sequence[float],
                         first_step: int, num_steps: int, device: torch.device) -> Tensor:
    """``(num_steps, 4, K)`` rows for ``make_step``; global steps are 1-based like torch.optim's.

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
        logits, _, _ = forward(plan, params, stats, x[start:start + chunk].unsqueeze(0), training=False)
        labels = y[start:start + chunk].unsqueeze(0).expand(k, -1)
        nll = F.cross_entropy(logits.transpose(1, 2), labels, reduction="none")
        loss += nll.double().sum(1)
        correct += (logits.argmax(-1) == labels).double().sum(1)
    rows = max(x.shape[0], 1)
    return correct / rows, loss / rows


def optimizer_state_to_torch(plan: StackedPlan, optimizer: str, state: Tensors, k: int, step: int,
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


def optimizer_state_from_torch(plan: StackedPlan, optimizer: str, saved: Sequence[dict[str, Any]],
                               state: Tensors) -> None:
    """Copy K ``torch.optim`` state dicts into the flat ``(K, P)`` state tensors (absent slots stay 0)."""
    for k, sd in enumerate(saved):
        for index, (_, start, stop, _) in enumerate(plan.slices):
            entry = sd["state"].get(index, sd["state"].get(str(index), {}))
            for slot in state_slots(optimizer):
                if entry.get(slot) is not None:
                    state[slot][k, start:stop] = entry[slot].reshape(-1).to(state[slot])
