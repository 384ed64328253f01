"""torch.optim's Adam, AdamW and SGD applied to the flat ``(K, P)`` parameters of K models at once.

Shared by the stacked and vmap paths. Each model keeps its own hyper-parameters: they travel as a
``(4, K)`` row per step, computed on the host in double precision exactly as torch.optim does, and
the update applies torch.optim's ops in torch.optim's order, so it matches ``torch.optim`` to float
rounding. The optimiser state converts to and from ``torch.optim``'s ``state_dict`` layout, so
checkpoints and resumes look the same whichever path trained the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from chop.engine.flat_params import ParamLayout, Tensors
from chop.engine.schedule import ADAM_BETAS, ADAM_EPS, SGD_MOMENTUM, make_optimizer
from chop.engine.types import RunConfig


def state_slots(optimizer: str) -> tuple[str, ...]:
    """The names of the optimiser's per-parameter state tensors, as ``torch.optim`` calls them."""
    return ("momentum_buffer",) if optimizer == "sgd" else ("exp_avg", "exp_avg_sq")


def step_hyperparameters(optimizer: str, lrs: Sequence[float], weight_decays: Sequence[float],
                         first_step: int, num_steps: int, device: torch.device) -> Tensor:
    """``(num_steps, 4, K)`` rows for ``optimizer_update``; global steps are 1-based like torch.optim's.

    Adam/AdamW rows are ``[step_size, sqrt(bias_correction2), 1 - lr*wd, wd]``, SGD rows
    ``[lr, unused, unused, wd]``. Computed in float64 like torch.optim's Python scalars, then
    rounded to float32 once.
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


def optimizer_update(optimizer: str, flat: Tensor, grad: Tensor, slots: Sequence[Tensor], hp: Tensor
                     ) -> tuple[Tensor, tuple[Tensor, ...]]:
    """One ``torch.optim`` step of K models at once: new ``(K, P)`` parameters and optimiser slots.

    ``hp`` is the step's ``(4, K)`` row (see ``step_hyperparameters``); the ops are torch.optim's,
    in its order. Written out of place because it is part of a ``while_loop`` body (``stacked_loop.py``).
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


def optimizer_state_to_torch(layout: ParamLayout, optimizer: str, state: Tensors, k: int, step: int,
                             param_group: dict[str, Any]) -> dict[str, Any]:
    """Model ``k``'s optimiser state in ``torch.optim``'s ``state_dict`` layout (for checkpoints)."""
    per_param: dict[int, dict[str, Any]] = {}
    if step > 0:
        for index, (_, start, stop, shape) in enumerate(layout.slices):
            entry: dict[str, Any] = {} if optimizer == "sgd" else {"step": torch.tensor(float(step))}
            for slot in state_slots(optimizer):
                entry[slot] = state[slot][k, start:stop].reshape(shape).cpu().clone()
            per_param[index] = entry
    group = dict(param_group, params=list(range(len(layout.param_names))))
    return {"state": per_param, "param_groups": [group]}


def torch_optimizer_states(layout: ParamLayout, optimizer: str, state: Tensors, runs: Sequence[RunConfig],
                           lrs: Sequence[float], step: int) -> list[dict[str, Any]]:
    """Every model's optimiser state as ``torch.optim`` would hold it after ``step`` steps at ``lrs``."""
    states = []
    for k, (run, lr) in enumerate(zip(runs, lrs)):
        group = make_optimizer(run, [nn.Parameter(torch.zeros(1))]).param_groups[0]
        group = {key: value for key, value in group.items() if key != "params"}
        group.update(lr=lr, initial_lr=run.learning_rate)
        states.append(optimizer_state_to_torch(layout, optimizer, state, k, step, group))
    return states


def optimizer_state_from_torch(layout: ParamLayout, optimizer: str, saved: Sequence[dict[str, Any]],
                               state: Tensors) -> None:
    """Copy K ``torch.optim`` state dicts into the flat ``(K, P)`` state tensors (absent slots stay 0)."""
    for k, sd in enumerate(saved):
        for index, (_, start, stop, _) in enumerate(layout.slices):
            entry = sd["state"].get(index, sd["state"].get(str(index), {}))
            for slot in state_slots(optimizer):
                if entry.get(slot) is not None:
                    state[slot][k, start:stop] = entry[slot].reshape(-1).to(state[slot])
