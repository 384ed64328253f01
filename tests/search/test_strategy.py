"""The optuna strategy: grid coverage, reproducibility, best.json vs log.json, the Pareto set, skipped points."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from search_tables import search_table

from chop.search import parse_search_config, run_search
from chop.search.outputs import best_json, log_json
from chop.search.space import MixedPrecisionSpace

TIME_FIELDS = ("datetime_start", "datetime_complete", "duration")
SMALL_SEED = {"name": ["integer"], "data_in_width": [4, 8], "weight_width": [2, 4, 8], "bias_width": [8]}


def _run(model, splits, table, tmp_path: Path, seed: int = 0, on_trial=None):
    return run_search(model, parse_search_config(table, "t.toml"), splits, tmp_path, seed=seed, source="t.toml",
                      on_trial=on_trial)


def _key(config: dict) -> str:
    return json.dumps(config, sort_keys=True)


def test_grid_visits_every_combination_exactly_once(toy_model, splits, tmp_path: Path) -> None:
    table = search_table(by="name", seeds={"seq_blocks_5": SMALL_SEED}, setup={"sampler": "grid", "n_trials": 100})
    outcome = _run(toy_model, splits, table, tmp_path)
    logged = [entry["user_attrs_sampled_config"] for entry in json.loads(outcome.log_path.read_text()).values()]
    assert len(logged) == outcome.space_size == 6  # stops when the grid is exhausted, before n_trials
    from chop.workflows.transform import dummy_input, graph_with_metadata

    space = MixedPrecisionSpace(parse_search_config(table, "t.toml").space,
                                graph_with_metadata(toy_model, dummy_input(toy_model, splits.x_train)), "t.toml")
    assert sorted(map(_key, logged)) == sorted(_key(space.pass_config(p)) for p in space.points())
    widths = {(c["seq_blocks_5"]["config"]["data_in_width"], c["seq_blocks_5"]["config"]["weight_width"])
              for c in logged}
    assert widths == {(d, w) for d in (4, 8) for w in (2, 4, 8)}


def _trials_without_times(path: Path) -> list[dict]:
    return [{k: v for k, v in entry.items() if k not in TIME_FIELDS} for entry in json.loads(path.read_text()).values()]


def test_same_seed_same_trials_and_best_json_is_the_best_of_log_json(toy_model, splits, tmp_path: Path) -> None:
    table = search_table(setup={"n_trials": 14, "sum_scaled_metrics": True, "direction": "maximize"},
                         metrics={"accuracy": {"scale": 1.0}, "average_bitwidth": {"scale": -0.01}})
    first = _run(toy_model, splits, table, tmp_path / "a", seed=3)
    second = _run(toy_model, splits, table, tmp_path / "b", seed=3)
    other = _run(toy_model, splits, table, tmp_path / "c", seed=4)
    trials = _trials_without_times(first.log_path)
    assert len(trials) == 14 and trials == _trials_without_times(second.log_path)
    assert trials != _trials_without_times(other.log_path)
    # single objective: value = sum of scaled metrics; best.json is the trial with the largest one
    for entry in trials:
        scaled = entry["user_attrs_scaled_metrics"]
        assert scaled["accuracy"] == entry["user_attrs_software_metrics"]["accuracy"]
        bitwidth = entry["user_attrs_hardware_metrics"]["average_bitwidth"]
        assert scaled["average_bitwidth"] == pytest.approx(-0.01 * bitwidth)
        assert entry["value"] == pytest.approx(scaled["accuracy"] + scaled["average_bitwidth"])
    best = json.loads(first.best_path.read_text())
    assert list(best) == ["0"]
    top = max(entry["value"] for entry in trials)
    assert best["0"]["value"] == top
    assert best["0"]["number"] in {entry["number"] for entry in trials if entry["value"] == top}
    assert best["0"]["sampled_config"] == trials[best["0"]["number"]]["user_attrs_sampled_config"]


def _dominates(a: list[float], b: list[float], directions: list[str]) -> bool:
    better = [x > y if d == "maximize" else x < y for x, y, d in zip(a, b, directions)]
    no_worse = [x >= y if d == "maximize" else x <= y for x, y, d in zip(a, b, directions)]
    return all(no_worse) and any(better)


@pytest.mark.parametrize("sampler", ["random", "nsgaii"])
def test_multi_objective_best_json_is_the_pareto_set(toy_model, splits, tmp_path: Path, sampler: str) -> None:
    table = search_table(setup={"n_trials": 24, "sampler": sampler},
                         metrics={"accuracy": {"scale": 1.0, "direction": "maximize"},
                                  "average_bitwidth": {"scale": 0.2, "direction": "minimize"},
                                  "loss": {"scale": 1.0, "direction": "minimize"}})
    outcome = _run(toy_model, splits, table, tmp_path)
    log = json.loads(outcome.log_path.read_text())
    directions = ["maximize", "minimize", "minimize"]  # sorted metric names: accuracy, average_bitwidth, loss
    values = {e["number"]: [e["values_0"], e["values_1"], e["values_2"]] for e in log.values()}
    for entry in log.values():
        scaled = entry["user_attrs_scaled_metrics"]
        assert values[entry["number"]] == [scaled["accuracy"], scaled["average_bitwidth"], scaled["loss"]]
    pareto = {n for n, v in values.items() if not any(_dominates(w, v, directions) for w in values.values())}
    best = json.loads(outcome.best_path.read_text())
    assert {row["number"] for row in best.values()} == pareto
    assert all(row["value"] == values[row["number"]] for row in best.values())


@pytest.mark.parametrize("sampler", ["tpe", "nsgaiii", "qmc"])
def test_every_sampler_runs_the_trials_asked_for(toy_model, splits, tmp_path: Path, sampler: str) -> None:
    outcome = _run(toy_model, splits, search_table(setup={"n_trials": 4, "sampler": sampler}), tmp_path)
    assert [t.state for t in outcome.result.trials] == ["COMPLETE"] * 4


def test_every_accepted_sampler_name_has_an_optuna_sampler() -> None:
    from chop.search.config import SAMPLERS
    from chop.search.strategy import SAMPLER_CLASSES, make_sampler

    assert set(SAMPLERS) == set(SAMPLER_CLASSES)
    assert all(isinstance(make_sampler(name, 0), SAMPLER_CLASSES[name]) for name in SAMPLERS)


def test_a_combination_no_quantiser_accepts_is_skipped_with_its_reason(toy_model, splits, tmp_path: Path) -> None:
    """Frac width 3 suits width 8, not width 2: that one trial is PRUNED with the reason; the search goes on."""
    seed = dict(SMALL_SEED, data_in_width=[8], weight_width=[2, 8], weight_frac_width=[1, 3])
    table = search_table(by="name", seeds={"seq_blocks_2": seed}, setup={"sampler": "grid", "n_trials": 10},
                         metrics={"accuracy": {"scale": 1.0, "direction": "maximize"}})
    outcome = _run(toy_model, splits, table, tmp_path)
    log = {}
    for entry in json.loads(outcome.log_path.read_text()).values():
        config = entry["user_attrs_sampled_config"]["seq_blocks_2"]["config"]
        log[(config["weight_width"], config["weight_frac_width"])] = entry
    assert sorted(log) == [(2, 1), (2, 3), (8, 1), (8, 3)]
    assert log[(2, 3)]["state"] == "PRUNED" and log[(2, 3)]["value"] is None
    assert log[(2, 3)]["user_attrs_error"] == "node seq_blocks_2 (linear): weight_frac_width 3 is larger than width 2"
    complete = [e for key, e in log.items() if key != (2, 3)]
    assert all(e["state"] == "COMPLETE" and "user_attrs_error" not in e for e in complete)
    [best] = json.loads(outcome.best_path.read_text()).values()
    assert best["value"] == max(e["value"] for e in complete)


def test_an_interrupted_search_leaves_complete_readable_files(toy_model, splits, tmp_path: Path) -> None:
    def stop_after_three(result) -> None:
        if len(result.trials) == 3:
            raise KeyboardInterrupt

    outcome = _run(toy_model, splits, search_table(setup={"n_trials": 50}), tmp_path, on_trial=stop_after_three)
    assert outcome.result.interrupted
    log = json.loads(outcome.log_path.read_text())
    assert [e["state"] for e in log.values()] == ["COMPLETE"] * 3
    assert log == json.loads(json.dumps(log_json(outcome.result)))
    assert json.loads(outcome.best_path.read_text()) == json.loads(json.dumps(best_json(outcome.result)))


def test_a_point_sampled_again_reuses_its_measurement(toy_model, splits, tmp_path: Path, monkeypatch) -> None:
    """Two points, eight TPE trials: each point is quantised once, and its repeats report the same metrics."""
    import chop.search.space as space

    calls = []
    quantize = space.quantize_transform_pass
    monkeypatch.setattr(space, "quantize_transform_pass", lambda graph, config: calls.append(1) or quantize(graph, config))
    seed = dict(SMALL_SEED, data_in_width=[8], weight_width=[2, 8])
    table = search_table(by="name", seeds={"seq_blocks_5": seed}, setup={"n_trials": 8, "sampler": "tpe", "batch_size": 1})
    outcome = _run(toy_model, splits, table, tmp_path)
    by_point: dict[str, set[str]] = {}
    for trial in outcome.result.trials:
        metrics = json.dumps([trial.software_metrics, trial.hardware_metrics], sort_keys=True)
        by_point.setdefault(_key(trial.sampled_config), set()).add(metrics)
    assert len(outcome.result.trials) == 8 and len(by_point) == len(calls) <= 2
    assert all(len(metrics) == 1 for metrics in by_point.values())


def test_ctrl_c_inside_optunas_bookkeeping_stops_after_that_trial(toy_model, splits, tmp_path: Path,
                                                                  monkeypatch) -> None:
    """The race behind a `ch search` that exited 1 on Ctrl-C: a SIGINT delivered while optuna records a trial.

    Raised there, ``KeyboardInterrupt`` left optuna's ``finally`` without ``updated_state`` and came out
    as an ``UnboundLocalError``; now the signal only asks the search to stop after the trial.
    """
    import optuna.study._optimize as optimize

    tell = optimize._tell_with_warning
    calls = []

    def tell_with_ctrl_c(**kwargs):
        calls.append(1)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGINT)  # delivered at once, inside this frame
        return tell(**kwargs)

    monkeypatch.setattr(optimize, "_tell_with_warning", tell_with_ctrl_c)
    outcome = _run(toy_model, splits, search_table(setup={"n_trials": 50, "sampler": "random", "batch_size": 1}), tmp_path)
    assert outcome.result.interrupted and len(calls) == 3
    assert [e["state"] for e in json.loads(outcome.log_path.read_text()).values()] == ["COMPLETE"] * 3
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is put back


def test_two_processes_give_the_same_log(tmp_path: Path) -> None:
    """Two `ch search` processes (different hash seeds) give identical log.json, timings aside.

    Without --load the model is freshly initialised, and that initialisation was not seeded before.
    """
    config = Path(__file__).parents[2] / "configs" / "search" / "jsc_tiny_mixed_precision.toml"
    logs = []
    for run, hash_seed in (("a", "1"), ("b", "2")):
        subprocess.run([sys.executable, "-m", "chop.cli", "search", "--config", str(config), "--project-dir",
                        str(tmp_path), "--project", run, "--json"], check=True, capture_output=True,
                       env={**os.environ, "PYTHONHASHSEED": hash_seed})
        log = json.loads((tmp_path / run / "software" / "search_ckpts" / "log.json").read_text())
        logs.append({key: {k: v for k, v in entry.items() if k not in TIME_FIELDS} for key, entry in log.items()})
    assert len(logs[0]) == 20 and logs[0] == logs[1]
