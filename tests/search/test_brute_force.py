"""Brute force (lab 3 Q3): `[search.strategy] name = "brute_force"` or `sampler = "brute_force"`, every point once."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from search_tables import search_table

from chop.search import parse_search_config, run_search
from chop.search.space import MixedPrecisionSpace
from chop.workflows.transform import dummy_input, graph_with_metadata

# jsc-toy's last linear layer: 2 x 3 x 2 = 12 points
SEED = {"name": ["integer"], "data_in_width": [4, 8], "weight_width": [2, 4, 8], "bias_width": [4, 8]}


def _table(spelling: str, n_trials: int) -> dict:
    table = search_table(by="name", seeds={"seq_blocks_5": SEED},
                         setup={"n_trials": n_trials, "sampler": "brute_force" if spelling == "sampler" else "tpe"})
    if spelling == "strategy":
        table["strategy"]["name"] = "brute_force"
    return table


def _key(config: dict) -> str:
    return json.dumps(config, sort_keys=True)


@pytest.mark.parametrize("spelling", ["strategy", "sampler"])
def test_brute_force_visits_each_point_once_and_stops_at_the_space_size(toy_model, splits, tmp_path: Path,
                                                                       spelling: str) -> None:
    config = parse_search_config(_table(spelling, 50), "t.toml")
    outcome = run_search(toy_model, config, splits, tmp_path, seed=0)
    visited = [_key(t.sampled_config) for t in outcome.result.trials]
    assert outcome.space_size == 12 and len(visited) == 12  # 50 asked, the space has 12
    space = MixedPrecisionSpace(config.space, graph_with_metadata(toy_model, dummy_input(toy_model, splits.x_train)),
                                "t.toml")
    assert Counter(visited) == Counter(_key(space.pass_config(point)) for point in space.points())
    assert {t.state for t in outcome.result.trials} == {"COMPLETE"}


def test_fewer_trials_than_points_visit_distinct_points(toy_model, splits, tmp_path: Path) -> None:
    outcome = run_search(toy_model, parse_search_config(_table("strategy", 7), "t.toml"), splits, tmp_path, seed=0)
    visited = [_key(t.sampled_config) for t in outcome.result.trials]
    assert len(visited) == len(set(visited)) == 7


def test_brute_force_in_a_stored_study_covers_the_space_across_a_resume(toy_model, splits, tmp_path: Path) -> None:
    """5 trials, then a rerun asking 50: the study ends with the 12 points, each once."""
    url = f"sqlite:///{tmp_path / 'study.sqlite'}"
    first = run_search(toy_model, parse_search_config(_table("strategy", 5), "t.toml"), splits, tmp_path / "a",
                       seed=0, storage=url)
    second = run_search(toy_model, parse_search_config(_table("strategy", 50), "t.toml"), splits, tmp_path / "b",
                        seed=0, storage=url)
    assert len(first.result.trials) == 5 and second.result.resumed == 5
    visited = [_key(t.sampled_config) for t in second.result.trials]
    assert len(visited) == len(set(visited)) == 12
    assert [t.number for t in second.result.trials[:5]] == [t.number for t in first.result.trials]


def test_a_sampler_named_with_brute_force_strategy_is_ignored_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    config = parse_search_config(_table("strategy", 5), "t.toml")  # the table says sampler = "tpe"
    assert config.strategy.sampler == "brute_force"
    assert caplog.messages == ['t.toml: [search.strategy.setup] sampler = "tpe" is ignored: [search.strategy] name = '
                               '"brute_force" visits every point once']
