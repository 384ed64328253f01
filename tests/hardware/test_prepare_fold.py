"""Batch-norm folding: the algebra against torch's own BatchNorm1d in float, and the float folding pass."""

from __future__ import annotations

import copy

import pytest
import torch
from prepare_helpers import INTEGER_8_4, calibrated, graph_of, jsc_test_rows, quantised
from torch import nn

from chop.errors import PassError
from chop.hardware.prepare import batch_norm_affine, fold_batch_norms, prepare
from chop.passes.graph.transforms import fold_batchnorm_transform_pass


def _batch_norm(channels: int, seed: int) -> nn.BatchNorm1d:
    generator = torch.Generator().manual_seed(seed)
    bn = nn.BatchNorm1d(channels, eps=1e-3).double()
    bn.running_mean.copy_(torch.randn(channels, generator=generator, dtype=torch.float64))
    bn.running_var.copy_(torch.rand(channels, generator=generator, dtype=torch.float64) + 0.1)
    bn.weight.data.copy_(torch.randn(channels, generator=generator, dtype=torch.float64))
    bn.bias.data.copy_(torch.randn(channels, generator=generator, dtype=torch.float64))
    return bn.eval()


def _linear(n_in: int, n_out: int, seed: int) -> nn.Linear:
    torch.manual_seed(seed)
    return nn.Linear(n_in, n_out).double()


def test_batch_norm_is_the_affine_map() -> None:
    bn = _batch_norm(6, seed=1)
    z = torch.randn(50, 6, dtype=torch.float64)
    affine = batch_norm_affine(bn, "bn")
    with torch.no_grad():
        assert torch.allclose(affine.scale * z + affine.shift, bn(z), rtol=0, atol=1e-12)


@pytest.mark.parametrize("sides", [("after",), ("before",), ("before", "after")])
def test_folded_linear_computes_what_linear_and_batch_norm_compute(sides: tuple[str, ...]) -> None:
    linear, first, last = _linear(5, 4, seed=2), _batch_norm(5, seed=3), _batch_norm(4, seed=4)
    chain = nn.Sequential(*([first] if "before" in sides else []), linear, *([last] if "after" in sides else []))
    weight, bias = fold_batch_norms(linear.weight, linear.bias,
                                    batch_norm_affine(first, "first") if "before" in sides else None,
                                    batch_norm_affine(last, "last") if "after" in sides else None)
    x = torch.randn(64, 5, dtype=torch.float64) * 3
    with torch.no_grad():
        assert torch.allclose(x @ weight.T + bias, chain(x), rtol=0, atol=1e-12)


def test_quantised_gamma_and_beta_replace_the_batch_norms_own() -> None:
    bn = _batch_norm(3, seed=5)
    gamma, beta = torch.tensor([0.5, -1.0, 2.0]), torch.tensor([0.25, 0.0, -0.5])
    affine = batch_norm_affine(bn, "bn", gamma, beta)
    expected = gamma.double() / torch.sqrt(bn.running_var + bn.eps)
    assert torch.equal(affine.scale, expected)
    assert torch.equal(affine.shift, beta.double() - bn.running_mean * expected)


def test_fold_pass_gives_the_same_model_without_batch_norms() -> None:
    model = calibrated("jsc-toy", seed=7)
    graph = graph_of(model)
    before = copy.deepcopy(model.state_dict())
    folded, info = fold_batchnorm_transform_pass(graph)
    assert info["folded"] == [{"batch_norm": f"seq_blocks_{bn}", "into": f"seq_blocks_{bn - 1}", "side": "after"}
                              for bn in (3, 6, 9)]
    assert [node.name for node in folded.nodes] == ["x", "seq_blocks_0", "seq_blocks_1", "seq_blocks_2", "seq_blocks_4",
                                                    "seq_blocks_5", "seq_blocks_7", "seq_blocks_8", "seq_blocks_10",
                                                    "output"]
    x, _ = jsc_test_rows(1000)
    with torch.no_grad():
        assert torch.allclose(folded.model(x), graph.model(x), rtol=0, atol=1e-5)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # the input graph is untouched
    assert folded.node("seq_blocks_2").meta["mase"]["common"]["mase_op"] == "linear"  # metadata for the next pass
    # quantising the folded graph leaves preparation nothing to fold
    assert prepare(quantised(folded.model, INTEGER_8_4).model).info["folded"] == []


def test_batch_norm_before_a_linear_folds_into_it() -> None:
    model = nn.Sequential(_batch_norm(4, seed=8).float(), nn.Linear(4, 3), nn.ReLU()).eval()
    folded, info = fold_batchnorm_transform_pass(graph_of(model, torch.randn(2, 4)))
    assert info["folded"] == [{"batch_norm": "_0", "into": "_1", "side": "before"}]
    x = torch.randn(100, 4)
    with torch.no_grad():
        assert torch.allclose(folded.model(x), model(x), rtol=0, atol=1e-5)


def test_fold_pass_refuses_a_quantised_graph() -> None:
    graph = quantised(calibrated("jsc-toy", seed=7), INTEGER_8_4)
    with pytest.raises(PassError, match=r"^fold_batchnorm_transform_pass: node 'seq_blocks_2' is already quantised; "
                                        r"fold before quantising \(prepare_hardware_transform_pass folds quantised "
                                        r"graphs itself\)$"):
        fold_batchnorm_transform_pass(graph)
