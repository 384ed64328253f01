"""The statistics profiler: MASE's lab-2 numbers, batched == per-sample, and clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from chop.errors import PassError
from chop.models import get_model
from chop.passes.graph.analysis import profile_statistics_analysis_pass

LAB_ARGS = {
    "by": "type",
    "target_weight_nodes": ["linear"],
    "target_activation_nodes": ["relu"],
    "weight_statistics": {"variance_precise": {"device": "cpu", "dims": "all"}},
    "activation_statistics": {"range_quantile": {"device": "cpu", "dims": "all", "quantile": 0.97}},
    "num_samples": 32,
}
ALL_STATS = {
    "variance_precise": {"dims": "all"}, "variance_online": {"dims": "all"}, "range_min_max": {"dims": "all"},
    "range_quantile": {"dims": "all", "quantile": 0.9}, "range_n_sigma": {"dims": "all", "num_sigma": 2},
    "abs_mean": {"dims": "all"},
}


def batches(x: torch.Tensor, size: int) -> list[dict[str, torch.Tensor]]:
    return [{"x": x[i:i + size]} for i in range(0, len(x), size)]


@pytest.fixture
def trained_tiny(make_graph):
    """jsc-tiny with non-trivial batch-norm statistics and its traced graph."""
    torch.manual_seed(1)
    model = get_model("jsc-tiny")
    bn = model.seq_blocks[0]
    bn.running_mean.uniform_(-0.5, 0.5)
    bn.running_var.uniform_(0.5, 2.0)
    torch.nn.init.uniform_(bn.weight, 0.5, 1.5)
    torch.nn.init.uniform_(bn.bias, -0.2, 0.2)
    return model, make_graph(model, torch.randn(8, 16), add_value=False)


def numpy_forward(model, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two relu inputs of jsc-tiny in eval mode, computed with numpy only."""
    bn, linear = model.seq_blocks[0], model.seq_blocks[2]
    p = {k: v.detach().double().numpy() for k, v in bn.state_dict().items() if v.dtype.is_floating_point}
    relu1_in = (x - p["running_mean"]) / np.sqrt(p["running_var"] + bn.eps) * p["weight"] + p["bias"]
    relu2_in = np.maximum(relu1_in, 0) @ linear.weight.detach().double().numpy().T + linear.bias.detach().double().numpy()
    return relu1_in, relu2_in


def test_lab2_counts_and_values(trained_tiny) -> None:
    model, mg = trained_tiny
    x = torch.randn(40, 16)
    mg, info = profile_statistics_analysis_pass(mg, {**LAB_ARGS, "input_generator": batches(x, 8)})
    software = {n.name: n.meta["mase"].parameters["software"] for n in mg.nodes}

    weight = software["seq_blocks_2"]["args"]["weight"]["stat"]["variance_precise"]
    bias = software["seq_blocks_2"]["args"]["bias"]["stat"]["variance_precise"]
    w = model.seq_blocks[2].weight.detach().double().numpy()
    b = model.seq_blocks[2].bias.detach().double().numpy()
    assert (weight["count"], bias["count"]) == (80, 5)
    assert weight["mean"] == pytest.approx(w.mean(), rel=1e-9) and weight["variance"] == pytest.approx(w.var(ddof=1), rel=1e-9)
    assert bias["mean"] == pytest.approx(b.mean(), rel=1e-9) and bias["variance"] == pytest.approx(b.var(ddof=1), rel=1e-9)

    relu1_in, relu2_in = numpy_forward(model, x[:32].double().numpy())
    for name, reference, count in (("seq_blocks_1", relu1_in, 512), ("seq_blocks_3", relu2_in, 160)):
        stat = software[name]["args"]["data_in_0"]["stat"]["range_quantile"]
        assert stat["count"] == count
        low, high = np.quantile(reference, 0.03), np.quantile(reference, 0.97)
        assert stat["min"] == pytest.approx(low, abs=1e-5) and stat["max"] == pytest.approx(high, abs=1e-5)
        assert stat["range"] == pytest.approx(high - low, abs=1e-5)
        assert isinstance(stat["min"], float)
    assert info["activations"]["seq_blocks_1"]["data_in_0"]["range_quantile"]["count"] == 512
    assert software["seq_blocks_1"]["results"]["data_out_0"]["stat"] == {}


