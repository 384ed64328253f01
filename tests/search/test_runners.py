"""The runners against independent references: plain accuracy/loss, and bit widths from parameter counts."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chop.passes.graph.transforms.quantize import quantize_transform_pass
from chop.workflows.transform import dummy_input, graph_with_metadata
from chop.search.runners import average_bitwidth, basic_evaluation, evaluation_rows

LINEARS = (2, 5, 8)  # jsc-toy's linear layers: seq_blocks_2 (16->8), _5 (8->8), _8 (8->5)


@pytest.fixture
def toy_graph(toy_model, splits):
    return graph_with_metadata(toy_model, dummy_input(toy_model, splits.x_train))


def _quantise(graph, weight_widths: dict[int, int | None]):
    """Quantise the linear layers by name; None leaves a layer in float."""
    config = {"by": "name", "default": {"config": {"name": None}}}
    for index, width in weight_widths.items():
        config[f"seq_blocks_{index}"] = {"config": {"name": None} if width is None else {
            "name": "integer", "data_in_width": 8, "weight_width": width, "bias_width": 8}}
    quantised, _ = quantize_transform_pass(copy.deepcopy(graph), config)
    return quantised


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(widths=st.tuples(*[st.one_of(st.none(), st.integers(2, 16))] * 3),
       compare_to=st.sampled_from([32, 16, 8]))
def test_average_bitwidth_is_the_weight_count_weighted_mean_width(toy_model, toy_graph, widths, compare_to) -> None:
    quantised = _quantise(toy_graph, dict(zip(LINEARS, widths)))
    # reference: parameter counts of the float model's weights x the widths asked for (float = 32 bits)
    counts = [toy_model.seq_blocks[i].weight.numel() for i in LINEARS]
    assert counts == [128, 64, 40]
    expected = sum(n * (32 if w is None else w) for n, w in zip(counts, widths)) / sum(counts)
    metrics = average_bitwidth(quantised, compare_to)
    assert metrics["average_bitwidth"] == pytest.approx(expected, rel=1e-12)
    # MASE: memory_density = compare_to / average_bitwidth
    assert metrics["memory_density"] == pytest.approx(compare_to / expected, rel=1e-12)


def test_average_bitwidth_is_32_for_an_all_float_model_and_the_width_when_all_share_one(toy_graph) -> None:
    assert average_bitwidth(toy_graph, 32) == {"average_bitwidth": 32.0, "memory_density": 1.0}
    assert average_bitwidth(_quantise(toy_graph, {2: 4, 5: 4, 8: 4}), 32) == {"average_bitwidth": 4.0,
                                                                             "memory_density": 8.0}


@pytest.mark.parametrize(("split", "rows"), [("validation", 200), ("train", 64), ("test", 10_000)])
def test_basic_evaluation_is_plain_accuracy_and_mean_loss_on_the_first_rows(toy_graph, splits, split, rows) -> None:
    quantised = _quantise(toy_graph, {2: 3, 5: 4, 8: None})
    metrics = basic_evaluation(quantised.model, evaluation_rows(splits, split, rows, (16,)))
    x, y = {"validation": (splits.x_val, splits.y_val), "train": (splits.x_train, splits.y_train),
            "test": (splits.x_test, splits.y_test)}[split]
    x, y = torch.from_numpy(x[:rows]), torch.from_numpy(y[:rows])  # rows beyond the split: all of it
    with torch.no_grad():
        logits = quantised.model.eval()(x)
    reference = (logits.argmax(1) == y).float().mean().item()
    assert metrics["accuracy"] == pytest.approx(reference, abs=1e-7)  # float32 mean
    assert metrics["loss"] == pytest.approx(F.cross_entropy(logits, y).item(), rel=1e-6)
    float_metrics = basic_evaluation(toy_graph.model, evaluation_rows(splits, split, rows, (16,)))
    assert float_metrics != metrics  # 3- and 4-bit weights change the outputs


def test_eval_mode_false_evaluates_batch_norm_with_batch_statistics_as_mase(toy_graph, splits) -> None:
    rows = evaluation_rows(splits, "validation", 128, (16,))
    reference = copy.deepcopy(toy_graph.model).train()
    with torch.no_grad():
        logits = reference(torch.from_numpy(splits.x_val[:128]))
    expected = (logits.argmax(1) == torch.from_numpy(splits.y_val[:128])).float().mean().item()
    assert basic_evaluation(copy.deepcopy(toy_graph.model), rows, eval_mode=False)["accuracy"] == pytest.approx(
        expected, abs=1e-7)
    train_loss = basic_evaluation(copy.deepcopy(toy_graph.model), rows, eval_mode=False)["loss"]
    assert basic_evaluation(copy.deepcopy(toy_graph.model), rows)["loss"] != pytest.approx(train_loss)


def test_num_samples_above_the_split_size_warns_naming_both(splits, caplog: pytest.LogCaptureFixture) -> None:
    rows = evaluation_rows(splits, "validation", 512, (16,))
    assert len(rows.y) == 300
    assert caplog.messages == ["[search.strategy.sw_runner.basic_evaluation] num_samples = 512 is more than the 300 "
                               "rows of the validation split of jsc; every trial is evaluated on those 300 rows"]
    caplog.clear()
    assert len(evaluation_rows(splits, "validation", 300, (16,)).y) == 300 and not caplog.messages
