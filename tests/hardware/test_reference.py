"""The integer reference against exact rational arithmetic, and the helpers that compare it with PyTorch."""

from __future__ import annotations

from fractions import Fraction

import pytest
import torch
from prepare_helpers import INTEGER_8_4, calibrated, jsc_test_rows, quantised
from torch import Tensor, fx, nn

from chop.errors import HardwareError
from chop.hardware.fixed import FixedFormat
from chop.hardware.ops import FixedInput, FixedLinear, FixedReLU, HardwareOp
from chop.hardware.prepare import prepare
from chop.hardware.reference import (
    IntegerReference,
    accuracy_before_after,
    integer_reference,
    mismatches,
    output_format,
)

IN, WEIGHT, ACC, OUT = FixedFormat(6, 3), FixedFormat(5, 2), FixedFormat(16, 5), FixedFormat(5, 1, signed=False)


def _round_half_even(value: Fraction) -> int:
    floor = value.numerator // value.denominator
    rest = value - floor
    return floor + int(rest > Fraction(1, 2) or (rest == Fraction(1, 2) and floor % 2 == 1))


def _code(value: Fraction, fmt: FixedFormat) -> int:
    return min(max(_round_half_even(value * 2**fmt.frac), fmt.lo), fmt.hi)


class _TwinsAsLeaves(fx.Tracer):
    """fx traces into any module that is not torch's own; twins must stay one call each."""

    def is_leaf_module(self, module: nn.Module, qualname: str) -> bool:
        return isinstance(module, HardwareOp) or super().is_leaf_module(module, qualname)


def _trace(chain: nn.Sequential) -> fx.GraphModule:
    return fx.GraphModule(chain, _TwinsAsLeaves().trace(chain))


def _hand_built() -> fx.GraphModule:
    torch.manual_seed(0)
    weight = torch.randint(WEIGHT.lo, WEIGHT.hi + 1, (3, 4))
    bias = torch.randint(-200, 200, (3,))
    chain = nn.Sequential(FixedInput(IN), FixedLinear(weight, bias, IN, WEIGHT, ACC, OUT), FixedReLU(OUT, OUT),
                          nn.Flatten())
    return _trace(chain)


def test_integer_reference_is_exact_rational_arithmetic() -> None:
    module = _hand_built()
    linear = module.get_submodule("1")
    x = torch.randn(60, 4, dtype=torch.float64) * 3
    expected = []
    for row in x.tolist():
        codes = [_code(Fraction(v), IN) for v in row]
        sums = [sum(Fraction(c, 2**IN.frac) * Fraction(w, 2**WEIGHT.frac) for c, w in zip(codes, ws))
                + Fraction(b, 2**ACC.frac) for ws, b in zip(linear.weight.tolist(), linear.bias.tolist())]
        expected.append([max(_code(s, OUT), 0) for s in sums])
    got = integer_reference(module, x)
    assert got.dtype == torch.int64 and got.tolist() == expected
    assert len({tuple(r) for r in expected}) > 20
    assert output_format(module) == OUT  # through the trailing flatten
    assert mismatches(module, x) == 0


class OffByOneStep(FixedReLU):
    """A broken twin: its PyTorch form adds one output step wherever the first input is positive."""

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(x) + (x[..., :1] > 0) * self.out_format.step


def test_mismatches_counts_the_rows_that_differ() -> None:
    module = _hand_built()
    x = torch.randn(80, 4, dtype=torch.float64) * 3
    broken = _trace(nn.Sequential(*(module.get_submodule(str(i)) for i in range(2)), OffByOneStep(OUT, OUT)))
    with torch.no_grad():
        positive = int((module.get_submodule("1")(module.get_submodule("0")(x))[:, 0] > 0).sum())
    assert 0 < positive < 80
    assert mismatches(broken, x) == positive


def test_reference_refuses_a_module_that_is_no_twin() -> None:
    module = _trace(nn.Sequential(FixedInput(IN), nn.Linear(4, 2)))
    with pytest.raises(HardwareError, match=r"^module '1' \(Linear\) is no hardware twin; run "
                                            r"prepare_hardware_transform_pass on the quantised graph first$"):
        IntegerReference(module).run(torch.randn(2, 4))


def test_accuracy_before_and_after_preparation() -> None:
    graph = quantised(calibrated("jsc-toy", seed=11), INTEGER_8_4)
    prepared = prepare(graph.model).module
    x, y = jsc_test_rows(1000)
    report = accuracy_before_after(graph, prepared, x, y)
    with torch.no_grad():
        before = graph.model(x).argmax(1)
    after = integer_reference(prepared, x).argmax(1)
    assert report["rows"] == 1000
    assert report["quantised_accuracy"] == pytest.approx(float((before == y).double().mean()), abs=1e-12)
    assert report["prepared_accuracy"] == pytest.approx(float((after == y).double().mean()), abs=1e-12)
    assert report["differing_rows"] == [i for i in range(1000) if before[i] != after[i]]
    # folding the three batch norms drops their input rounding: some predictions move, most stay
    assert 0 < len(report["differing_rows"]) < 300


def test_no_rows_differ_where_preparation_changes_nothing() -> None:
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(16, 12), nn.ReLU(), nn.Linear(12, 5)).eval()
    graph = quantised(model, INTEGER_8_4)
    x, y = jsc_test_rows(1000)
    report = accuracy_before_after(graph.model, prepare(graph.model).module, x, y)
    assert report["differing_rows"] == [] and report["quantised_accuracy"] == report["prepared_accuracy"]
