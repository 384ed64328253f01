"""MASE's extension points: a space and a strategy of the user's own, named FILE.py:Class, and their mistakes.

The worked example is read out of docs/search.md and run as it is there.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
import torch
from search_tables import search_table

from chop.cli import main
from chop.dataset import load_dataset
from chop.errors import ConfigError
from chop.models import get_model
from chop.passes.graph.transforms import quantize_transform_pass
from chop.search import parse_search_config, run_search
from chop.workflows.transform import dummy_input, graph_with_metadata

DOCS = Path(__file__).parents[2] / "docs" / "search.md"


def _docs_block(first_line: str) -> str:
    """The fenced block of docs/search.md whose first line is ``first_line``."""
    for block in re.findall(r"```(?:python|toml)\n(.*?)```", DOCS.read_text(), flags=re.S):
        if block.startswith(first_line + "\n") or block.startswith(first_line + ":"):
            return block
    raise AssertionError(f"docs/search.md has no block starting {first_line!r}")


def test_the_docs_example_runs_from_ch_search(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Its space has one point per width; its strategy visits them widest first; metrics are the real ones."""
    (tmp_path / "my_search.py").write_text(_docs_block("# my_search.py"))
    (tmp_path / "my_search.toml").write_text(_docs_block("# my_search.toml"))
    torch.manual_seed(4)
    trained = get_model("jsc-tiny")
    torch.save(trained.state_dict(), tmp_path / "w.pt")
    code = main(["search", "--config", str(tmp_path / "my_search.toml"), "--load", str(tmp_path / "w.pt"),
                 "--project-dir", str(tmp_path), "--project", "p", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    result = json.loads(out)
    assert (result["space_size"], result["trials"], result["storage"]) == (3, 3, None)  # its own strategy keeps no study
    log = json.loads(Path(result["log"]).read_text())
    widths = [entry["user_attrs_sampled_config"]["linear"]["config"]["weight_width"] for entry in log.values()]
    assert widths == [8, 4, 2]
    data = load_dataset("jsc-pythia")
    for entry in log.values():
        graph = graph_with_metadata(copy.deepcopy(trained), dummy_input(trained, data.x_train))
        graph, _ = quantize_transform_pass(graph, entry["user_attrs_sampled_config"])
        with torch.no_grad():
            logits = graph.model.eval()(torch.from_numpy(data.x_val[:512]))
        accuracy = (logits.argmax(1) == torch.from_numpy(data.y_val[:512])).float().mean().item()
        assert entry["user_attrs_software_metrics"]["accuracy"] == pytest.approx(accuracy, abs=1e-7)
        weight_width = entry["user_attrs_sampled_config"]["linear"]["config"]["weight_width"]
        assert entry["user_attrs_hardware_metrics"]["average_bitwidth"] == weight_width  # jsc-tiny: one linear layer
        assert [entry["values_0"], entry["values_1"]] == [accuracy, weight_width]


def test_the_mase_paths_name_the_classes_of_chop_search() -> None:
    from chop.actions.search import search_space, strategies
    from chop.actions.search.strategies import optuna as optuna_strategies
    from chop.search.space import MixedPrecisionSpace
    from chop.search.space_base import SearchSpaceBase
    from chop.search.strategy import BruteForceSearch, Search
    from chop.search.strategy_base import SearchStrategyBase

    assert search_space.SearchSpaceBase is SearchSpaceBase and strategies.SearchStrategyBase is SearchStrategyBase
    assert search_space.get_search_space_cls("graph/quantize/mixed_precision_ptq") is MixedPrecisionSpace
    assert search_space.GraphSearchSpaceMixedPrecisionPTQ is MixedPrecisionSpace
    assert strategies.get_search_strategy_cls("optuna") is optuna_strategies.SearchStrategyOptuna is Search
    assert strategies.get_search_strategy_cls("brute_force") is BruteForceSearch
    assert issubclass(MixedPrecisionSpace, SearchSpaceBase) and issubclass(Search, SearchStrategyBase)


@pytest.mark.parametrize(("lookup", "name", "message"), [
    ("space", "graph/quantize/mixed_precision", "unknown search space 'graph/quantize/mixed_precision' (did you mean "
     "'graph/quantize/mixed_precision_ptq'?); known: graph/quantize/mixed_precision_ptq, "
     "graph/architecture/channel_multiplier, graph/architecture_quantize, or FILE.py:Class"),
    ("strategy", "bruteforce", "unknown search strategy 'bruteforce' (did you mean 'brute_force'?); known: optuna, "
     "brute_force, or FILE.py:Class"),
])
def test_an_unknown_name_lists_the_known_ones(lookup: str, name: str, message: str) -> None:
    from chop.actions.search.search_space import get_search_space_cls
    from chop.actions.search.strategies import get_search_strategy_cls

    with pytest.raises(ConfigError) as caught:
        (get_search_space_cls if lookup == "space" else get_search_strategy_cls)(name)
    assert str(caught.value).startswith(message)


USER_FILE = '''
from chop.actions.search.search_space import SearchSpaceBase
from chop.actions.search.strategies import SearchStrategyBase


class Plain:
    pass


class Half(SearchSpaceBase):
    def build_search_space(self):
        self.choices_flattened = {"w": [2, 4]}


class Empty(SearchSpaceBase):
    def build_search_space(self):
        self.choices_flattened = {"weight_width": self.config["widths"]}

    def flattened_indexes_to_config(self, indexes):
        return {}

    def rebuild_model(self, sampled_config, is_eval_mode):
        return self.graph


class EveryOther(SearchStrategyBase):
    setup_keys = ("stride",)

    def search(self, on_trial=None):
        points = list(self.space.points())[::self.config.options.get("stride", 1)]
        return self.result(self.evaluate(n, p) for n, p in enumerate(points))
'''


@pytest.mark.parametrize(("part", "name", "message"), [
    ("space", "user.py:Plain", '[search.search_space] name = "user.py:Plain": search space user.py:Plain: Plain is not '
     "a subclass of SearchSpaceBase; derive it from chop.actions.search.search_space.SearchSpaceBase"),
    ("strategy", "user.py:Half", '[search.strategy] name = "user.py:Half": search strategy user.py:Half: Half is not a '
     "subclass of SearchStrategyBase; derive it from chop.actions.search.strategies.SearchStrategyBase"),
    ("space", "user.py:Half", '[search.search_space] name = "user.py:Half": search space user.py:Half: Half does not '
     "define flattened_indexes_to_config, rebuild_model, which SearchSpaceBase requires"),
    ("space", "user.py:Missing", '[search.search_space] name = "user.py:Missing": search space file {dir}/user.py has '
     "no class 'Missing'"),
    ("space", "nothere.py:Space", '[search.search_space] name = "nothere.py:Space": search space file {dir}/nothere.py '
     "does not exist"),
    ("strategy", "broken.py:S", '[search.strategy] name = "broken.py:S": search strategy file {dir}/broken.py failed to '
     "import: ZeroDivisionError: division by zero"),
])
def test_a_user_class_mistake_is_one_line(tmp_path: Path, part: str, name: str, message: str) -> None:
    (tmp_path / "user.py").write_text(USER_FILE)
    (tmp_path / "broken.py").write_text("1 / 0\n")
    table = search_table()
    table["search_space" if part == "space" else "strategy"]["name"] = name
    with pytest.raises(ConfigError) as caught:
        parse_search_config(table, str(tmp_path / "t.toml"))
    assert str(caught.value) == f"{tmp_path / 't.toml'}: " + message.format(dir=tmp_path)


def test_an_empty_choice_list_of_a_user_space_is_refused(toy_model, splits, tmp_path: Path) -> None:
    (tmp_path / "user.py").write_text(USER_FILE)
    table = search_table()
    table["search_space"] = {"name": "user.py:Empty", "widths": []}
    config = parse_search_config(table, str(tmp_path / "t.toml"))
    with pytest.raises(ConfigError) as caught:
        run_search(toy_model, config, splits, tmp_path / "out", source="t.toml")
    assert str(caught.value) == ("t.toml: [search.search_space] Empty choice `weight_width` = []: expected a non-empty "
                                 "list of values")


def test_a_user_strategy_reads_its_own_setup_keys(toy_model, splits, tmp_path: Path) -> None:
    """EveryOther with stride = 2 on a 6-point space: points 0, 2, 4, scored by the base class's evaluate."""
    (tmp_path / "user.py").write_text(USER_FILE)
    seed = {"name": ["integer"], "data_in_width": [8], "weight_width": [2, 4, 8], "bias_width": [4, 8]}
    table = search_table(by="name", seeds={"seq_blocks_5": seed}, setup={"stride": 2},
                         metrics={"accuracy": {"scale": 1.0, "direction": "maximize"}})
    table["strategy"]["name"] = "user.py:EveryOther"
    config = parse_search_config(table, str(tmp_path / "t.toml"))
    assert dict(config.strategy.options) == {"stride": 2}
    outcome = run_search(toy_model, config, splits, tmp_path / "out", source="t.toml")
    configs = [t.sampled_config["seq_blocks_5"]["config"] for t in outcome.result.trials]
    assert [(c["weight_width"], c["bias_width"]) for c in configs] == [(2, 4), (4, 4), (8, 4)]
    accuracies = [t.software_metrics["accuracy"] for t in outcome.result.trials]
    assert [t.values for t in outcome.result.trials] == [(a,) for a in accuracies]
    assert [t.number for t in outcome.result.best] == [accuracies.index(max(accuracies))]
    with pytest.raises(ConfigError, match=r"unknown key `strid` \(did you mean 'stride'\?\)"):
        parse_search_config(search_table(setup={"strid": 2}) | {"strategy": {**table["strategy"],
                                                                              "setup": {"n_trials": 3, "strid": 2}}},
                            str(tmp_path / "t.toml"))
