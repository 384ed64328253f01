"""Parsing ``[search]``: MASE's lab TOML as written, and a one-line error naming the key for each mistake."""

from __future__ import annotations

import copy
import sys
from typing import Any

import pytest
from search_tables import MASE_LAB_SEARCH, search_table

from chop.errors import ConfigError
from chop.search.config import parse_search_config

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def test_mase_lab_search_table_parses_to_its_values() -> None:
    config = parse_search_config(tomllib.loads(MASE_LAB_SEARCH)["search"], "lab3.toml")
    space, strategy = config.space, config.strategy
    assert (space.name, space.by) == ("graph/quantize/mixed_precision_ptq", "name")
    assert [s.key for s in space.seeds] == ["default", "linear", "seq_blocks_2"]
    assert dict(space.seed("default").choices) == {"name": (None,)}
    assert dict(space.seed("seq_blocks_2").choices) == {
        "name": ("integer",), "data_in_width": (4, 8), "data_in_frac_width": (None,), "weight_width": (2, 4, 8),
        "weight_frac_width": (None,), "bias_width": (2, 4, 8), "bias_frac_width": (None,)}
    assert (strategy.sampler, strategy.n_trials, strategy.timeout, strategy.sum_scaled_metrics) == ("tpe", 5, 20000.0,
                                                                                                     False)
    assert strategy.metric_names == ("accuracy", "average_bitwidth")
    assert [m.scale for m in strategy.metrics] == [1.0, 0.2]
    assert strategy.directions == ("maximize", "minimize")
    assert (strategy.evaluation.num_samples, strategy.evaluation.split) == (512, "validation")
    assert strategy.bitwidth.compare_to == 32.0 and strategy.eval_mode is True


def test_single_objective_sorted_metrics_and_uppercase_sampler() -> None:
    """MASE lower-cases the sampler ("TPE" in its LLM example) and sorts the metric names."""
    table = search_table(setup={"sampler": "TPE", "sum_scaled_metrics": True, "direction": "maximize"},
                         metrics={"loss": {"scale": -1.0}, "accuracy": {"scale": 2.0}})
    strategy = parse_search_config(table, "x.toml").strategy
    assert strategy.sampler == "tpe"
    assert strategy.metric_names == ("accuracy", "loss") and strategy.directions == ("maximize",)


