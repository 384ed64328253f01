"""What makes the trials of two runs comparable, as short digests: a study refuses trials of another search.

Four parts, so the refusal can say which one changed: ``model`` (every parameter and buffer, by name,
dtype, shape and bytes), ``space`` (the space's class and every choice), ``objectives`` (the metrics,
their scales and directions, the runners' settings) and ``data`` (the rows the runners evaluate).
The sampler, the number of trials and the seed are not part of it: a resume may change them. A space
that retrains its candidates is the exception: its seed draws their weights, so it is a fifth part.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from typing import Any

import torch
from torch import nn

from chop.search.config import HardwareRunners, StrategyConfig
from chop.search.space_base import SearchSpaceBase

DIGEST_CHARS = 16


def _digest(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()[:DIGEST_CHARS]


def model_digest(model: nn.Module) -> str:
    h = hashlib.sha256(type(model).__qualname__.encode())
    for name, tensor in sorted(model.state_dict().items()):
        t = tensor.detach().cpu().contiguous()
        h.update(f"{name}:{t.dtype}:{tuple(t.shape)}".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()[:DIGEST_CHARS]


def objectives_digest(strategy: StrategyConfig) -> str:
    parts = {"metrics": [asdict(m) for m in strategy.metrics], "sum_scaled_metrics": strategy.sum_scaled_metrics,
             "directions": list(strategy.directions), "eval_mode": strategy.eval_mode,
             "evaluation": asdict(strategy.evaluation) if strategy.evaluation else None,
             "bitwidth": asdict(strategy.bitwidth) if strategy.bitwidth else None}
    if strategy.training is not None:  # only then: the digests of earlier studies stay as they were
        parts["training"] = asdict(strategy.training)
    if strategy.hardware != HardwareRunners():  # only then: the studies of searches without them keep their digest
        parts["hardware"] = asdict(strategy.hardware)
    return _digest(json.dumps(parts, sort_keys=True))


def rows_digest(rows: Any) -> str:
    """The evaluated rows (``EvaluationRows`` or None when no software runner is set)."""
    if rows is None:
        return _digest("no rows")
    return _digest(rows.x.contiguous().numpy().tobytes() + rows.y.contiguous().numpy().tobytes() + rows.split.encode())


def structure_digest(model: nn.Module) -> str:
    """The model's class and every parameter's and buffer's name, dtype and shape: not their values."""
    shapes = [f"{name}:{t.dtype}:{tuple(t.shape)}" for name, t in sorted(model.state_dict().items())]
    return _digest(json.dumps([type(model).__qualname__, *shapes]))


def search_fingerprint(model: nn.Module, space: SearchSpaceBase, strategy: StrategyConfig, rows: Any,
                       seed: int) -> dict[str, str]:
    """The four parts; a space that retrains has the model's structure and a ``seed`` part instead.

    Its candidates start from fresh weights that the search's seed draws, so another ``--seed`` is
    another search, and the refusal says so rather than "the model differs".
    """
    parts = {"model": model_digest(model), "space": _digest(space.identity()),
             "objectives": objectives_digest(strategy), "data": rows_digest(rows)}
    if type(space).retrains:
        parts["model"] = structure_digest(model)
        parts["seed"] = _digest(str(seed))
    return parts