def per_sample_reference(stats: dict, tensors: list[torch.Tensor]) -> dict:
    """MASE's way: every sample fed alone to a fresh statistic."""
    from chop.passes.graph.analysis.statistics import make_statistic

    out = {}
    for name, options in stats.items():
        statistic = make_statistic(name, options, "test")
        for tensor in tensors:
            for row in tensor:
                statistic.update(row.unsqueeze(0))
        out[name] = statistic.compute()
    return out


@pytest.mark.parametrize("dims", ["all", None])
def test_batched_equals_per_sample(trained_tiny, dims) -> None:
    model, mg = trained_tiny
    stats = {name: {**options, "dims": dims} for name, options in ALL_STATS.items()}
    x = torch.randn(45, 16)
    mg, info = profile_statistics_analysis_pass(mg, {
        "by": "name", "target_activation_nodes": ["seq_blocks_3"], "activation_statistics": stats,
        "input_generator": batches(x, 7), "num_samples": 45})
    model.eval()
    with torch.no_grad():
        relu2_in = model.seq_blocks[2](model.seq_blocks[1](model.seq_blocks[0](x)))
    reference = per_sample_reference(stats, [relu2_in])
    got = info["activations"]["seq_blocks_3"]["data_in_0"]
    for name in stats:
        assert got[name]["count"] == (45 * 5 if dims == "all" else 45)
        for key, value in reference[name].items():
            np.testing.assert_allclose(got[name][key], value, rtol=1e-6, atol=1e-7, err_msg=f"{name}.{key}")


def test_num_samples_cuts_the_last_batch(trained_tiny) -> None:
    _, mg = trained_tiny
    x = torch.randn(64, 16)
    mg, info = profile_statistics_analysis_pass(mg, {
        "by": "name", "target_activation_nodes": ["seq_blocks_1"],
        "activation_statistics": {"range_min_max": {}}, "input_generator": batches(x, 16), "num_samples": 20})
    stat = info["activations"]["seq_blocks_1"]["data_in_0"]["range_min_max"]
    assert stat["count"] == 20 * 16


def test_profiling_leaves_batch_norm_statistics_alone(trained_tiny) -> None:
    model, mg = trained_tiny
    mg.model.train()
    before = mg.modules["seq_blocks.0"].running_mean.clone()
    profile_statistics_analysis_pass(mg, {**LAB_ARGS, "input_generator": batches(torch.randn(32, 16) + 3, 8)})
    assert torch.equal(mg.modules["seq_blocks.0"].running_mean, before) and mg.model.training


def test_plot_is_a_png(trained_tiny, tmp_path: Path) -> None:
    _, mg = trained_tiny
    path = tmp_path / "profile.png"
    _, info = profile_statistics_analysis_pass(mg, {**LAB_ARGS, "input_generator": batches(torch.randn(32, 16), 8),
                                                    "plot_path": str(path)})
    assert info["plot_path"] == str(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000


@pytest.mark.parametrize(("change", "message"), [
    ({"target_activation_nodes": ["reul"]}, r"'reul' matches no node by type: unknown mase op 'reul' \(did you mean 'relu'\?\)"),
    ({"by": "name", "target_weight_nodes": ["seq_blocks_9"]}, r"'seq_blocks_9' matches no node by name"),
    ({"activation_statistics": {"range_quantle": {}}}, r"unknown statistic 'range_quantle' \(did you mean 'range_quantile'\?\)"),
    ({"weight_statistics": {"abs_mean": {"quantile": 0.5}}}, r"statistic 'abs_mean' got bad options \['quantile'\]"),
    ({"num_samples": 48}, r"input_generator ran dry after 40 of 48 samples"),
    ({"by": "regex"}, r"by must be 'type' or 'name', got 'regex'"),
    ({"num_samples": 0}, r"num_samples must be a positive integer, got 0"),
    ({"input_generator": None}, r"activation statistics need an input_generator"),
])
def test_errors_never_exit(trained_tiny, change, message) -> None:
    _, mg = trained_tiny
    args = {**LAB_ARGS, "input_generator": batches(torch.randn(40, 16), 8), **change}
    with pytest.raises(PassError, match=message):
        profile_statistics_analysis_pass(mg, args)
