"""Trials in batches (``[search.strategy.setup] batch_size``): the one-at-a-time search's results, faster.

A seeded random or grid sampler draws the same points whether trials are asked one at a time or
in batches, so the whole ``log.json`` (timings aside) and ``best.json`` must be the same; TPE
draws other points in batches, and each of its trials must carry its point's one-at-a-time metrics.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from search_tables import search_table

from chop.errors import ConfigError
from chop.search import parse_search_config, run_search
from chop.search.config import DEFAULT_BATCH_SIZE
from chop.search.runners import Runners
from chop.search.space import MixedPrecisionSpace
from chop.search.stacked import StackedScorer
from chop.search.strategy import Search
from chop.tools.runtime import configure_threads
from chop.workflows.transform import dummy_input, graph_with_metadata

TIME_FIELDS = ("datetime_start", "datetime_complete", "duration")
SEED = {"name": ["integer"], "data_in_width": [4, 8], "weight_width": [2, 4, 8], "bias_width": [4, 8],
        "weight_frac_width": ["NA", 3]}  # frac 3 with width 2 is refused: some trials are PRUNED


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    configure_threads()


def _run(model, splits, table: dict, save_dir: Path):
    return run_search(model, parse_search_config(table, "t.toml"), splits, save_dir, seed=5, source="t.toml")


def _without_times(path: Path) -> dict:
    return {k: {f: v for f, v in e.items() if f not in TIME_FIELDS} for k, e in json.loads(path.read_text()).items()}


def _table(sampler: str, batch_size: int, n_trials: int, **setup) -> dict:
    return search_table(seeds={"default": {"name": ["NA"]}, "linear": SEED},
                        setup={"sampler": sampler, "n_trials": n_trials, "batch_size": batch_size, **setup})


@pytest.mark.parametrize("setup", [{}, {"sum_scaled_metrics": True, "direction": "maximize"}],
                         ids=["pareto", "summed"])
def test_random_sampler_batches_give_the_one_at_a_time_log_and_best(toy_model, splits, tmp_path: Path,
                                                                   setup: dict) -> None:
    outcomes = {size: _run(toy_model, splits, _table("random", size, 45, **setup), tmp_path / str(size))
                for size in (1, 8, 64)}
    logs = {size: _without_times(o.log_path) for size, o in outcomes.items()}
    assert len(logs[1]) == 45 and logs[8] == logs[1] and logs[64] == logs[1]
    states = [e["state"] for e in logs[1].values()]
    assert "PRUNED" in states and "COMPLETE" in states
    best = {size: json.loads(o.best_path.read_text()) for size, o in outcomes.items()}
    assert best[8] == best[1] and best[64] == best[1]


def test_grid_batches_visit_each_point_once_and_stop(toy_model, splits, tmp_path: Path) -> None:
    """24 points in batches of 16: 16 then 8 (never more than the grid has left), each point once."""
    def table(batch_size: int) -> dict:
        return search_table(by="name", seeds={"seq_blocks_5": SEED},
                            setup={"sampler": "grid", "n_trials": 500, "batch_size": batch_size})

    one = _run(toy_model, splits, table(1), tmp_path / "one")
    batched = _run(toy_model, splits, table(16), tmp_path / "batched")
    points = [json.dumps(e["user_attrs_sampled_config"], sort_keys=True)
              for e in _without_times(batched.log_path).values()]
    assert len(points) == len(set(points)) == batched.space_size == 24
    by_point = {json.dumps(e["user_attrs_sampled_config"], sort_keys=True): e["user_attrs_software_metrics"]
                for e in _without_times(one.log_path).values()}
    assert {p: m for p, m in zip(points, (e["user_attrs_software_metrics"]
                                          for e in _without_times(batched.log_path).values()))} == by_point


def test_tpe_batches_carry_each_points_one_at_a_time_metrics(toy_model, splits, tmp_path: Path) -> None:
    outcome = _run(toy_model, splits, _table("tpe", 16, 40), tmp_path)
    config = parse_search_config(_table("tpe", 1, 1), "t.toml")
    graph = graph_with_metadata(toy_model, dummy_input(toy_model, splits.x_train))
    search = Search(MixedPrecisionSpace(config.space, graph, "t.toml"),
                    Runners(config.strategy, splits, (16,)), config.strategy, seed=0)
    assert len(outcome.result.trials) == 40
    for trial in outcome.result.trials:
        measured = search.measure(trial.sampled_config)
        if trial.state == "PRUNED":
            assert trial.error == measured
        else:
            assert (trial.software_metrics, trial.hardware_metrics) == measured


def test_points_already_measured_are_not_scored_again(toy_model, splits, tmp_path: Path, monkeypatch) -> None:
    """Two points, 24 trials in batches of 5: the stacked scorer sees each point once."""
    scored: list[str] = []
    score = StackedScorer.score

    def counting(self, configs, fallback, graph_hardware):
        scored.extend(json.dumps(c, sort_keys=True) for c in configs)
        return score(self, configs, fallback, graph_hardware)

    monkeypatch.setattr(StackedScorer, "score", counting)
    seed = {"name": ["integer"], "data_in_width": [8], "weight_width": [2, 8], "bias_width": [8]}
    table = search_table(by="name", seeds={"seq_blocks_5": seed}, setup={"n_trials": 24, "sampler": "random",
                                                                          "batch_size": 5})
    outcome = _run(toy_model, splits, table, tmp_path)
    assert len(outcome.result.trials) == 24
    assert len(scored) == len(set(scored)) == 2


def test_settings_stacking_cannot_serve_are_scored_one_at_a_time_with_the_same_results(toy_model, splits,
                                                                                    tmp_path: Path) -> None:
    """eval_mode = false (batch norm on each chunk's statistics) is not stacked; batches still give the same log."""
    logs = []
    for size in (1, 8):
        table = _table("random", size, 12)
        table["strategy"]["eval_mode"] = False
        logs.append(_without_times(_run(toy_model, splits, table, tmp_path / str(size)).log_path))
    assert logs[0] == logs[1] and len(logs[0]) == 12


def test_batch_size_is_a_setup_key_with_a_default() -> None:
    assert parse_search_config(search_table(), "t.toml").strategy.batch_size == DEFAULT_BATCH_SIZE == 32
    assert parse_search_config(search_table(setup={"batch_size": 1}), "t.toml").strategy.batch_size == 1
    for bad in (0, 2.5, "8"):
        with pytest.raises(ConfigError) as error:
            parse_search_config(search_table(setup={"batch_size": bad}), "t.toml")
        assert str(error.value) == (f"t.toml: [search.strategy.setup] batch_size = {json.dumps(bad)}: "
                                    "expected an integer >= 1")
