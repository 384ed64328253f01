"""Retraining an architecture search's candidates: one ensemble per architecture, same numbers either way."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
import torch
from torch import nn

from chop.dataset.splits import DatasetInfo, DatasetSplits
from chop.engine import GroupConfig, RunConfig, evaluate_models, train_ensemble
from chop.models import get_model
from chop.search.retrain import (Candidate, ResizedBuilder, TrainSettings, architecture, train_candidates)

BUILD = partial(get_model, "jsc-toy")
SETTINGS = TrainSettings(max_epochs=4, batch_size=32)


@pytest.fixture(scope="module")
def splits() -> DatasetSplits:
    """Five classes a linear model separates (one direction per class, the same in every split)."""
    rng = np.random.default_rng(0)
    directions = rng.normal(size=(5, 16))

    def part(rows: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, 5, rows)
        return (rng.normal(size=(rows, 16)) + 2 * directions[y]).astype(np.float32), y.astype(np.int64)

    return DatasetSplits(DatasetInfo("jsc"), *part(600), *part(300), *part(300))


def linear_widths(model: nn.Module) -> list[tuple[int, int]]:
    return [(m.in_features, m.out_features) for m in model.modules() if isinstance(m, nn.Linear)]


def test_an_architecture_key_drops_unit_factors_and_sorts() -> None:
    assert architecture({"seq_blocks_5": 2, "seq_blocks_2": 4, "seq_blocks_10": 1}) == (("seq_blocks_2", 4),
                                                                                      ("seq_blocks_5", 2))
    assert architecture({"seq_blocks_2": 1}) == ()


def test_the_resized_builder_gives_the_architecture_freshly_and_reproducibly() -> None:
    builder = ResizedBuilder(BUILD, architecture({"seq_blocks_2": 2, "seq_blocks_5": 4}))
    torch.manual_seed(3)
    first = builder()
    torch.manual_seed(3)
    second = builder()
    assert linear_widths(first) == [(16, 16), (16, 32), (32, 5)]
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), second.state_dict().values()))


def test_candidates_of_one_architecture_train_as_one_ensemble_and_match_separate_runs(splits: DatasetSplits) -> None:
    wide = architecture({"seq_blocks_2": 2})
    candidates = [Candidate(wide, 0, 1e-2), Candidate((), 1, 1e-2), Candidate(wide, 1, 3e-3), Candidate(wide, 0, 1e-2)]
    trained = train_candidates(BUILD, candidates, splits, SETTINGS)
    assert [t.candidate for t in trained] == candidates
    assert trained[0] is trained[3]  # a repeated candidate is trained once
    assert linear_widths(trained[0].model) == [(16, 16), (16, 8), (8, 5)]
    assert linear_widths(trained[1].model) == [(16, 8), (8, 8), (8, 5)]
    for t in trained[:3]:  # each alone, K = 1, through the same engine: the ensemble changes no number
        c = t.candidate
        alone = train_ensemble(ResizedBuilder(BUILD, c.architecture), splits, [RunConfig(c.seed, c.learning_rate)],
                               GroupConfig(batch_size=32, max_epochs=4), progress=False)
        (accuracy, loss), = evaluate_models(alone.models, splits.x_val, splits.y_val)
        assert t.accuracy == pytest.approx(accuracy, abs=1 / len(splits.y_val))
        assert t.loss == pytest.approx(loss, abs=1e-5)
    assert trained[0].accuracy > 0.5  # the synthetic classes are learnable in four epochs


def test_groups_in_worker_processes_give_the_same_results(splits: DatasetSplits) -> None:
    candidates = [Candidate(architecture({"seq_blocks_2": m}), 0, 1e-2) for m in (1, 2, 3)]
    here = train_candidates(BUILD, candidates, splits, SETTINGS, jobs=1)
    there = train_candidates(BUILD, candidates, splits, SETTINGS, jobs=2)
    assert [(t.accuracy, t.loss) for t in here] == [(t.accuracy, t.loss) for t in there]
