"""The stacked path's training loop: a range of steps as one call, eager or through ``torch.compile``.

A runner executes steps ``start .. stop-1`` of an epoch as a ``while_loop`` whose body is one
training step of all K models (``train_step``). Eagerly the loop is plain Python; compiled it is
torch's ``while_loop`` operator, which ``torch.compile`` turns into one program for the whole range.
That operator and ``torch._dynamo``'s configuration are private torch APIs: only
``compiled_runner`` and its ``under_recompile_limit`` touch them, and import them when called.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

from chop.engine.flat_optimizer import optimizer_update, state_slots
from chop.engine.flat_params import Tensors, flatten, unflatten
from chop.engine.stacked import StackedPlan
from chop.engine.stacked_layers import MatMul, backward, forward, fused_matmul, loss_and_grad

Runner = Callable[..., tuple[Tensor, Tensor]]
WhileLoop = Callable[[Callable[..., Tensor], Callable[..., tuple], tuple], tuple]

# Every group's loop shares one code object, so torch's compile cache sees each (K, batch, optimiser,
# steps per epoch) combination as a recompilation of the same function; past the default limit of
# 8 it would silently fall back to eager (a sweep runs many groups in one process).
RECOMPILE_LIMIT = 64


def eager_runner(plan: StackedPlan, optimizer: str) -> Runner:
    """The loop in plain Python with ``torch.matmul``: no compilation, no private torch API."""
    return _runner(plan, optimizer, _python_while_loop, torch.matmul)


def compiled_runner(plan: StackedPlan, optimizer: str) -> Runner:
    """The loop as torch's ``while_loop`` through ``torch.compile``, each call under ``RECOMPILE_LIMIT``."""
    from torch._higher_order_ops import while_loop

    return under_recompile_limit(torch.compile(_runner(plan, optimizer, while_loop, fused_matmul), dynamic=False))


def under_recompile_limit(compiled: Callable[..., Any]) -> Callable[..., Any]:
    """``compiled`` with dynamo's recompile limit raised to at least ``RECOMPILE_LIMIT`` during each call.

    Dynamo checks the limit when a call misses its cache and would recompile, not in
    ``torch.compile``; scoping it to the call leaves the process's own setting as it was.
    """
    import torch._dynamo.config as dynamo_config

    def call(*args: Any) -> Any:
        with dynamo_config.patch(recompile_limit=max(dynamo_config.recompile_limit, RECOMPILE_LIMIT)):
            return compiled(*args)

    return call


def train_step(plan: StackedPlan, optimizer: str, flat: Tensor, stats: Tensors, slots: Sequence[Tensor],
               x: Tensor, y: Tensor, hp: Tensor, matmul: MatMul = torch.matmul
               ) -> tuple[Tensor, Tensors, tuple[Tensor, ...], Tensor, Tensor]:
    """One optimiser step of all K models: new parameters, running statistics and optimiser slots
    (``state_slots`` order), and each model's loss and accuracy on the batch.

    ``x`` is ``(1 or K, F, B)`` (features-major, see ``stacked_layers.forward``), ``y`` ``(1 or K, B)``,
    ``hp`` the step's ``(4, K)`` row of ``flat_optimizer.step_hyperparameters``. Written out of
    place because it is the body of a ``while_loop`` (see ``_runner``).
    """
    params = unflatten(plan, flat)
    logits, new_stats, cache = forward(plan, params, stats, x, training=True, matmul=matmul)
    loss, acc, grad_logits = loss_and_grad(logits, y)
    grad = flatten(plan, backward(plan, params, cache, grad_logits, matmul))
    flat, slots = optimizer_update(optimizer, flat, grad, slots, hp)
    return flat, new_stats, slots, loss, acc


def _python_while_loop(cond: Callable[..., Tensor], body: Callable[..., tuple], carry: tuple) -> tuple:
    """``torch._higher_order_ops.while_loop`` semantics for eager runs, without the operator's overhead."""
    while bool(cond(*carry)):
        carry = body(*carry)
    return carry


def _runner(plan: StackedPlan, optimizer: str, loop: WhileLoop, matmul: MatMul) -> Runner:
    """``run(flat, stats, state, x_all, y_all, batches, hp, start, stop) -> (loss, acc)``.

    Runs steps ``start .. stop-1`` of an epoch and updates ``flat``, ``stats`` and ``state`` in
    place; returns the last step's per-model loss and accuracy. ``batches`` is ``(T, 1 or K, B)``:
    the row indices of each step, gathered from ``x_all`` ``(N, F)`` / ``y_all`` ``(N,)`` inside the
    step; or ``x_all`` / ``y_all`` are already in batch order, ``(T, 1, F, B)`` / ``(T, 1, B)``
    (a shared order, permuted once per epoch: each step reads a contiguous block), and ``batches``
    is not read. ``hp`` is ``(>= T, 4, K)``; ``start`` and
    ``stop`` are 0-d int64 tensors, values rather than shapes, so one compiled graph serves every
    range. Compiled, the steps run in a ``while_loop``, which ``torch.compile`` turns into one
    call for the whole range: no Python, guard checks or host syncs between steps, which is what
    was left of the per-step cost once the step itself was compiled (the performance notes).
    """
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
