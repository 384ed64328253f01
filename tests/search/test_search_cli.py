"""``ch search`` end to end: MASE's lab TOML, outputs, --json, --load, and one-line errors."""

from __future__ import annotations

import copy
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from search_tables import MASE_LAB_SEARCH

from chop.cli import main
from chop.dataset import load_dataset
from chop.models import get_model
from chop.passes.graph.transforms.quantize import quantize_transform_pass
from chop.workflows.transform import dummy_input, graph_with_metadata

EXAMPLE = Path(__file__).parents[2] / "configs" / "search" / "jsc_tiny_mixed_precision.toml"
# The top of MASE's lab 3 file (configs/examples/jsc_toy_by_type.toml) before its [search] part;
# `[transform]` is read by MASE's transform action and ignored by the others.
MASE_LAB_TOP = '''
model = "jsc-tiny"
dataset = "jsc"
task = "cls"

max_epochs = 5
batch_size = 512
learning_rate = 1e-2
accelerator = "gpu"
project = "jsc-tiny"
seed = 42
log_every_n_steps = 5

[passes.quantize]
by = "type"
[passes.quantize.default.config]
name = "NA"
[passes.quantize.linear.config]
name = "integer"
"data_in_width" = 8
"data_in_frac_width" = 4
"weight_width" = 8
"weight_frac_width" = 4
"bias_width" = 8
"bias_frac_width" = 4

[transform]
style = "graph"
'''


