"""The mixed-precision space: flattening as MASE does, points as quantise-pass configs, seed checks."""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from search_tables import LINEAR_SEED, search_table

from chop.errors import ConfigError
from chop.passes.graph.transforms.quantize import quantize_transform_pass
from chop.workflows.transform import dummy_input, graph_with_metadata
from chop.search.config import parse_search_config
from chop.search.space import MixedPrecisionSpace

TOY_NODES = [f"seq_blocks_{i}" for i in range(11)]
TOY_LINEARS = ["seq_blocks_2", "seq_blocks_5", "seq_blocks_8"]


@pytest.fixture
def toy_graph(toy_model, splits):
    return graph_with_metadata(toy_model, dummy_input(toy_model, splits.x_train))


def _space(graph, table) -> MixedPrecisionSpace:
    return MixedPrecisionSpace(parse_search_config(table, "s.toml").space, graph, "s.toml")


def test_by_type_gives_every_linear_its_own_copy_of_the_seed(toy_graph) -> None:
    space = _space(toy_graph, search_table(by="type"))
    expected = []
    for node in TOY_NODES:
        keys = LINEAR_SEED if node in TOY_LINEARS else {"name": ["NA"]}
        expected += [(f"{node}/config/{key}", tuple(None if v == "NA" else v for v in values))
                     for key, values in keys.items()]
    assert [(c.name, c.values) for c in space.choices] == expected
    # per linear: 2 data_in widths x 3 weight widths; three independent linears
    assert space.size == (2 * 3) ** 3 == 216
    points = list(space.points())
    assert len(points) == 216
    assert len({tuple(sorted(p.items())) for p in points}) == 216


def test_by_name_uses_node_seeds_and_ignores_op_seeds_as_mase_does(toy_graph) -> None:
    """MASE's lab TOML has both a `linear` and a `seq_blocks_2` seed; with by = "name" only the node one applies."""
    seeds = {"default": {"name": ["NA"]}, "linear": LINEAR_SEED,
             "seq_blocks_5": {"name": ["integer"], "weight_width": [3, 5], "data_in_width": [8], "bias_width": [8]}}
    space = _space(toy_graph, search_table(by="name", seeds=seeds))
    varied = {c.name: c.values for c in space.choices if len(c.values) > 1}
    assert varied == {"seq_blocks_5/config/weight_width": (3, 5)}
    assert space.size == 2
    configs = [space.pass_config(p) for p in space.points()]
    assert [c["seq_blocks_5"]["config"]["weight_width"] for c in configs] == [3, 5]
    assert all(c["seq_blocks_2"] == {"config": {"name": None}} for c in configs)
    assert configs[0]["by"] == "name" and configs[0]["default"] == {"config": {"name": None}}


def test_nodes_without_a_seed_or_default_stay_float(toy_graph) -> None:
    space = _space(toy_graph, search_table(by="type", seeds={"linear": LINEAR_SEED}))
    assert {c.node for c in space.choices} == set(TOY_LINEARS)
    config = space.pass_config(next(space.points()))
    assert config["seq_blocks_0"] == {"config": {"name": None}}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_a_sampled_point_quantises_each_linear_to_its_sampled_widths(toy_graph, data) -> None:
    seed = dict(LINEAR_SEED, bias_width=[4, 6, 8])
    space = _space(toy_graph, search_table(by="type", seeds={"default": {"name": ["NA"]}, "linear": seed}))
    point = {c.name: data.draw(st.integers(0, len(c.values) - 1), label=c.name) for c in space.choices}
    graph, _ = quantize_transform_pass(copy.deepcopy(toy_graph), space.pass_config(point))
    for node in graph.nodes:
        common = node.meta["mase"]["common"]
        if node.name not in TOY_LINEARS:
            assert all(arg["type"] == "float" for arg in common["args"].values() if hasattr(arg, "keys")), node.name
            continue
        widths = {key: seed[key][point[f"{node.name}/config/{key}"]]
                  for key in ("data_in_width", "weight_width", "bias_width")}
        # "NA" frac widths are width // 2 (MASE)
        for arg, key in (("data_in_0", "data_in_width"), ("weight", "weight_width"), ("bias", "bias_width")):
            assert common["args"][arg]["type"] == "integer"
            assert common["args"][arg]["precision"] == [widths[key], widths[key] // 2], (node.name, arg)


def test_seed_naming_no_node_or_op_lists_the_known_ones(toy_graph) -> None:
    seeds = {"default": {"name": ["NA"]}, "seq_blocks_22": LINEAR_SEED}
    with pytest.raises(ConfigError) as caught:
        _space(toy_graph, search_table(by="name", seeds=seeds))
    text = str(caught.value)
    assert text.startswith("s.toml: [search.search_space.seed.seq_blocks_22] names no quantisable node or op")
    assert "(did you mean 'seq_blocks_2'?)" in text
    assert "ops: batch_norm1d, linear, relu" in text and "seq_blocks_10" in text and "\n" not in text


def test_a_choice_that_never_works_is_an_error_before_the_search(toy_graph) -> None:
    seeds = {"linear": dict(LINEAR_SEED, weight_width=[8, "8"])}
    with pytest.raises(ConfigError, match=r'\[search\.search_space\.seed\.linear\.config\] weight_width choice "8" '
                                          r"gives no usable config for node seq_blocks_2: .*width must be int"):
        _space(toy_graph, search_table(seeds=seeds))
    seeds = {"linear": dict(LINEAR_SEED, weight_wdth=[8])}
    with pytest.raises(ConfigError, match=r"unknown key 'weight_wdth' for quantizer 'integer' "
                                          r"\(did you mean 'weight_width'\?\)"):
        _space(toy_graph, search_table(seeds=seeds))


def test_a_choice_usable_in_some_combinations_is_kept(toy_graph) -> None:
    """Frac width 3 fits widths 4 and 8, not 2; width 2 works with frac width 1: every choice stays.

    Trials that pair width 2 with frac width 3 are skipped when sampled (see test_strategy).
    """
    seeds = {"linear": dict(LINEAR_SEED, weight_frac_width=[1, 3])}
    space = _space(toy_graph, search_table(seeds=seeds))
    assert space.size == (2 * 3 * 2) ** 3
    seeds = {"linear": dict(LINEAR_SEED, weight_frac_width=[3])}
    with pytest.raises(ConfigError, match=r"weight_width choice 2 gives no usable config for node seq_blocks_2: "
                                          r"node seq_blocks_2 \(linear\): weight_frac_width 3 is larger than width 2"):
        _space(toy_graph, search_table(seeds=seeds))
