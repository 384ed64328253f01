"""Architecture search with retraining (lab 4) and the combined architecture × quantisation space.

Every number a trial reports is checked against training the same architecture directly with the
engine (same seed, same settings) and scoring it as ``basic_evaluation`` does.
"""

from __future__ import annotations

import json
import pickle
import sys
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from chop.cli import main
from chop.dataset import load_dataset
from chop.dataset.splits import DatasetSplits
from chop.errors import ConfigError
from chop.engine import GroupConfig, RunConfig, train_ensemble
from chop.ir.graph.mase_graph import MaseGraph
from chop.models import get_model, model_builder
from chop.passes.graph.transforms.quantize import quantize_transform_pass
from chop.search import parse_search_config, retrain, run_search
from chop.search.retrain import ResizedBuilder, architecture
from chop.search.runners import basic_evaluation, evaluation_rows
from chop.search.hardware_metrics import bitops, resource_estimate, synthesised_resources
from chop.search.stacked import StackedScorer
from chop.workflows.transform import dummy_input, graph_with_metadata

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

EXAMPLE = Path(__file__).parents[2] / "configs" / "search" / "jsc_three_linear_channel_multiplier.toml"
BUILD = partial(get_model, "jsc-three-linear")
EPOCHS, BATCH, LR = 1, 64, 1e-2

STRATEGY = f'''
[search.strategy]
name = "brute_force"
[search.strategy.setup]
n_trials = {{n_trials}}
batch_size = {{batch_size}}
[search.strategy.sw_runner.basic_train]
max_epochs = {EPOCHS}
batch_size = {BATCH}
learning_rate = {LR}
qat_epochs = {{qat_epochs}}
[search.strategy.sw_runner.basic_evaluation]
num_samples = 200
[search.strategy.hw_runner.average_bitwidth]
compare_to = 32
[search.strategy.metrics]
accuracy.scale = 1.0
accuracy.direction = "maximize"
'''
QUANTIZE = '''
[search.search_space.quantize.setup]
by = "type"
[search.search_space.quantize.seed.default.config]
name = ["NA"]
[search.search_space.quantize.seed.linear.config]
name = ["integer"]
data_in_width = [8]
data_in_frac_width = [4]
weight_width = [3, 8]
weight_frac_width = ["NA"]
bias_width = [8]
bias_frac_width = [4]
'''


def architecture_toml(seeds: str, n_trials: int = 20, batch_size: int = 32) -> str:
    return (f'[search.search_space]\nname = "graph/architecture/channel_multiplier"\n{seeds}'
            + STRATEGY.format(n_trials=n_trials, batch_size=batch_size, qat_epochs=0))


def combined_toml(seeds: str, n_trials: int, batch_size: int, qat_epochs: int = 0) -> str:
    seeds = seeds.replace("[search.search_space.seed", "[search.search_space.architecture.seed")
    return (f'[search.search_space]\nname = "graph/architecture_quantize"\n{seeds}{QUANTIZE}'
            + STRATEGY.format(n_trials=n_trials, batch_size=batch_size, qat_epochs=qat_epochs))


def search(text: str, splits: DatasetSplits, out: Path, build: Any = BUILD, jobs: int | None = None,
           seed: int = 0) -> list[Any]:
    config = parse_search_config(tomllib.loads(text)["search"], "arch.toml")
    torch.manual_seed(seed)
    outcome = run_search(build(), config, splits, out, seed=seed, source="arch.toml", build=build, jobs=jobs)
    return list(outcome.result.trials)


def trained_directly(build: Any, multipliers: dict[str, float], splits: DatasetSplits, seed: int,
                     epochs: int = EPOCHS, batch_size: int = BATCH) -> nn.Module:
    """The architecture trained alone by the engine, as the search's basic_train is to train it."""
    result = train_ensemble(ResizedBuilder(build, architecture(multipliers)), splits, [RunConfig(seed, LR)],
                            GroupConfig(batch_size=batch_size, max_epochs=epochs), progress=False)
    return result.models[0]


