"""MASE argument resolution: default < TOML < flag, "NA", unknown keys, TOML errors, no-effect warnings."""

from __future__ import annotations

import argparse
import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chop.config.mase_args import DEFAULTS, NO_EFFECT, add_mase_arguments, render_arguments_table, resolve_mase_args
from chop.errors import ConfigError


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config")
    add_mase_arguments(parser)
    return parser.parse_args(argv)


def _toml(tmp_path, text: str) -> str:
    path = tmp_path / "c.toml"
    path.write_text(text)
    return str(path)


def test_precedence_default_then_toml_then_flag(tmp_path):
    config = _toml(tmp_path, 'model = "jsc-toy"\nbatch_size = 32\nlearning_rate = 0.01\nmax_epochs = 7\n')
    resolved = resolve_mase_args(_parse(["--config", config, "--batch-size", "64"]))
    args = resolved.args
    assert (args.model, args.batch_size, args.learning_rate, args.max_epochs, args.seed) == ("jsc-toy", 64, 0.01, 7, 0)
    row = {r.name: r for r in resolved.rows}["batch_size"]
    assert (row.default, row.from_config, row.from_cli, row.effective) == (128, 32, 64, 64)


@given(default=st.just(None), toml=st.one_of(st.none(), st.integers(1, 10_000)), flag=st.one_of(st.none(), st.integers(1, 10_000)))
def test_precedence_property(tmp_path_factory, default, toml, flag):
    path = tmp_path_factory.mktemp("p") / "c.toml"
    path.write_text(f"batch_size = {toml}\n" if toml is not None else "")
    argv = ["--config", str(path)] + (["--batch-size", str(flag)] if flag is not None else [])
    expected = flag if flag is not None else toml if toml is not None else DEFAULTS["batch_size"]
    assert resolve_mase_args(_parse(argv)).args.batch_size == expected


def test_na_means_none(tmp_path):
    args = resolve_mase_args(_parse(["--config", _toml(tmp_path, 'load_name = "NA"\nproject = "NA"\n')])).args
    assert args.load_name is None and args.project is None


def test_unknown_key_is_named_with_the_closest_suggestion(tmp_path):
    with pytest.raises(ConfigError, match=r"c.toml: unknown key `learning_rat` \(did you mean 'learning_rate'\?\)"):
        resolve_mase_args(_parse(["--config", _toml(tmp_path, "learning_rat = 0.1\n")]))


def test_sections_for_other_actions_are_ignored(tmp_path):
    text = 'model = "jsc-tiny"\n[passes.quantize]\nby = "type"\n[search.strategy]\nname = "optuna"\n'
    resolved = resolve_mase_args(_parse(["--config", _toml(tmp_path, text)]))
    assert resolved.args.model == "jsc-tiny" and set(resolved.sections) == {"passes", "search"}


def test_toml_syntax_error_names_file_and_line(tmp_path):
    with pytest.raises(ConfigError, match=r"c.toml: TOML syntax error: .*line 3"):
        resolve_mase_args(_parse(["--config", _toml(tmp_path, "a = 1\nb = 2\nc = = 3\n")]))


def test_wrong_type_names_key_and_value(tmp_path):
    with pytest.raises(ConfigError, match=r"`batch_size` must be an integer, got 'many'"):
        resolve_mase_args(_parse(["--config", _toml(tmp_path, 'batch_size = "many"\n')]))


@pytest.mark.parametrize("argv, fragment", [
    (["--batch-size", "0"], "batch_size must be a positive integer, got 0"),
    (["--learning-rate", "0"], "learning_rate must be a positive finite number, got 0.0"),
    (["--learning-rate", "inf"], "learning_rate must be a positive finite number, got inf"),
    (["--learning-rate", "nan"], "learning_rate must be a positive finite number, got nan"),
    (["--weight-decay", "inf"], "weight_decay must be a finite number >= 0, got inf"),
    (["--max-steps", "0"], "max_steps must be a positive integer, or -1 for no limit, got 0"),
    (["--max-steps", "-2"], "max_steps must be a positive integer, or -1 for no limit, got -2"),
    (["--log-every-n-steps", "-1"], "log_every_n_steps must be >= 0"),
    (["--training-optimizer", "rmsprop"], "training_optimizer 'rmsprop'"),
    (["--accelerator", "tpu"], "accelerator 'tpu'"),
    (["--task", "lm"], "task 'lm'"),
])
def test_invalid_values_are_refused(argv, fragment):
    with pytest.raises(ConfigError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        resolve_mase_args(_parse(argv))


def test_aliases_are_normalised(tmp_path):
    args = resolve_mase_args(_parse(["--config", _toml(tmp_path, 'accelerator = "cuda"\ntask = "cls"\n'),
                                     "--training-optimizer", "AdamW"])).args
    assert (args.accelerator, args.task, args.training_optimizer) == ("gpu", "classification", "adamw")


def test_no_effect_keys_warn_once_each_and_do_not_fail(tmp_path, caplog):
    text = 'trainer_precision = "32"\nnum_workers = 4\nis_pretrained = false\n'
    with caplog.at_level(logging.WARNING, logger="chop.config.mase_args"):
        resolve_mase_args(_parse(["--config", _toml(tmp_path, text)]))
    warned = [r.getMessage() for r in caplog.records]
    assert any("`trainer_precision`" in m and "no effect" in m for m in warned)
    assert sum("`num_workers`" in m for m in warned) == 1
    assert not any("`is_pretrained`" in m for m in warned)  # set to its default: nothing to warn about
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="chop.config.mase_args"):
        resolve_mase_args(_parse(["--config", _toml(tmp_path, text), "--cpu=0"]))  # the labs' flag
    assert not any("`num_workers`" in r.getMessage() for r in caplog.records)
    assert {"trainer_precision", "num_workers", "is_pretrained"} <= NO_EFFECT


def test_every_mase_top_level_key_is_accepted(tmp_path):
    keys = ("task load_name load_type batch_size to_debug log_level report_to seed quant_config training_optimizer "
            "trainer_precision learning_rate weight_decay max_epochs max_steps accumulate_grad_batches "
            "log_every_n_steps num_workers num_devices num_nodes accelerator strategy is_to_auto_requeue github_ci "
            "disable_dataset_cache target num_targets is_pretrained max_token_len project_dir project model dataset").split()
    given = [key for key in keys if DEFAULTS[key] is not None]
    lines = [f"{key} = {_value(DEFAULTS[key])}" for key in given]
    resolved = resolve_mase_args(_parse(["--config", _toml(tmp_path, "\n".join(lines) + "\n")]))
    rows = {row.name: row for row in resolved.rows}
    assert {key: rows[key].from_config for key in given} == {key: DEFAULTS[key] for key in given}
    assert {key: getattr(resolved.args, key) for key in given} == {key: DEFAULTS[key] for key in given}


def _value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def test_arguments_table_has_the_mase_columns():
    resolved = resolve_mase_args(_parse(["--seed", "4"]))
    table = render_arguments_table(resolved.rows)
    assert [c.header for c in table.columns] == ["Name", "Default", "Config. File", "Manual Override", "Effective"]
    seed = [r for r in resolved.rows if r.name == "seed"][0]
    assert (seed.from_cli, seed.effective) == (4, 4)
