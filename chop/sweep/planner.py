"""Group the runs of a sweep into vectorised programs the engine trains together.

Runs share one program when they share the architecture, the batch size and the epoch count
(max_steps included): the engine then stacks their parameters and steps them together, while
learning rates, weight decays and seeds stay per model. The optimiser type is part of the key
too: the engine's fast stacked path steps one optimiser kind per group (a mix would fall back to
its general path, many times slower), so an Adam-vs-SGD grid becomes one group per optimiser.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from chop.sweep.config import PlannedRun


@dataclass(frozen=True)
class GroupKey:
    model: str | None
    model_file: str | None
    load_name: str | None
    load_type: str | None
    batch_size: int
    max_epochs: int
    max_steps: int
    optimizer: str

    @staticmethod
    def of(run: PlannedRun) -> GroupKey:
        a = run.config.args
        return GroupKey(a.model, a.model_file, a.load_name, a.load_type, a.batch_size, a.max_epochs, a.max_steps,
                        a.training_optimizer)

    @property
    def architecture(self) -> str:
        return self.model_file or self.model or "?"

    def steps(self, train_rows: int) -> int:
        """Optimiser steps one model takes: epochs × batches per epoch, capped by max_steps.

        The engine skips a final batch of a single row (BatchNorm cannot train on it).
        """
        full, rest = divmod(train_rows, self.batch_size)
        batches = full + (rest > 1) if train_rows > 1 else 1
        total = self.max_epochs * batches
        return min(total, self.max_steps) if self.max_steps > 0 else total


@dataclass(frozen=True)
class Group:
    index: int
    key: GroupKey
    runs: tuple[PlannedRun, ...]

    @property
    def size(self) -> int:
        return len(self.runs)


def plan_groups(runs: Iterable[PlannedRun]) -> list[Group]:
    """Groups in order of first appearance; runs keep the sweep's order inside a group."""
    buckets: dict[GroupKey, list[PlannedRun]] = {}
    for run in runs:
        buckets.setdefault(GroupKey.of(run), []).append(run)
    return [Group(index, key, tuple(members)) for index, (key, members) in enumerate(buckets.items(), start=1)]


def format_plan(groups: list[Group], train_rows: int, done: set[tuple[int, int]]) -> str:
    """The plan as text: one line per group with its models, steps and what is already finished."""
    lines = [f"{'group':>5}  {'model':<12} {'optim':<5} {'batch':>6} {'epochs':>6} {'K':>4} {'steps/model':>11} "
             f"{'done':>5}  configurations"]
    for group in groups:
        key = group.key
        finished = sum(run.key in done for run in group.runs)
        configs = sorted({run.config.config_id for run in group.runs})
        lines.append(f"{group.index:>5}  {key.architecture:<12} {key.optimizer:<5} {key.batch_size:>6} {key.max_epochs:>6} "
                     f"{group.size:>4} {key.steps(train_rows):>11} {finished:>5}  {','.join(map(str, configs))}")
    total = sum(group.size for group in groups)
    remaining = total - sum(run.key in done for group in groups for run in group.runs)
    lines.append(f"{len(groups)} groups, {total} models ({remaining} to train), {train_rows} training rows")
    return "\n".join(lines)