def scored(model: nn.Module, splits: DatasetSplits, num_samples: int = 200, split: str = "validation"
           ) -> dict[str, float]:
    return basic_evaluation(model, evaluation_rows(splits, split, num_samples, (16,)))


def widths(model: nn.Module) -> list[tuple[int, int]]:
    return [(m.in_features, m.out_features) for m in model.modules() if isinstance(m, nn.Linear)]


@pytest.fixture
def count_trainings(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, int]]:
    """Every engine run of basic_train's float training in this process: (architecture, models)."""
    calls: list[tuple[Any, int]] = []
    real = retrain.train_ensemble

    def counted(build: Any, data: Any, runs: Any, group: Any, **kwargs: Any) -> Any:
        calls.append((build.architecture, len(runs)))
        return real(build, data, runs, group, **kwargs)

    monkeypatch.setattr(retrain, "train_ensemble", counted)
    return calls


def cli(capsys: pytest.CaptureFixture, argv: list[str]) -> tuple[int, str, str]:
    """``ch ARGV`` in this process: (exit code, stdout, stderr)."""
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("ch: error:")]
    assert len(lines) == 1, err
    return lines[0]


def test_the_example_runs_lab4_q3_on_jsc_pythia_and_its_trials_equal_training_directly(
        capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    """``ch search --config`` of configs/search/: six architectures, 16-32-64-5 (Q3) and 16-32-32-5 (Q1) among them."""
    code, out, err = cli(capsys, ["search", "--config", str(EXAMPLE), "--project-dir", str(tmp_path), "--json"])
    assert code == 0, err
    log = json.loads(Path(json.loads(out)["log"]).read_text())
    trials = {json.dumps(t["user_attrs_sampled_config"]["channel_multiplier"], sort_keys=True):
              t["user_attrs_software_metrics"] for t in log.values()}
    assert len(log) == 6 and len(trials) == 6  # brute force: each architecture once
    data = load_dataset("jsc-pythia")
    for multipliers, layers in (({"seq_blocks_2": 2, "seq_blocks_4": 4}, [(16, 32), (32, 64), (64, 5)]),
                                ({"seq_blocks_2": 2, "seq_blocks_4": 2}, [(16, 32), (32, 32), (32, 5)])):
        model = trained_directly(BUILD, multipliers, data, seed=42, batch_size=512)
        assert widths(model) == layers
        assert trials[json.dumps(multipliers, sort_keys=True)] == scored(model, data, num_samples=8000)
    assert max(m["accuracy"] for m in trials.values()) > 0.6  # one epoch on jsc-pythia learns something


def test_brute_force_trains_each_architecture_once_and_a_uniform_seed_doubles_every_hidden_linear(
        splits: DatasetSplits, tmp_path: Path, count_trainings: list[tuple[Any, int]]) -> None:
    seeds = '''
[search.search_space.seed.default.config]
channel_multiplier = [1, 2]
[search.search_space.seed.seq_blocks_4.config]
channel_multiplier = [1, 2, 4]
'''
    trials = search(architecture_toml(seeds, batch_size=4), splits, tmp_path)
    points = [t.sampled_config["channel_multiplier"] for t in trials]
    assert sorted((p["seq_blocks_2"], p["seq_blocks_4"]) for p in points) == [(1, 1), (1, 2), (1, 4), (2, 1), (2, 2),
                                                                               (2, 4)]
    assert sorted(count_trainings) == sorted((architecture(p), 1) for p in points)  # one engine run each
    uniform = trials[points.index({"seq_blocks_2": 2, "seq_blocks_4": 2})]
    model = trained_directly(BUILD, {"seq_blocks_2": 2, "seq_blocks_4": 2}, splits, seed=0)
    assert widths(model) == [(16, 32), (32, 32), (32, 5)]
    assert uniform.software_metrics == scored(model, splits)
    assert uniform.hardware_metrics == {"average_bitwidth": 32.0, "memory_density": 1.0}


USER_MODEL = '''
from torch import nn

class TwoHidden(nn.Module):
    def __init__(self, info=None):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 5))

    def forward(self, x):
        return self.net(x)
'''


def test_jobs_two_gives_the_same_trials_as_jobs_one_for_a_model_of_the_users_file(splits: DatasetSplits,
                                                                                 tmp_path: Path) -> None:
    (tmp_path / "mine.py").write_text(USER_MODEL)
    build = model_builder(None, f"{tmp_path / 'mine.py'}:TwoHidden")
    torch.manual_seed(1)
    sent = pickle.loads(pickle.dumps(build))()  # as a worker process rebuilds it
    torch.manual_seed(1)
    assert all(torch.equal(a, b) for a, b in zip(sent.state_dict().values(), build().state_dict().values()))
    seeds = '''
[search.search_space.seed.default.config]
channel_multiplier = [1, 2, 3]
'''

    def measured(jobs: int) -> list[tuple[str, dict[str, float]]]:
        trials = search(architecture_toml(seeds), splits, tmp_path / f"jobs{jobs}", build=build, jobs=jobs)
        return [(json.dumps(t.sampled_config), t.software_metrics) for t in trials]

    one, two = measured(1), measured(2)
    assert one == two and len(one) == 3
    config = json.loads(one[2][0])["channel_multiplier"]
    assert one[2][1] == scored(trained_directly(build, config, splits, seed=0), splits)


def quantised_graph(model: nn.Module, splits: DatasetSplits, config: dict[str, Any]) -> Any:
    graph, _ = quantize_transform_pass(graph_with_metadata(model, dummy_input(model, splits.x_train)), config)
    return graph


ARCHITECTURES = '''
[search.search_space.seed.default.config]
channel_multiplier = [1, 2]
'''


def test_combined_ptq_metrics_equal_quantising_the_trained_candidate_directly(
        splits: DatasetSplits, tmp_path: Path, count_trainings: list[tuple[Any, int]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    stacked: list[int] = []
    real_score = StackedScorer.score

    def counted(scorer: StackedScorer, configs: Any, fallback: Any, graph_hardware: Any) -> Any:
        stacked.append(len(configs))
        return real_score(scorer, configs, fallback, graph_hardware)

    monkeypatch.setattr(StackedScorer, "score", counted)
    trials = search(combined_toml(ARCHITECTURES, n_trials=16, batch_size=3), splits, tmp_path)
    assert sum(stacked) == 16  # every candidate through the stacked PTQ scorer
    assert len(trials) == 16 and len({json.dumps(t.sampled_config) for t in trials}) == 16
    assert sorted(count_trainings) == [((), 1), ((("seq_blocks_2", 2), ("seq_blocks_4", 2)), 1)]  # once each
    models = {m: trained_directly(BUILD, {"seq_blocks_2": m, "seq_blocks_4": m}, splits, seed=0) for m in (1, 2)}
    for trial in trials:
        model = models[trial.sampled_config["channel_multiplier"]["seq_blocks_2"]]
        graph = quantised_graph(model, splits, trial.sampled_config["quantize"])
        assert trial.software_metrics == scored(graph.model, splits)
        widths_chosen = [trial.sampled_config["quantize"][n]["config"]["weight_width"] for n in
                         ("seq_blocks_2", "seq_blocks_4", "seq_blocks_6")]
        elements = [w.numel() for name, w in graph.model.named_parameters() if name.endswith("weight") and w.dim() == 2]
        average = sum(e * w for e, w in zip(elements, widths_chosen)) / sum(elements)
        assert trial.hardware_metrics["average_bitwidth"] == pytest.approx(average)
    losses = {t.software_metrics["loss"] for t in trials}
    assert len(losses) > 2  # 3-bit and 8-bit weights score differently
    count_trainings.clear()
    alone = search(combined_toml(ARCHITECTURES, n_trials=16, batch_size=1), splits, tmp_path / "alone")
    assert len(count_trainings) == 2  # one trial at a time: still each architecture trained once
    assert sorted((json.dumps(t.sampled_config), t.software_metrics["loss"]) for t in alone) == sorted(
        (json.dumps(t.sampled_config), t.software_metrics["loss"]) for t in trials)


def test_combined_stacked_candidates_get_the_estimate_and_bitops_of_their_own_graph(
        splits: DatasetSplits, tmp_path: Path) -> None:
    """Hardware runners that read a candidate's graph (LUT estimate, BitOPs) measure it on the stacked path too."""
    text = combined_toml(ARCHITECTURES, n_trials=4, batch_size=4).replace(
        "[search.strategy.metrics]", "[search.strategy.hw_runner.bitops]\n"
        "[search.strategy.hw_runner.resource_estimate]\n[search.strategy.metrics]") + (
        'luts.scale = 1.0\nluts.direction = "minimize"\n')
    text = text.replace('[search.search_space.quantize.seed.default.config]\nname = ["NA"]',  # hardware: all integer
                        '[search.search_space.quantize.seed.default.config]\nname = ["integer"]\n'
                        'data_in_width = [8]\ndata_in_frac_width = [4]\nweight_width = [8]\nweight_frac_width = [4]\n'
                        'bias_width = [8]\nbias_frac_width = [4]')
    trials = search(text, splits, tmp_path)
    assert len(trials) == 4 and all(t.state == "COMPLETE" for t in trials)
    models = {m: trained_directly(BUILD, {"seq_blocks_2": m, "seq_blocks_4": m}, splits, seed=0) for m in (1, 2)}
    for trial in trials:
        model = models[trial.sampled_config["channel_multiplier"]["seq_blocks_2"]]
        graph = quantised_graph(model, splits, trial.sampled_config["quantize"])
        expected = resource_estimate(graph) | bitops(graph)
        assert {k: trial.hardware_metrics[k] for k in expected} == expected
        assert trial.values[1] == expected["luts"]
    assert len({t.hardware_metrics["luts"] for t in trials}) > 1


HARDWARE_QUANTIZE = (  # every node integer, as the hardware flow needs
    '[search.search_space.quantize.seed.default.config]\nname = ["integer"]\ndata_in_width = [8]\n'
    'data_in_frac_width = [4]\nweight_width = [8]\nweight_frac_width = [4]\nbias_width = [8]\nbias_frac_width = [4]')


def hardware_toml(n_trials: int, qat_epochs: int = 0, runners: str = "") -> str:
    """The combined space, all integer, with the LUT estimate (and ``runners``) as the second objective."""
    text = combined_toml("[search.search_space.seed.default.config]\nchannel_multiplier = [1]\n", n_trials=n_trials,
                         batch_size=n_trials, qat_epochs=qat_epochs)
    text = text.replace('[search.search_space.quantize.seed.default.config]\nname = ["NA"]', HARDWARE_QUANTIZE)
    return text.replace("[search.strategy.metrics]", f"[search.strategy.hw_runner.resource_estimate]\n{runners}"
                        "[search.strategy.metrics]") + 'luts.scale = 1.0\nluts.direction = "minimize"\n'


def test_pareto_synthesis_of_a_retrained_space_synthesises_the_trained_candidates(splits: DatasetSplits,
                                                                                  tmp_path: Path) -> None:
    """Yosys measures the candidate whose accuracy was measured (trained, quantised), not an untrained rebuild."""
    trials = search(hardware_toml(2, runners="[search.strategy.hw_runner.synthesis]\npareto_only = true\n"),
                    splits, tmp_path)
    synthesised = [t for t in trials if "yosys_luts" in t.hardware_metrics]
    assert synthesised
    model = trained_directly(BUILD, {}, splits, seed=0)
    for trial in synthesised:
        graph = quantised_graph(model, splits, trial.sampled_config["quantize"])
        assert {k: trial.hardware_metrics[k] for k in ("yosys_luts", "yosys_ffs", "yosys_carry4")} == {
            k: v for k, v in synthesised_resources(graph).items() if k != "yosys_dsps"}


def test_qat_candidates_hardware_is_that_of_their_fine_tuned_weights(splits: DatasetSplits, tmp_path: Path) -> None:
    trials = search(hardware_toml(2, qat_epochs=1), splits, tmp_path)
    model = trained_directly(BUILD, {}, splits, seed=0)
    for trial in trials:
        quantised = quantised_graph(model, splits, trial.sampled_config["quantize"]).model
        tuned = train_ensemble(None, splits, [RunConfig(0, LR)], GroupConfig(batch_size=BATCH, max_epochs=1),
                               progress=False, initial_models=[quantised]).models[0]
        assert trial.software_metrics == scored(tuned, splits)
        assert trial.hardware_metrics["luts"] == resource_estimate(MaseGraph(tuned))["luts"]


def test_qat_fine_tunes_each_quantised_candidate_reproducibly(splits: DatasetSplits, tmp_path: Path) -> None:
    text = combined_toml(ARCHITECTURES, n_trials=4, batch_size=4, qat_epochs=1)
    first = search(text, splits, tmp_path / "first")
    again = search(text, splits, tmp_path / "again")
    assert [(t.sampled_config, t.software_metrics) for t in first] == [(t.sampled_config, t.software_metrics)
                                                                       for t in again]
    ptq = {json.dumps(t.sampled_config): t.software_metrics
           for t in search(combined_toml(ARCHITECTURES, n_trials=4, batch_size=4), splits, tmp_path / "ptq")}
    for trial in first:
        model = trained_directly(BUILD, trial.sampled_config["channel_multiplier"], splits, seed=0)
        quantised = quantised_graph(model, splits, trial.sampled_config["quantize"]).model
        tuned = train_ensemble(None, splits, [RunConfig(0, LR)], GroupConfig(batch_size=BATCH, max_epochs=1),
                               progress=False, initial_models=[quantised]).models[0]
        assert not all(torch.equal(a, b) for a, b in zip(quantised.state_dict().values(),
                                                         tuned.state_dict().values()))
        assert trial.software_metrics == scored(tuned, splits)
        assert trial.software_metrics["loss"] != ptq[json.dumps(trial.sampled_config)]["loss"]


BAD_SPACES = [
    ("[search.search_space.seed.default.config]\nchannel_multiplier = []\n",
     "arch.toml: [search.search_space.seed.default.config] channel_multiplier = []: expected a non-empty list of "
     "numbers > 0, e.g. [1, 2, 4]"),
    ("[search.search_space.seed.seq_blocks_2.config]\nchannel_multiplier = [2, 0]\n",
     "arch.toml: [search.search_space.seed.seq_blocks_2.config] channel_multiplier = [2, 0]: expected a non-empty "
     "list of numbers > 0, e.g. [1, 2, 4]"),
    ("[search.search_space.seed.seq_blocks_2.config]\nchannel_multiplier = [-1]\n",
     "arch.toml: [search.search_space.seed.seq_blocks_2.config] channel_multiplier = [-1]: expected a non-empty "
     "list of numbers > 0, e.g. [1, 2, 4]"),
    ('[search.search_space.seed.default.config]\nchannel_multiplier = [1, "two"]\n',
     'arch.toml: [search.search_space.seed.default.config] channel_multiplier = [1, "two"]: expected a non-empty '
     "list of numbers > 0, e.g. [1, 2, 4]"),
    ("[search.search_space.seed.default.config]\nchannel_multiplier = 2\n",
     "arch.toml: [search.search_space.seed.default.config] channel_multiplier = 2: expected a non-empty list of "
     "numbers > 0, e.g. [1, 2, 4]"),
    ("[search.search_space.seed.default.config]\nchannel_multipler = [2]\n",
     "arch.toml: [search.search_space.seed.default.config] unknown key `channel_multipler` (did you mean "
     "'channel_multiplier'?); known: channel_multiplier"),
    ('[search.search_space.setup]\nby = "type"\n[search.search_space.seed.default.config]\n'
     "channel_multiplier = [2]\n",
     'arch.toml: [search.search_space.setup] by = "type": expected one of name'),
]


@pytest.mark.parametrize(("seeds", "message"), BAD_SPACES)
def test_a_bad_multiplier_table_is_one_error_naming_its_key(seeds: str, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_search_config(tomllib.loads(architecture_toml(seeds))["search"], "arch.toml")
    assert str(error.value) == message


@pytest.mark.parametrize(("seed", "message"), [
    ("seq_blocks_6", "arch.toml: [search.search_space.seed.seq_blocks_6] seq_blocks_6 is the last linear: its outputs "
                     "are the classes and keep their number; hidden linears: seq_blocks_2, seq_blocks_4"),
    ("seq_blocks_3", "arch.toml: [search.search_space.seed.seq_blocks_3] names no hidden linear node of this model "
                     "(did you mean 'seq_blocks_4'?); hidden linears: seq_blocks_2, seq_blocks_4"),
])
def test_a_seed_must_name_a_hidden_linear(seed: str, message: str, splits: DatasetSplits, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        search(architecture_toml(f"[search.search_space.seed.{seed}.config]\nchannel_multiplier = [2]\n"), splits,
               tmp_path)
    assert str(error.value) == message


def test_the_training_runner_and_the_space_must_go_together() -> None:
    seeds = "[search.search_space.seed.default.config]\nchannel_multiplier = [2]\n"
    text = architecture_toml(seeds)
    no_train = text.replace("[search.strategy.sw_runner.basic_train]", "[unused]")
    no_eval = text.replace("[search.strategy.sw_runner.basic_evaluation]", "[unused]").replace(
        'accuracy.scale = 1.0\naccuracy.direction = "maximize"', 'average_bitwidth.direction = "minimize"')
    ptq = text.replace('name = "graph/architecture/channel_multiplier"\n' + seeds,
                       'name = "graph/quantize/mixed_precision_ptq"\n[search.search_space.setup]\nby = "type"\n'
                       '[search.search_space.seed.default.config]\nname = ["NA"]\n')
    bad_rate = text.replace(f"learning_rate = {LR}", "learning_rate = 0")
    no_quantize = combined_toml(seeds, 4, 4).split("[search.search_space.quantize.setup]")[0] + \
        STRATEGY.format(n_trials=4, batch_size=4, qat_epochs=0)
    for case, message in [
        (no_train, "arch.toml: [search.strategy] the space graph/architecture/channel_multiplier trains every "
                   "candidate: add [search.strategy.sw_runner.basic_train] (e.g. max_epochs = 5)"),
        (no_eval, "arch.toml: [search.strategy.sw_runner.basic_train] scores each trained candidate as "
                  "basic_evaluation does: add [search.strategy.sw_runner.basic_evaluation] (data_loader, num_samples)"),
        (ptq, "arch.toml: [search.strategy.sw_runner.basic_train] trains the candidates of an architecture space; "
              "the space graph/quantize/mixed_precision_ptq measures the given model (use sw_runner.basic_evaluation)"),
        (bad_rate, "arch.toml: [search.strategy.sw_runner.basic_train] learning_rate = 0: expected a positive number"),
        (no_quantize, "arch.toml: [search.search_space] is missing the table [search.search_space.quantize] "
                      '(e.g. setup.by = "type" and seed.linear.config)'),
    ]:
        with pytest.raises(ConfigError) as error:
            parse_search_config(tomllib.loads(case)["search"], "arch.toml")
        assert str(error.value) == message


def test_ch_search_refuses_jobs_below_one_and_a_load_for_a_space_that_retrains(capsys: pytest.CaptureFixture,
                                                                              tmp_path: Path) -> None:
    code, _, err = cli(capsys, ["search", "--config", str(EXAMPLE), "--project-dir", str(tmp_path), "--jobs", "0"])
    assert code != 0 and error_line(err) == "ch: error: --jobs must be at least 1, got 0"
    checkpoint = tmp_path / "model.pt"
    torch.save(BUILD().state_dict(), checkpoint)
    code, _, err = cli(capsys, ["search", "--config", str(EXAMPLE), "--project-dir", str(tmp_path),
                                "--load", str(checkpoint), "--load-type", "pt"])
    assert code != 0 and error_line(err) == (
        f"ch: error: --load {checkpoint}: the space graph/architecture/channel_multiplier trains every candidate "
        "from fresh weights ([search.strategy.sw_runner.basic_train]); drop --load")


def test_the_combined_example_reads_as_its_two_spaces() -> None:
    text = (EXAMPLE.parent / "jsc_three_linear_architecture_quantize.toml").read_text()
    config = parse_search_config(tomllib.loads(text)["search"], "combined.toml")
    assert config.space.architecture.multipliers == (("default", (1, 2)),)
    assert (config.space.quantize.by, [s.key for s in config.space.quantize.seeds]) == ("type", ["default", "linear"])
    assert dict(config.space.quantize.seed("linear").choices)["weight_width"] == (2, 4, 8)
    assert (config.strategy.training.max_epochs, config.strategy.training.qat_epochs, config.strategy.jobs) == (1, 0, 1)
    space = config.space_class()(config.space, graph_with_metadata(BUILD(), torch.zeros(4, 16)), "combined.toml")
    assert space.size == 2 * 3**3  # one multiplier choice x a weight width per linear
    jobs = parse_search_config(tomllib.loads(text.replace("batch_size = 20", "batch_size = 20\njobs = 3"))["search"],
                               "combined.toml")
    assert jobs.strategy.jobs == 3


def test_a_multiplier_that_gives_a_fractional_width_prunes_its_trial_with_the_reason(splits: DatasetSplits,
                                                                                    tmp_path: Path) -> None:
    seeds = "[search.search_space.seed.default.config]\nchannel_multiplier = [1.5, 1.3]\n"
    trials = {t.sampled_config["channel_multiplier"]["seq_blocks_2"]: t for t in
              search(architecture_toml(seeds), splits, tmp_path)}
    assert trials[1.5].state == "COMPLETE" and trials[1.3].state == "PRUNED"
    assert trials[1.3].error == trials[1.3].error.splitlines()[0] and "20.8" in trials[1.3].error
    model = trained_directly(BUILD, {"seq_blocks_2": 1.5, "seq_blocks_4": 1.5}, splits, seed=0)
    assert widths(model) == [(16, 24), (24, 24), (24, 5)]
    assert trials[1.5].software_metrics == scored(model, splits)


def test_a_study_of_a_space_that_retrains_refuses_another_seed_naming_the_seed(splits: DatasetSplits,
                                                                                 tmp_path: Path) -> None:
    """The seed draws the candidates' fresh weights: the refusal names it, not "the model"."""
    from chop.search.storage import StorageError

    seeds = "\n[search.search_space.seed.default.config]\nchannel_multiplier = [1, 2]\n"
    config = parse_search_config(tomllib.loads(architecture_toml(seeds, n_trials=2, batch_size=2))["search"], "a.toml")
    url = f"sqlite:///{tmp_path / 'study.sqlite'}"
    for seed, out in ((0, "first"), (0, "again")):  # the same seed resumes: nothing new to train
        torch.manual_seed(seed)
        outcome = run_search(BUILD(), config, splits, tmp_path / out, seed=seed, source="a.toml", build=BUILD,
                             storage=url)
        assert len(outcome.result.trials) == 2
    torch.manual_seed(1)
    with pytest.raises(StorageError, match=r"belongs to another search \(its seed differs from this one's: "):
        run_search(BUILD(), config, splits, tmp_path / "other", seed=1, source="a.toml", build=BUILD, storage=url)
