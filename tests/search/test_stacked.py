"""Stacked PTQ scoring gives exactly the one-at-a-time metrics, and sends what it cannot stack there.

The reference is ``Search.measure``: a copy of the float graph quantised by the quantise pass and
evaluated by ``basic_evaluation`` / ``average_bitwidth``. Equality is exact (``==`` on the metric
dicts): fixed-point values and integer sums below 2^24 are exact in any order, float nodes run
the same kernels, and the loss is summed by ``F.nll_loss`` as ``F.cross_entropy`` sums it. The
rows (20,000) span three of ``basic_evaluation``'s 8,192-row chunks and several passes of
``PASS_ROWS`` each, with a short last chunk.
"""

from __future__ import annotations

import copy
import random

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from search_tables import search_table
from torch import nn

from chop.dataset.splits import DatasetInfo, DatasetSplits
from chop.models import get_model
from chop.search import parse_search_config
from chop.search.runners import CHUNK_ROWS, Runners
from chop.search.space import MixedPrecisionSpace
from chop.search.stacked import PASS_ROWS, StackedScorer, stacking_obstacle
from chop.search.strategy import Search
from chop.tools.runtime import configure_threads
from chop.workflows.transform import dummy_input, graph_with_metadata

ROWS = 20_000
LAB_SEED = {"name": ["integer"], "data_in_width": [4, 8], "data_in_frac_width": ["NA"], "weight_width": [2, 4, 8],
            "weight_frac_width": ["NA"], "bias_width": [2, 4, 8], "bias_frac_width": ["NA"]}
# every quantisable op, float ("NA") among the choices, fixed and integer, odd widths and frac widths
MIXED_SEEDS = {
    "linear": {"name": ["integer", "fixed", "NA"], "data_in_width": [3, 6, 8], "data_in_frac_width": [1, 3],
               "weight_width": [2, 5, 8], "weight_frac_width": [0, 2], "bias_width": [4, 12],
               "bias_frac_width": [2, 4]},
    "relu": {"name": ["integer", "NA"], "data_in_width": [3, 7], "data_in_frac_width": [1, 2]},
    "batch_norm1d": {"name": ["integer", "NA"], "data_in_width": [6, 10], "data_in_frac_width": [2, 5],
                     "weight_width": [4, 8], "weight_frac_width": [2, 4], "bias_width": [4, 8], "bias_frac_width": [2]},
}


@pytest.fixture(scope="module")
def rows() -> DatasetSplits:
    """Synthetic standardised rows, as the full-size benchmark uses, with five classes."""
    rng = np.random.default_rng(1)
    y = rng.integers(0, 5, ROWS)
    x = (rng.standard_normal((ROWS, 16)) + 0.7 * y[:, None] * rng.choice([-1, 1], 16)).astype(np.float32)
    return DatasetSplits(DatasetInfo("jsc"), x[:500], y[:500], x, y, x[:100], y[:100])


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    configure_threads()  # machop's setting; tiny ops on two threads spin-wait


_TRAINED: dict[tuple[str, int], nn.Module] = {}  # (model, seed) -> trained model: training once per module run


def _model(name: str, data: DatasetSplits, seed: int = 0) -> nn.Module:
    """``name`` trained for two epochs on the rows, so its candidates differ in accuracy (and ties are rare)."""
    if (name, seed) not in _TRAINED:
        torch.manual_seed(seed)
        model = get_model(name)
        optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
        x, y = torch.as_tensor(data.x_val), torch.as_tensor(data.y_val)
        model.train()
        for _ in range(2):
            for start in range(0, len(x), 256):
                optimiser.zero_grad()
                nn.functional.cross_entropy(model(x[start:start + 256]), y[start:start + 256]).backward()
                optimiser.step()
        _TRAINED[(name, seed)] = model.eval()
    return copy.deepcopy(_TRAINED[(name, seed)])