def _edit(table: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """``path`` like ``strategy.setup.n_trials``; value ``...`` deletes the key."""
    table = copy.deepcopy(table)
    *parents, last = path.split(".")
    node = table
    for key in parents:
        node = node[key]
    if value is ...:
        del node[last]
    else:
        node[last] = value
    return table


@pytest.mark.parametrize(("path", "value", "message"), [
    ("search_space.name", "graph/quantize/mixed_precision",
     '[search.search_space] name = "graph/quantize/mixed_precision": expected one of '
     "graph/quantize/mixed_precision_ptq, graph/architecture/channel_multiplier, graph/architecture_quantize, "
     "or FILE.py:Class (a class of your own) "
     "(did you mean 'graph/quantize/mixed_precision_ptq'?)"),
    ("search_space.setup.by", "types",
     "[search.search_space.setup] by = \"types\": expected one of name, type (did you mean 'type'?)"),
    ("search_space.seed.linear.config.weight_width", [],
     "[search.search_space.seed.linear.config] weight_width = []: expected a non-empty list of choices"),
    ("search_space.seed.linear.config.weight_width", 8,
     "[search.search_space.seed.linear.config] weight_width = 8: expected a non-empty list of choices"),
    ("search_space.seed.linear.config.name", ...,
     "[search.search_space.seed.linear.config] is missing `name`"),
    ("search_space.seed", {}, "[search.search_space.seed] has no seeds"),
    ("strategy.setup.n_trials", 0, "[search.strategy.setup] n_trials = 0: expected an integer >= 1"),
    ("strategy.setup.n_trials", ..., "[search.strategy.setup] is missing `n_trials`"),
    ("strategy.setup.sampler", "tpx",
     '[search.strategy.setup] sampler = "tpx": expected one of tpe, random, nsgaii, nsgaiii, qmc, grid, '
     "brute_force "
     "(did you mean 'tpe'?)"),
    ("strategy.setup.timeout", -5, "[search.strategy.setup] timeout = -5: expected a positive number"),
    ("strategy.setup.sum_scaled_metrics", True,
     "[search.strategy.setup] is missing `direction` (minimize or maximize), which sum_scaled_metrics = true needs"),
    ("strategy.setup.n_trail", 3, "[search.strategy.setup] unknown key `n_trail` (did you mean 'n_trials'?)"),
    ("strategy.metrics.acuracy", {"scale": 1.0, "direction": "maximize"},
     "[search.strategy.metrics] unknown metric `acuracy` (did you mean 'accuracy'?); "
     "known: loss, accuracy, average_bitwidth, memory_density"),
    ("strategy.metrics.accuracy.direction", "maximise",
     "[search.strategy.metrics.accuracy] direction = \"maximise\": expected one of minimize, maximize "
     "(did you mean 'maximize'?)"),
    ("strategy.metrics.accuracy.direction", ..., "[search.strategy.metrics.accuracy] is missing `direction`"),
    ("strategy.metrics", {}, "[search.strategy.metrics] has no metrics"),
    ("strategy.sw_runner", ...,
     "[search.strategy.metrics] metric `accuracy` needs [search.strategy.sw_runner.basic_evaluation]"),
    ("strategy.sw_runner.basic_evaluation.num_samples", 0,
     "[search.strategy.sw_runner.basic_evaluation] num_samples = 0: expected an integer >= 1"),
    ("strategy.sw_runner.basic_evaluation.data_loader", "valid_dataloader",
     "[search.strategy.sw_runner.basic_evaluation] data_loader = \"valid_dataloader\": expected one of "
     "val_dataloader, train_dataloader, test_dataloader (did you mean 'val_dataloader'?)"),
    ("strategy.hw_runner.average_bitwidth.compare_to", ...,
     "[search.strategy.hw_runner.average_bitwidth] is missing `compare_to`"),
    ("strategy.name", "rl",
     '[search.strategy] name = "rl": expected one of optuna, brute_force, or FILE.py:Class (a class of your own)'),
    ("strategy.sw_runner.basic_eval", {"num_samples": 8},
     "[search.strategy.sw_runner] unknown key `basic_eval` (did you mean 'basic_evaluation'?); known: basic_evaluation"),
    ("strategy.hw_runner.latency", {},
     "[search.strategy.hw_runner] unknown key `latency`; known: average_bitwidth"),
    ("strategy.setup.storage", "", '[search.strategy.setup] storage = "": expected an optuna storage URL'),
    ("strategy.setup.grace_period", 1, "[search.strategy.setup] grace_period = 1: expected an integer >= 2"),
    ("strategy.setup.direction", "up", None),
    ("strategy.sw_runners", {}, "[search.strategy] unknown key `sw_runners` (did you mean 'sw_runner'?)"),
    ("strategy", ..., "[search] is missing the table [search.strategy]"),
])
def test_each_mistake_is_one_line_naming_the_key(path: str, value: Any, message: str | None) -> None:
    table = _edit(search_table(), path, value)
    if message is None:  # a setup direction counts with sum_scaled_metrics = true
        table["strategy"]["setup"]["sum_scaled_metrics"] = True
        message = '[search.strategy.setup] direction = "up": expected one of minimize, maximize'
    with pytest.raises(ConfigError) as caught:
        parse_search_config(table, "bad.toml")
    text = str(caught.value)
    assert text.startswith("bad.toml: ") and message in text and "\n" not in text


def test_missing_search_table_names_the_file_and_what_is_needed() -> None:
    with pytest.raises(ConfigError, match=r"^lab\.toml: no \[search\] table; `ch search` needs "
                                          r"\[search\.search_space\] and \[search\.strategy\]"):
        parse_search_config(None, "lab.toml")


def test_mase_setup_keys_without_effect_are_accepted_with_one_warning_each() -> None:
    import logging

    class Seen(logging.Handler):  # at the module's own logger
        def __init__(self) -> None:
            super().__init__(logging.WARNING)
            self.messages: list[str] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.messages.append(record.getMessage())

    table = copy.deepcopy(search_table())
    table["strategy"]["setup"].update(n_jobs=1, model_parallel=False)
    logger, seen = logging.getLogger("chop.search.config"), Seen()
    logger.addHandler(seen)
    try:
        parse_search_config(table, "lab.toml")
    finally:
        logger.removeHandler(seen)
    assert seen.messages == ["lab.toml: [search.strategy.setup] `model_parallel` is accepted for MASE compatibility "
                             "and has no effect in machop (trials run one after another)"]
