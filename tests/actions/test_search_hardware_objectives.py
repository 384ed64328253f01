"""Hardware objectives in a real ``ch search``: BitOPs and the estimate per trial, Yosys on the final Pareto set."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import torch
from cli_helpers import cli, error_line

from chop.dataset import load_dataset
from chop.hardware.rtl import PIPELINES as RTL_PIPELINES
from chop.models import get_model
from chop.passes.graph.transforms.quantize import quantize_transform_pass
from chop.search import parse_search_config
from chop.search.config import PIPELINES, HardwareBuild
from chop.search.hardware_metrics import bitops, resource_estimate, synthesised_resources
from chop.workflows.transform import dummy_input, graph_with_metadata

# jsc-tiny: BatchNorm, ReLU, Linear 16->5, ReLU. "NA" leaves the batch norm in float, which the hardware flow
# cannot build (those trials are skipped with its reason).
HW_SEARCH = '''
model = "jsc-tiny"
dataset = "jsc-pythia"
project = "hw"

[search.search_space]
name = "graph/quantize/mixed_precision_ptq"
[search.search_space.setup]
by = "type"
[search.search_space.seed.default.config]
name = ["integer"]
data_in_width = [8]
data_in_frac_width = [4]
[search.search_space.seed.batch_norm1d.config]
name = ["integer", "NA"]
data_in_width = [8]
data_in_frac_width = [4]
weight_width = [8]
weight_frac_width = [4]
bias_width = [8]
bias_frac_width = [4]
[search.search_space.seed.linear.config]
name = ["integer"]
data_in_width = [4, 8]
data_in_frac_width = ["NA"]
weight_width = WEIGHT_WIDTHS
weight_frac_width = ["NA"]
bias_width = [8]
bias_frac_width = ["NA"]

[search.strategy]
name = "brute_force"
[search.strategy.sw_runner.basic_evaluation]
num_samples = 200
[search.strategy.hw_runner.average_bitwidth]
compare_to = 32
[search.strategy.hw_runner.bitops]
[search.strategy.hw_runner.resource_estimate]
pipeline = "layer"
[search.strategy.setup]
n_trials = 100
batch_size = BATCH_SIZE

[search.strategy.metrics]
accuracy.scale = 1.0
accuracy.direction = "maximize"
luts.scale = 1.0
luts.direction = "minimize"
'''


def search_toml(batch_size: int = 32, weight_widths: str = "[2, 4, 8]", extra: str = "") -> str:
    return HW_SEARCH.replace("BATCH_SIZE", str(batch_size)).replace("WEIGHT_WIDTHS", weight_widths) + extra


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[torch.nn.Module, Path]:
    torch.manual_seed(3)
    model = get_model("jsc-tiny")
    path = tmp_path_factory.mktemp("model") / "tiny.pt"
    torch.save(model.state_dict(), path)
    return model, path


def run_search(folder: Path, toml: str, checkpoint: Path) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """``ch search --json`` in ``folder``: (its summary, log.json, best.json)."""
    config = folder / "search.toml"
    config.write_text(toml)
    code, out, err = cli(["search", "--config", str(config), "--load", str(checkpoint), "--project-dir", str(folder),
                          "--json"])
    assert code == 0, err
    summary = json.loads(out)
    return summary, json.loads(Path(summary["log"]).read_text()), json.loads(Path(summary["best"]).read_text())


@pytest.fixture(scope="module")
def searches(trained: tuple[torch.nn.Module, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[int, Any]:
    """The 12-point space searched stacked (batch_size 32) and one trial at a time (batch_size 1)."""
    return {batch: run_search(tmp_path_factory.mktemp(f"batch{batch}"), search_toml(batch), trained[1])
            for batch in (32, 1)}


def quantised_graph(model: torch.nn.Module, sampled_config: dict[str, Any]) -> Any:
    data = load_dataset("jsc-pythia")
    graph = graph_with_metadata(copy.deepcopy(model), dummy_input(model, data.x_train))
    return quantize_transform_pass(graph, sampled_config)[0]


def test_each_trial_has_the_estimate_and_bitops_of_its_quantised_graph(
        searches: dict[int, Any], trained: tuple[torch.nn.Module, Path]) -> None:
    summary, log, _ = searches[32]
    assert summary["space_size"] == summary["trials"] == 12 and summary["complete"] == summary["pruned"] == 6
    for entry in log.values():
        if entry["state"] != "COMPLETE":
            continue
        graph = quantised_graph(trained[0], entry["user_attrs_sampled_config"])
        hardware = entry["user_attrs_hardware_metrics"]
        assert {k: hardware[k] for k in ("luts", "ffs", "dsps", "latency_cycles")} == resource_estimate(graph)
        assert hardware["bitops"] == bitops(graph)["bitops"]
        assert entry["values_1"] == hardware["luts"]  # the objectives in MASE's sorted order: accuracy, luts
    assert len({entry["user_attrs_hardware_metrics"]["luts"] for entry in log.values()
                if entry["state"] == "COMPLETE"}) > 3  # the widths change the design


def test_a_candidate_the_hardware_flow_cannot_build_is_skipped_with_its_reason(searches: dict[int, Any]) -> None:
    _, log, _ = searches[32]
    skipped = [entry for entry in log.values() if entry["state"] == "PRUNED"]
    assert len(skipped) == 6
    for entry in skipped:
        assert entry["user_attrs_sampled_config"]["seq_blocks_0"]["config"]["name"] is None
        assert entry["user_attrs_error"].startswith("hardware: node 'seq_blocks_0' (batch_norm1d) is not quantised")
        assert entry["user_attrs_software_metrics"] == entry["user_attrs_hardware_metrics"] == {}


def test_stacked_batches_measure_what_one_trial_at_a_time_measures(searches: dict[int, Any]) -> None:
    def by_point(log: dict[str, Any]) -> dict[str, Any]:
        return {json.dumps(e["user_attrs_sampled_config"], sort_keys=True):
                (e["state"], e["user_attrs_software_metrics"], e["user_attrs_hardware_metrics"]) for e in log.values()}

    assert by_point(searches[32][1]) == by_point(searches[1][1])


def test_best_json_is_the_pareto_front_of_accuracy_and_luts_in_the_log(searches: dict[int, Any]) -> None:
    _, log, best = searches[32]
    points = {e["number"]: (e["user_attrs_software_metrics"]["accuracy"], e["user_attrs_hardware_metrics"]["luts"])
              for e in log.values() if e["state"] == "COMPLETE"}

    def dominated(a: tuple[float, float]) -> bool:
        return any(b[0] >= a[0] and b[1] <= a[1] and b != a for b in points.values())

    front = sorted(n for n, point in points.items() if not dominated(point))
    assert sorted(row["number"] for row in best.values()) == front and 1 < len(front) < len(points)
    for row in best.values():
        assert row["value"] == list(points[row["number"]])


def test_the_pareto_plots_are_written_beside_the_log(searches: dict[int, Any]) -> None:
    summary = searches[32][0]
    folder = Path(summary["log"]).parent
    assert summary["plots"] == [str(folder / f"pareto_{cost}.png") for cost in ("luts", "bitops", "average_bitwidth")]
    for plot in summary["plots"]:
        assert Path(plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and Path(plot).stat().st_size > 10_000


def test_yosys_measures_the_final_pareto_set_only(trained: tuple[torch.nn.Module, Path], tmp_path: Path) -> None:
    toml = search_toml(weight_widths="[2, 8]", extra="[search.strategy.hw_runner.synthesis]\npareto_only = true\n")
    toml = toml.replace('name = ["integer", "NA"]', 'name = ["integer"]').replace("data_in_width = [4, 8]",
                                                                                  "data_in_width = [8]")
    summary, log, best = run_search(tmp_path, toml, trained[1])
    assert summary["trials"] == summary["complete"] == 2 and len(best) == 2  # 2 bits: fewer LUTs, less accurate
    rows = sorted(best.values(), key=lambda row: row["hardware_metrics"]["luts"])
    for row in rows:
        assert log[str(row["number"])]["user_attrs_hardware_metrics"] == row["hardware_metrics"]
    # the small design synthesised again here (seconds); the large one against the estimate's calibrated bounds
    small, large = rows[0]["hardware_metrics"], rows[1]["hardware_metrics"]
    graph = quantised_graph(trained[0], rows[0]["sampled_config"])
    assert {k: v for k, v in small.items() if k.startswith("yosys_")} == synthesised_resources(graph)
    assert large["yosys_ffs"] == large["ffs"] and abs(large["yosys_luts"] - large["luts"]) <= 0.25 * large["luts"]
    assert large["yosys_luts"] > small["yosys_luts"]


def test_the_search_config_knows_the_hardware_pipelines() -> None:
    assert PIPELINES == RTL_PIPELINES
    strategy = parse_search_config(_search_table(search_toml(extra='[search.strategy.hw_runner.synthesis]\n'
                                                                    'input_format = [8, 4]\n')), "s.toml").strategy
    assert strategy.hardware.bitops and strategy.hardware.estimate == HardwareBuild()
    assert strategy.hardware.synthesis == HardwareBuild(input_format=(8, 4))


def test_the_hardware_example_config_parses() -> None:
    example = Path(__file__).parents[2] / "configs" / "search" / "jsc_tiny_hardware.toml"
    strategy = parse_search_config(_search_table(example.read_text()), str(example)).strategy
    assert strategy.metric_names == ("accuracy", "luts") and strategy.directions == ("maximize", "minimize")
    assert strategy.hardware.synthesis == strategy.hardware.estimate == HardwareBuild(pipeline="layer")


def _search_table(toml: str) -> Any:
    import tomllib

    return tomllib.loads(toml)["search"]


@pytest.mark.parametrize(("edit", "message"), [
    (lambda t: t.replace("[search.strategy.hw_runner.bitops]", "[search.strategy.hw_runner.bitopz]"),
     "s.toml: [search.strategy.hw_runner] unknown key `bitopz` (did you mean 'bitops'?); known: average_bitwidth, "
     "bitops, resource_estimate, synthesis"),
    (lambda t: t.replace("luts.", "lutz."),
     "s.toml: [search.strategy.metrics] unknown metric `lutz` (did you mean 'luts'?); known: loss, accuracy, "
     "average_bitwidth, memory_density, bitops, luts, ffs, dsps, latency_cycles, yosys_luts, yosys_ffs, yosys_dsps, "
     "yosys_carry4"),
    (lambda t: t.replace("[search.strategy.hw_runner.resource_estimate]\npipeline = \"layer\"\n", ""),
     "s.toml: [search.strategy.metrics] metric `luts` needs [search.strategy.hw_runner.resource_estimate], which "
     "the config does not have"),
    (lambda t: t.replace("luts.", "yosys_luts.") + "[search.strategy.hw_runner.synthesis]\n",
     "s.toml: [search.strategy.metrics] metric `yosys_luts` is measured after the search, on the final Pareto set "
     "only, so it cannot be an objective; use the estimate's luts ([search.strategy.hw_runner.resource_estimate])"),
    (lambda t: t + "[search.strategy.hw_runner.synthesis]\npareto_only = false\n",
     "s.toml: [search.strategy.hw_runner.synthesis] pareto_only = false: expected true: Yosys takes seconds to "
     "minutes a candidate, so it measures the final Pareto set; score every trial with "
     "[search.strategy.hw_runner.resource_estimate]"),
    (lambda t: t.replace('pipeline = "layer"', 'pipeline = "layers"'),
     's.toml: [search.strategy.hw_runner.resource_estimate] pipeline = "layers": expected one of none, layer, split '
     "(did you mean 'layer'?)"),
    (lambda t: t.replace('pipeline = "layer"', 'input_format = [0, 4]'),
     "[search.strategy.hw_runner.resource_estimate] input_format = [0, 4]: fixed-point width 0 is outside 1..52, "
     "the widths the integer reference computes exactly"),
    (lambda t: t.replace('pipeline = "layer"', 'input_format = "8,4"'),
     's.toml: [search.strategy.hw_runner.resource_estimate] input_format = "8,4": expected [width, frac] or '
     "[width, frac, signed] (integers, e.g. [8, 4])"),
])
def test_bad_hardware_runner_config_is_one_line_naming_the_key(edit: Any, message: str, tmp_path: Path) -> None:
    config = tmp_path / "s.toml"
    config.write_text(edit(search_toml()))
    code, _, err = cli(["search", "--config", str(config), "--project-dir", str(tmp_path)])
    assert code != 0
    assert error_line(err) == "ch: error: " + message.replace("s.toml", str(config))


def test_a_study_of_other_hardware_objectives_has_another_fingerprint() -> None:
    from chop.search.fingerprint import objectives_digest

    def digest(toml: str) -> str:
        return objectives_digest(parse_search_config(_search_table(toml), "s.toml").strategy)

    assert digest(search_toml()) == digest(search_toml())
    assert digest(search_toml()) != digest(search_toml().replace('pipeline = "layer"', 'pipeline = "none"'))
    assert digest(search_toml()) != digest(search_toml().replace("[search.strategy.hw_runner.bitops]\n", ""))
