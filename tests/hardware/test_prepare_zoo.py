"""Every JSC zoo model, quantised two ways and prepared: prepared PyTorch == integer reference on 1,000 test rows.

The two computations are independent: the prepared module runs each twin's float64 ``forward``
(fake quantisation at each edge), the integer reference each twin's ``integer_forward`` (int64
codes, shifts, round-half-even). The accumulators are checked against their formats on every row
with a third computation (an int64 matrix product of the recorded input codes).
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from prepare_helpers import INTEGER_8_4, WEIGHTS_4_BIT, jsc_test_rows, calibrated, quantised
from torch import Tensor, fx

from chop.hardware.ops import FixedAdd, FixedAffine, FixedLinear, HardwareOp
from chop.hardware.prepare import prepare
from chop.hardware.reference import IntegerReference, integer_reference, mismatches, output_format

ROWS = 1000
ZOO = ["jsc-tiny", "jsc-toy", "jsc-s", "jsc-three-linear"]
# BatchNorm nodes of each model: the input one becomes an affine op (a ReLU follows it), the others fold
FOLDS = {"jsc-tiny": [], "jsc-toy": [("seq_blocks_3", "seq_blocks_2"), ("seq_blocks_6", "seq_blocks_5"),
                                     ("seq_blocks_9", "seq_blocks_8")],
         "jsc-s": [("seq_blocks_3", "seq_blocks_2"), ("seq_blocks_12", "seq_blocks_11")], "jsc-three-linear": []}


class RecordingReference(IntegerReference):
    """The integer reference, keeping the input codes each twin received."""

    def __init__(self, module: fx.GraphModule) -> None:
        super().__init__(module)
        self.inputs: dict[str, tuple[Tensor, ...]] = {}

    def call_module(self, target: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        self.inputs[str(target)] = args
        return super().call_module(target, args, kwargs)


def accumulators(twin: HardwareOp, codes: tuple[Tensor, ...]) -> Tensor:
    """The exact accumulator values, by an int64 matrix product (not the twin's own arithmetic)."""
    if isinstance(twin, FixedLinear):
        return codes[0] @ twin.weight.T * 2**twin.product_shift + twin.bias
    if isinstance(twin, FixedAffine):
        return codes[0] * twin.scale * 2**twin.product_shift + twin.shift
    assert isinstance(twin, FixedAdd)
    frac = twin.acc_format.frac
    return codes[0] * 2 ** (frac - twin.a_format.frac) + codes[1] * 2 ** (frac - twin.b_format.frac)


@pytest.mark.parametrize("config", [INTEGER_8_4, WEIGHTS_4_BIT], ids=["integer-8-4", "weights-4-bit"])
@pytest.mark.parametrize("name", ZOO)
def test_zoo_model_is_bit_exact_on_the_test_split(name: str, config: dict[str, Any]) -> None:
    graph = quantised(calibrated(name, seed=ZOO.index(name)), config)
    preparation = prepare(graph.model)
    prepared = preparation.module
    x, _ = jsc_test_rows(ROWS)
    reference = integer_reference(prepared, x)
    with torch.no_grad():
        reals = prepared(x)
    assert reference.shape == (ROWS, 5) and reference.dtype == torch.int64
    assert torch.equal(reals * 2.0 ** output_format(prepared).frac, reference.to(torch.float64))
    assert mismatches(prepared, x) == 0
    assert len(reference.unique(dim=0)) > 300  # hundreds of different output rows: the comparison has teeth
    assert [(f["batch_norm"], f["into"]) for f in preparation.info["folded"]] == FOLDS[name]
    assert preparation.info["affine"] == ["seq_blocks_0"]
    recorder = RecordingReference(prepared)
    recorder.run(x)
    twins = {target: prepared.get_submodule(target) for target in recorder.inputs}
    checked = 0
    for target, twin in twins.items():
        if isinstance(twin, (FixedLinear, FixedAffine, FixedAdd)):
            values = accumulators(twin, recorder.inputs[target])
            assert twin.acc_format.lo <= int(values.min()) and int(values.max()) <= twin.acc_format.hi, target
            checked += 1
    assert checked == {"jsc-tiny": 2, "jsc-toy": 4, "jsc-s": 6, "jsc-three-linear": 4}[name]
