"""The stacked path's arithmetic: forward and hand-derived backward of a Linear / BatchNorm1d / ReLU chain.

Every layer runs for all K models at once on ``(K, ...)`` tensors (batched matmuls, per-model
BatchNorm statistics). The backward pass is written out by hand for the three layer kinds (no
autograd tape: on tiny models the tape costs more than the arithmetic); each model gets exactly its
own gradient. Pure functions of tensors, so ``stacked_loop.py`` can hand a whole range of training
steps to ``torch.compile`` as one program.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from chop.engine.flat_params import Tensors, unflatten
from chop.engine.stacked import StackedPlan

MatMul = Callable[[Tensor, Tensor], Tensor]


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