def _run(capsys: pytest.CaptureFixture, argv: list[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_mase_lab_toml_runs_and_writes_log_and_best(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    config = tmp_path / "lab3.toml"
    config.write_text(MASE_LAB_TOP + MASE_LAB_SEARCH)
    code, out, err = _run(capsys, ["search", "jsc-tiny", "jsc-pythia", "--config", str(config),
                                   "--project-dir", str(tmp_path), "--json"])
    assert code == 0, err
    result = json.loads(out)
    search_dir = tmp_path / "jsc-tiny" / "software" / "search_ckpts"
    assert (result["log"], result["best"]) == (str(search_dir / "log.json"), str(search_dir / "best.json"))
    log = json.loads((search_dir / "log.json").read_text())
    assert list(log) == ["0", "1", "2", "3", "4"] and result["trials"] == result["complete"] == 5
    # by = "name": only seq_blocks_2 (jsc-tiny's linear) has a seed; 2 x 3 x 3 points; the `linear` seed is unused
    assert result["space_size"] == 18
    for entry in log.values():
        config_used = entry["user_attrs_sampled_config"]
        assert config_used["seq_blocks_0"] == {"config": {"name": None}}
        linear = config_used["seq_blocks_2"]["config"]
        assert linear["data_in_width"] in (4, 8) and linear["weight_width"] in (2, 4, 8)
        assert entry["user_attrs_hardware_metrics"] == {"average_bitwidth": linear["weight_width"],
                                                        "memory_density": 32 / linear["weight_width"]}
        assert [entry["values_0"], entry["values_1"]] == [entry["user_attrs_software_metrics"]["accuracy"],
                                                          0.2 * linear["weight_width"]]
    best = json.loads((search_dir / "best.json").read_text())
    assert result["best_trials"] == list(best.values()) and result["multi_objective"] is True


def test_example_config_prints_the_best_trials_table(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code, out, err = _run(capsys, ["search", "--config", str(EXAMPLE), "--project-dir", str(tmp_path),
                                   "--project", "ex"])
    assert code == 0, err
    assert "20 trials" in out
    best = json.loads((tmp_path / "ex" / "software" / "search_ckpts" / "best.json").read_text())
    table = out[out.index("Best trial(s)"):]
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in table.splitlines() if line.startswith("│")]
    # columns: number, loss, accuracy, average_bitwidth, memory_density, then the scaled objectives
    assert [(int(r[0]), r[2], r[3]) for r in rows] == [
        (e["number"], f"{e['software_metrics']['accuracy']:.4g}", f"{e['hardware_metrics']['average_bitwidth']:.4g}")
        for e in best.values()]


def test_load_evaluates_the_checkpoint_weights(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """--load pt: trial 0's accuracy is that of the loaded weights, quantised as sampled, on 300 validation rows."""
    torch.manual_seed(5)
    trained = get_model("jsc-tiny")
    torch.save(trained.state_dict(), tmp_path / "tiny.pt")
    search = EXAMPLE.read_text().replace("num_samples = 512", "num_samples = 300").replace("n_trials = 20",
                                                                                          "n_trials = 3")
    config = tmp_path / "s.toml"
    config.write_text(search)
    code, out, err = _run(capsys, ["search", "--config", str(config), "--load", str(tmp_path / "tiny.pt"),
                                   "--project-dir", str(tmp_path), "--json"])
    assert code == 0, err
    entry = json.loads(Path(json.loads(out)["log"]).read_text())["0"]
    data = load_dataset("jsc-pythia")
    graph = graph_with_metadata(copy.deepcopy(trained), dummy_input(trained, data.x_train))
    graph, _ = quantize_transform_pass(graph, entry["user_attrs_sampled_config"])
    with torch.no_grad():
        logits = graph.model.eval()(torch.from_numpy(data.x_val[:300]))
    accuracy = (logits.argmax(1) == torch.from_numpy(data.y_val[:300])).float().mean().item()
    assert entry["user_attrs_software_metrics"]["accuracy"] == pytest.approx(accuracy, abs=1e-7)


@pytest.mark.parametrize(("edit", "message"), [
    (lambda t: t.split("[search.search_space]")[0],
     "no [search] table; `ch search` needs [search.search_space] and [search.strategy]"),
    (lambda t: t.replace('name = "graph/quantize/mixed_precision_ptq"', 'name = "graph/quantize/ptq"'),
     '[search.search_space] name = "graph/quantize/ptq": expected one of graph/quantize/mixed_precision_ptq'),
    (lambda t: t.replace("weight_width = [2, 4, 8]", "weight_width = []"),
     "[search.search_space.seed.linear.config] weight_width = []: expected a non-empty list of choices"),
    (lambda t: t.replace("n_trials = 20", "n_trials = 0"), "[search.strategy.setup] n_trials = 0: expected an integer"),
    (lambda t: t.replace('sampler = "tpe"', 'sampler = "tpx"'),
     "[search.strategy.setup] sampler = \"tpx\": expected one of tpe, random, nsgaii, nsgaiii, qmc, grid, "
     "brute_force "
     "(did you mean 'tpe'?)"),
    (lambda t: t.replace("accuracy.scale", "acuracy.scale"), "unknown metric `acuracy` (did you mean 'accuracy'?)"),
    (lambda t: t.replace('accuracy.direction = "maximize"', 'accuracy.direction = "up"'),
     "[search.strategy.metrics.accuracy] direction = \"up\": expected one of minimize, maximize"),
    (lambda t: t.replace('by = "type"', 'by = "regex_name"'),
     "[search.search_space.setup] by = \"regex_name\": expected one of name, type"),
    (lambda t: t.replace("seed.linear.config", "seed.lienar.config"),
     "[search.search_space.seed.lienar] names no quantisable node or op of this model (did you mean 'linear'?)"),
])
def test_bad_input_is_one_line_naming_the_key(tmp_path: Path, capsys: pytest.CaptureFixture, edit, message) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(edit(EXAMPLE.read_text()))
    code, _, err = _run(capsys, ["search", "--config", str(config), "--project-dir", str(tmp_path)])
    assert code == 2
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"ch: error: {config}: ") and message in last and "Traceback" not in err


def test_search_without_config_says_what_it_needs(capsys: pytest.CaptureFixture) -> None:
    code, _, err = _run(capsys, ["search", "jsc-tiny", "jsc-pythia"])
    assert code == 2 and "Traceback" not in err
    assert err.strip() == ("ch: error: ch search needs --config X.toml with [search.search_space] and "
                           "[search.strategy] (see configs/search/jsc_tiny_mixed_precision.toml)")


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill-9"])
def test_a_stopped_search_leaves_readable_results(tmp_path: Path, stop: signal.Signals) -> None:
    """Ctrl-C: exit 130 after saving the finished trials; kill -9: the last periodic save is intact."""
    config = tmp_path / "long.toml"
    config.write_text(EXAMPLE.read_text().replace("n_trials = 20", "n_trials = 1000000")
                      .replace('sampler = "tpe"', 'sampler = "random"'))
    log = tmp_path / "p" / "software" / "search_ckpts" / "log.json"
    process = subprocess.Popen([sys.executable, "-m", "chop.cli", "search", "--config", str(config), "--project-dir",
                                str(tmp_path), "--project", "p"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not log.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert log.exists(), process.communicate()[1].decode()
    process.send_signal(stop)
    _, err = process.communicate(timeout=120)
    trials = json.loads(log.read_text())
    assert trials and {entry["state"] for entry in trials.values()} == {"COMPLETE"}
    assert list(trials) == [str(i) for i in range(len(trials))]
    if stop == signal.SIGINT:
        assert process.returncode == 130 and err.decode().strip().endswith("ch: interrupted")
        assert "Traceback" not in err.decode()


LAB3_FILE = Path(__file__).parents[2] / "configs" / "examples" / "jsc_toy_by_type.toml"


def test_lab3_command_line_runs_offline(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Lab 3's `./ch search --config configs/examples/jsc_toy_by_type.toml --load CKPT`, with positionals for the
    bundled data: the file's dataset = "jsc" (a download) and accelerator = "cpu" give way to jsc-tiny jsc-pythia."""
    torch.manual_seed(11)
    trained = get_model("jsc-tiny")
    checkpoint = tmp_path / "best.ckpt"
    torch.save({"state_dict": {f"model.{k}": v for k, v in trained.state_dict().items()}}, checkpoint)
    code, out, err = _run(capsys, ["search", "--config", str(LAB3_FILE), "--load", str(checkpoint), "jsc-tiny",
                                   "jsc-pythia", "--project-dir", str(tmp_path), "--json"])
    assert code == 0, err
    result = json.loads(out)
    assert result["log"] == str(tmp_path / "jsc-tiny" / "software" / "search_ckpts" / "log.json")
    assert (result["trials"], result["space_size"], result["multi_objective"]) == (20, 18, True)
    entry = json.loads(Path(result["log"]).read_text())["0"]
    data = load_dataset("jsc-pythia")
    graph = graph_with_metadata(copy.deepcopy(trained), dummy_input(trained, data.x_train))
    graph, _ = quantize_transform_pass(graph, entry["user_attrs_sampled_config"])
    with torch.no_grad():
        logits = graph.model.eval()(torch.from_numpy(data.x_val[:512]))
    accuracy = (logits.argmax(1) == torch.from_numpy(data.y_val[:512])).float().mean().item()
    assert entry["user_attrs_software_metrics"]["accuracy"] == pytest.approx(accuracy, abs=1e-7)


def test_a_rerun_resumes_the_study_and_keeps_the_earlier_outputs(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    """n_trials 2, then 3, then 4 in one project: each rerun adds one trial to the study in study.sqlite,
    and the earlier log.json / best.json are kept as log-vN.json / best-vN.json beside it."""
    search_dir = tmp_path / "p" / "software" / "search_ckpts"
    results = []
    for trials in (2, 3, 4):
        caplog.clear()
        config = tmp_path / f"n{trials}.toml"
        config.write_text(EXAMPLE.read_text().replace("n_trials = 20", f"n_trials = {trials}"))
        code, out, err = _run(capsys, ["search", "--config", str(config), "--project-dir", str(tmp_path),
                                       "--project", "p", "--json"])
        assert code == 0, err
        results.append(json.loads(out))
    assert [r["resumed"] for r in results] == [0, 2, 3] and [r["trials"] for r in results] == [2, 3, 4]
    assert {r["storage"] for r in results} == {f"sqlite:///{search_dir / 'study.sqlite'}"}
    assert {r["study"] for r in results} == {"jsc-tiny/graph/quantize/mixed_precision_ptq"}
    plot = "pareto_average_bitwidth"  # the Pareto plot beside them is kept with the same N
    assert results[2]["kept"] == [str(search_dir / "log-v2.json"), str(search_dir / "best-v2.json"),
                                  str(search_dir / f"{plot}-v2.png")]
    assert [m for m in caplog.messages if "earlier run" in m] == [
        f"earlier run kept: {search_dir / 'log.json'} -> log-v2.json, {search_dir / 'best.json'} -> best-v2.json, "
        f"{search_dir / f'{plot}.png'} -> {plot}-v2.png"]
    logs = [json.loads((search_dir / name).read_text()) for name in ("log-v1.json", "log-v2.json", "log.json")]
    assert [len(log) for log in logs] == [2, 3, 4]
    # the trials done before are not redone: the earlier runs' entries are the first ones of the latest log
    for earlier in logs[:2]:
        assert [logs[2][key] for key in earlier] == list(earlier.values())
    assert [entry["number"] for entry in logs[2].values()] == [0, 1, 2, 3]
    # (SQLite's write-ahead log, study.sqlite-wal and -shm, sits beside the study while it is open)
    assert sorted(p.name for p in search_dir.iterdir() if not p.name.startswith("study.sqlite-")) == [
        "best-v1.json", "best-v2.json", "best.json", "log-v1.json", "log-v2.json", "log.json", f"{plot}-v1.png",
        f"{plot}-v2.png", f"{plot}.png", "study.sqlite"]


def test_without_load_it_warns_that_the_weights_are_untrained(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    config = tmp_path / "s.toml"
    config.write_text(EXAMPLE.read_text().replace("n_trials = 20", "n_trials = 2"))
    code, _, err = _run(capsys, ["search", "--config", str(config), "--project-dir", str(tmp_path), "--json"])
    assert code == 0, err
    assert [m for m in caplog.messages if "--load" in m] == [
        "ch search: no --load given, so the model has untrained (random) weights; pass --load CKPT "
        "(e.g. a best.ckpt of ch train) to work on a trained model"]
