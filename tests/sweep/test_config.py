"""Sweep files: the smallest example, lab1, grid x runs, and every bad input named in issue 6."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chop.errors import ConfigError
from chop.sweep.config import GRID_KEYS, load_sweep, parse_sweep
from chop.sweep.planner import format_plan, plan_groups

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "sweeps"
SMALLEST = {"model": "jsc-tiny", "dataset": "jsc-pythia", "max_epochs": 2, "batch_size": 256, "repeats": 3,
            "grid": {"learning_rate": [1e-3, 1e-2]}}


def test_smallest_sweep_from_the_issue(tmp_path):
    path = tmp_path / "quick-lr.toml"
    path.write_text('model = "jsc-tiny"\ndataset = "jsc-pythia"\nmax_epochs = 2\nbatch_size = 256\nrepeats = 3\n'
                    "[grid]\nlearning_rate = [1e-3, 1e-2]\n")
    sweep = load_sweep(path)
    assert sweep.name == "quick-lr"
    assert sweep.swept_keys == ("learning_rate",)
    runs = sweep.runs()
    assert [(r.config.config_id, r.repeat, r.seed, r.config.args.learning_rate) for r in runs] == [
        (1, 0, 0, 1e-3), (1, 1, 1, 1e-3), (1, 2, 2, 1e-3), (2, 0, 0, 1e-2), (2, 1, 1, 1e-2), (2, 2, 2, 1e-2)]
    assert all(r.config.args.batch_size == 256 and r.config.args.max_epochs == 2 for r in runs)
    groups = plan_groups(runs)
    assert len(groups) == 1 and groups[0].size == 6


def test_seed_is_base_seed_plus_repeat():
    sweep = parse_sweep({**SMALLEST, "seed": 40}, "s.toml", "s")
    assert [r.seed for r in sweep.runs()] == [40, 41, 42, 40, 41, 42]


def test_lab1_reproduces_the_seed_study():
    sweep = load_sweep(CONFIGS / "lab1.toml")
    table = [(c.label, c.args.max_epochs, c.args.learning_rate, c.args.batch_size) for c in sweep.configurations]
    assert table == [
        ("model1", 10, 1e-5, 256), ("model2", 50, 1e-5, 256), ("model3", 100, 1e-5, 256),
        ("model4", 10, 1e-5, 16), ("model5", 10, 1e-5, 32), ("model6", 10, 1e-5, 64), ("model7", 10, 1e-5, 128),
        ("model8", 10, 1e-5, 512), ("model9", 10, 1e-6, 256), ("model10", 10, 1e-4, 256),
        ("model11", 10, 1e-3, 256), ("model12", 10, 1e-2, 256)]
    assert sweep.repeats == 10 and len(sweep.runs()) == 120
    groups = plan_groups(sweep.runs())
    # (batch, epochs): 256/10 holds models 1, 9-12; every other configuration is a group of its own.
    assert [(g.key.batch_size, g.key.max_epochs, g.size) for g in groups] == [
        (256, 10, 50), (256, 50, 10), (256, 100, 10), (16, 10, 10), (32, 10, 10), (64, 10, 10),
        (128, 10, 10), (512, 10, 10)]


def test_quick_variant_parses():
    sweep = load_sweep(CONFIGS / "lab1-quick.toml")
    assert len(sweep.configurations) == 6 and sweep.repeats == 3
    assert [g.size for g in plan_groups(sweep.runs())] == [9, 9]


def test_plan_counts_steps_like_the_engine():
    sweep = parse_sweep({**SMALLEST, "grid": {"batch_size": [100, 7]}}, "s.toml", "s")
    groups = plan_groups(sweep.runs())
    # 1001 rows: batch 100 -> 10 full batches + a final single row, which the engine skips.
    assert [g.key.steps(1001) for g in groups] == [2 * 10, 2 * 143]
    text = format_plan(groups, 1001, done={(1, 0)})
    assert "2 groups, 6 models (5 to train), 1001 training rows" in text


def test_grid_times_runs():
    raw = {"model": "jsc-tiny", "dataset": "jsc", "repeats": 2,
           "runs": [{"label": "short", "max_epochs": 1}, {"label": "long", "max_epochs": 3}],
           "grid": {"learning_rate": [1e-3, 1e-2], "training_optimizer": ["adam", "SGD"]}}
    sweep = parse_sweep(raw, "s.toml", "s")
    assert sweep.swept_keys == ("max_epochs", "learning_rate", "training_optimizer")
    got = [(c.args.max_epochs, c.args.learning_rate, c.args.training_optimizer) for c in sweep.configurations]
    assert got == [(e, lr, o) for e in (1, 3) for lr in (1e-3, 1e-2) for o in ("adam", "sgd")]
    assert sweep.configurations[0].label == "short learning_rate=0.001, training_optimizer=adam"
    # One group per (epochs, optimiser): the engine's fast path steps one optimiser kind at a time.
    assert [(g.key.max_epochs, g.key.optimizer, g.size) for g in plan_groups(sweep.runs())] == [
        (1, "adam", 4), (1, "sgd", 4), (3, "adam", 4), (3, "sgd", 4)]


@settings(max_examples=40, deadline=None)
@given(grid=st.dictionaries(st.sampled_from(GRID_KEYS[:3]), st.integers(1, 4), min_size=1),
       repeats=st.integers(1, 5), seed=st.integers(0, 1000))
def test_runs_are_the_grid_product_times_repeats(grid, repeats, seed):
    values = {"batch_size": [8, 16, 32, 64], "max_epochs": [1, 2, 3, 4], "learning_rate": [1e-4, 1e-3, 1e-2, 0.1]}
    lists = {key: values[key][:count] for key, count in grid.items()}
    sweep = parse_sweep({"model": "jsc-tiny", "dataset": "jsc", "seed": seed, "repeats": repeats, "grid": lists},
                        "s.toml", "s")
    runs = sweep.runs()
    expected = 1
    for count in grid.values():
        expected *= count
    assert len(runs) == expected * repeats
    seen = {(tuple(getattr(r.config.args, k) for k in lists), r.seed) for r in runs}
    assert seen == {(point, seed + rep) for point in itertools.product(*lists.values()) for rep in range(repeats)}
    groups = plan_groups(runs)
    assert sum(g.size for g in groups) == len(runs)
    for group in groups:
        assert len({(r.config.args.batch_size, r.config.args.max_epochs) for r in group.runs}) == 1


@pytest.mark.parametrize(("change", "needle"), [
    ({"grid": {"learning_rte": [1e-3]}}, "unknown grid key `learning_rte` (did you mean 'learning_rate'?)"),
    ({"grid": {}}, "[grid] is empty"),
    ({"grid": {"learning_rate": []}}, "grid.learning_rate must be a non-empty list"),
    ({"grid": {"batch_size": [16, 2.5]}}, "`batch_size` must be an integer, got 2.5"),
    ({"grid": {"learning_rate": [1e-3, 1e-3]}}, "lists a value twice"),
    ({"grid": {"learning_rate": [-1.0]}}, "learning_rate must be a positive finite number, got -1.0"),
    ({"repeats": 0}, "`repeats` must be an integer >= 1, got 0"),
    ({"repeats": "3"}, "`repeats` must be an integer >= 1, got '3'"),
    ({"repeat": 3}, "unknown key `repeat` (did you mean 'repeats'?)"),
    ({"project": "x"}, "`project` is not allowed in a sweep file: a sweep writes to {project_dir}/{name}/"),
    ({"grid": {"training_optimizer": ["adam", "lion"]}}, "training_optimizer 'lion' is not one of adam, adamw, sgd"),
    ({"runs": [{"dataset": "jsc"}]}, "[[runs]] #1: `dataset` must be the same for the whole sweep"),
    ({"runs": [{"max_epoch": 3}]}, "[[runs]] #1: unknown key `max_epoch` (did you mean 'max_epochs'?)"),
    ({"runs": [{"label": "a", "max_epochs": 3}, {"label": "b", "max_epochs": 3}], "grid": {"batch_size": [8]}},
     "trains exactly like 'a batch_size=8'"),
    ({"name": "a/b"}, "`name` must be a plain directory name"),
])
def test_bad_sweep_files_are_named(change, needle):
    raw = {**SMALLEST, **change}
    with pytest.raises(ConfigError) as error:
        parse_sweep(raw, "bad.toml", "bad")
    assert needle in str(error.value)
    assert str(error.value).startswith("bad.toml")
    assert "\n" not in str(error.value)


def test_models_may_come_from_runs_but_not_from_nowhere():
    raw = {"dataset": "jsc", "runs": [{"model": "jsc-tiny"}, {"model": "jsc-toy"}]}
    sweep = parse_sweep(raw, "s.toml", "s")
    assert [g.key.model for g in plan_groups(sweep.runs())] == ["jsc-tiny", "jsc-toy"]
    with pytest.raises(ConfigError, match=r"s.toml configuration 2: no model"):
        parse_sweep({"dataset": "jsc", "runs": [{"model": "jsc-tiny"}, {"max_epochs": 3}]}, "s.toml", "s")


def test_nothing_to_sweep():
    raw = {k: v for k, v in SMALLEST.items() if k != "grid"}
    with pytest.raises(ConfigError, match="nothing to sweep"):
        parse_sweep(raw, "bad.toml", "bad")