def _search(model: nn.Module, data: DatasetSplits, seeds: dict, eval_mode: bool = True) -> Search:
    table = search_table(seeds={"default": {"name": ["NA"]}, **seeds}, num_samples=ROWS)
    table["strategy"]["eval_mode"] = eval_mode
    config = parse_search_config(table, "t.toml")
    graph = graph_with_metadata(model, dummy_input(model, data.x_train))
    space = MixedPrecisionSpace(config.space, graph, "t.toml")
    return Search(space, Runners(config.strategy, data, (16,)), config.strategy, seed=0)


def _configs(search: Search, count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    return [search.space.pass_config({c.name: rng.randrange(len(c.values)) for c in search.space.choices})
            for _ in range(count)]


def _one_at_a_time_only(config: dict) -> None:
    raise AssertionError(f"stackable config sent to the one-at-a-time path: {config}")


def test_the_rows_span_several_chunks_and_passes() -> None:
    assert ROWS > 2 * CHUNK_ROWS and ROWS % CHUNK_ROWS and CHUNK_ROWS > PASS_ROWS and ROWS % PASS_ROWS


@pytest.mark.parametrize("model_name", ["jsc-tiny", "jsc-toy", "jsc-s"])
def test_lab_space_candidates_score_exactly_as_one_at_a_time(rows, model_name: str) -> None:
    """MASE's lab-3 space (integer linear layers, 2-8 bits): 24 random candidates, all stacked, all equal."""
    search = _search(_model(model_name, rows), rows, {"linear": LAB_SEED})
    scorer = StackedScorer(search.space.graph, search.runners)
    configs = _configs(search, 24, seed=7)
    stacked = scorer.score(configs, _one_at_a_time_only, search.measure_hardware)
    assert stacked == [search.measure(config) for config in configs]
    # the candidates differ, so equality says something
    assert len({software["accuracy"] for software, _ in stacked}) > 5
    assert len({software["loss"] for software, _ in stacked}) > 10  # jsc-tiny has 18 points


@pytest.mark.parametrize("model_name", ["jsc-tiny", "jsc-toy"])
def test_every_quantisable_op_and_float_nodes_score_exactly_as_one_at_a_time(rows, model_name: str) -> None:
    """Linear, relu and batch norm quantised or left in float, integer and fixed: 40 candidates, all equal."""
    search = _search(_model(model_name, rows, seed=3), rows, MIXED_SEEDS)
    scorer = StackedScorer(search.space.graph, search.runners)
    configs = _configs(search, 40, seed=11)
    assert all(scorer.unsupported(config) is None for config in configs)
    assert any(config[node]["config"]["name"] is None for config in configs for node in search.space.nodes
               if node.startswith("seq_blocks_2"))  # a float linear between quantised nodes is among them
    assert scorer.score(configs, _one_at_a_time_only, search.measure_hardware) == [search.measure(config) for config in configs]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(model_name=st.sampled_from(["jsc-tiny", "jsc-toy"]), weights=st.integers(0, 2),
       data_width=st.integers(2, 8), data_frac=st.integers(-1, 6), weight_width=st.integers(1, 8),
       weight_frac=st.integers(-1, 7), bias_width=st.integers(2, 16), bias_frac=st.integers(0, 12),
       relu=st.booleans(), candidates=st.integers(1, 12), pick=st.integers(0, 2**16))
def test_random_configs_score_exactly_as_one_at_a_time(rows, model_name, weights, data_width, data_frac,
                                                       weight_width, weight_frac, bias_width, bias_frac, relu,
                                                       candidates, pick) -> None:
    """Random widths and frac widths (negative ones too) around a drawn point: stacked == one at a time."""
    seed = {"name": ["integer"], "data_in_width": [data_width, 8],
            "data_in_frac_width": [min(data_frac, data_width), 4],
            "weight_width": [weight_width, 4], "weight_frac_width": [min(weight_frac, weight_width), 2],
            "bias_width": [bias_width], "bias_frac_width": [min(bias_frac, bias_width)]}
    seeds = {"linear": seed, **({"relu": {"name": ["integer", "NA"], "data_in_width": [data_width],
                                          "data_in_frac_width": [min(data_frac, data_width)]}} if relu else {})}
    search = _search(_model(model_name, rows, seed=weights), rows, seeds)
    scorer = StackedScorer(search.space.graph, search.runners)
    configs = _configs(search, candidates, seed=pick)
    assert scorer.score(configs, search.measure, search.measure_hardware) == [search.measure(config) for config in configs]


def test_candidates_it_cannot_stack_go_one_at_a_time_with_the_reason(rows) -> None:
    """Another format, a sum too wide for float32's exact integers, a refused config: scored by the fallback."""
    search = _search(_model("jsc-toy", rows), rows, {"linear": LAB_SEED})
    scorer = StackedScorer(search.space.graph, search.runners)
    stackable = _configs(search, 3, seed=5)
    minifloat = _configs(search, 1, seed=6)[0]
    minifloat["seq_blocks_5"]["config"] = {"name": "minifloat_ieee", "data_in_width": 8, "data_in_exponent_width": 4,
                                           "weight_width": 8, "weight_exponent_width": 4, "bias_width": 8,
                                           "bias_exponent_width": 4}
    wide = _configs(search, 1, seed=8)[0]
    wide["seq_blocks_2"]["config"].update(data_in_width=16, data_in_frac_width=8, weight_width=16,
                                          weight_frac_width=8)
    refused = _configs(search, 1, seed=9)[0]
    refused["seq_blocks_8"]["config"].update(weight_width=4, weight_frac_width=6)
    reason = scorer.unsupported(minifloat)
    assert "minifloat_ieee" in reason and "not a fixed-point format" in reason
    assert "beyond float32's exact integers" in scorer.unsupported(wide)
    assert scorer.unsupported(refused) == search.measure(refused)  # the quantise pass's own message
    assert "frac_width 6 is larger than width 4" in scorer.unsupported(refused)
    fallen: list[dict] = []
    configs = [stackable[0], minifloat, stackable[1], wide, refused, stackable[2]]
    scored = scorer.score(configs, lambda config: fallen.append(config) or search.measure(config),
                          search.measure_hardware)
    assert fallen == [minifloat, wide, refused]
    assert scored == [search.measure(config) for config in configs]
    assert isinstance(scored[4], str)


def test_graphs_and_settings_it_cannot_stack_are_named(rows) -> None:
    """Training-mode evaluation and graphs with other ops are refused with the reason (the search then
    scores one at a time)."""
    search = _search(_model("jsc-toy", rows), rows, {"linear": LAB_SEED}, eval_mode=False)
    assert stacking_obstacle(search.space.graph, search.runners) == \
        "eval_mode = false evaluates batch norm on each chunk's statistics"

    class Residual(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(16, 16)
            self.out = nn.Linear(16, 5)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.out(self.fc(x) + x)

    residual = _search(Residual().eval(), rows, {"linear": LAB_SEED})
    assert stacking_obstacle(residual.space.graph, residual.runners) == \
        "node add (add, call_function) is not a linear, batch_norm1d or relu module"
    with pytest.raises(ValueError, match="node add"):
        StackedScorer(residual.space.graph, residual.runners)


def test_candidates_that_agree_on_a_prefix_share_its_lanes(rows) -> None:
    """Forty candidates of jsc-toy: the float prefix is one lane, the first linear at most its 18 configs."""
    from chop.search.stacked import _programs

    search = _search(_model("jsc-toy", rows), rows, {"linear": LAB_SEED})
    scorer = StackedScorer(search.space.graph, search.runners)
    parsed = [scorer.node_configs(config) for config in _configs(search, 40, seed=2)]
    lanes = {p.step.node: len(p.lanes) for p in _programs(scorer.plan, parsed)}
    assert lanes["seq_blocks_0"] == lanes["seq_blocks_1"] == 1  # batch norm and relu before any quantiser
    assert 1 < lanes["seq_blocks_2"] <= 18 and lanes["seq_blocks_3"] == lanes["seq_blocks_2"]
    distinct = len({tuple(sorted((k, repr(v)) for k, v in p.items())) for p in parsed})
    assert lanes[scorer.plan.steps[scorer.plan.output].node] == distinct  # one lane per distinct candidate at the end
