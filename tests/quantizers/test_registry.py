"""Quantiser configs: defaults, one-line errors naming the key, and vmap / grad compatibility."""

from __future__ import annotations

import pytest
import torch
from torch.func import grad, vmap

from chop.errors import PassError
from chop.quantizers import integer_quantizer, make_quantizer


def test_defaults_are_resolved_once() -> None:
    q = make_quantizer("minifloat_ieee", {"width": 8, "exponent_width": 4})
    assert dict(q.params) == {"width": 8, "exponent_width": 4, "exponent_bias": 7}
    assert q.precision() == [8, 4, 7]
    assert q.value_range() == (-240.0, 240.0)
    a = make_quantizer("ap_fixed", {"width": 8, "int_width": 3, "rounding": "AP_RND", "overflow": "sat"})
    assert str(a) == "ap_fixed<8,3,AP_RND,AP_SAT>" and a.precision() == [8, 3]
    assert make_quantizer("integer", {"width": 8, "frac_width": 4}, signed=False).value_range() == (0.0, 15.9375)


@pytest.mark.parametrize(("name", "values", "message"), [
    ("integer", {"frac_width": 4}, "weight_width is required by quantizer 'integer'"),
    ("integer", {"width": 0}, "weight_width must be a positive integer, got 0"),
    ("integer", {"width": 8, "frac_width": 9}, "weight_frac_width 9 is larger than width 8"),
    ("integer", {"width": 8.5}, "weight_width must be int, got 8.5"),
    ("ap_fixed", {"width": 8, "int_width": 4, "rounding": "ROUND"}, "unknown ap_fixed rounding mode 'ROUND'"),
    ("minifloat_ieee", {"width": 5, "exponent_width": 4}, "exponent_width 4 must lie in [2, 3]"),
    ("integr", {"width": 8}, "unknown quantizer 'integr' (did you mean 'integer'?)"),
])
def test_bad_values_name_the_key(name: str, values: dict, message: str) -> None:
    with pytest.raises(PassError) as error:
        make_quantizer(name, values, node="node fc1 (linear)", operand="weight")
    text = str(error.value)
    assert message in text and text.startswith("node fc1 (linear): ") and "\n" not in text


def test_works_under_vmap_of_grad() -> None:
    """The engine's general path stacks models and differentiates through quantisers with vmap."""
    weights = torch.randn(3, 5) * 4

    def loss(w: torch.Tensor) -> torch.Tensor:
        return (integer_quantizer(w, 8, 4) ** 2).sum()

    per_model = vmap(grad(loss))(weights)
    assert torch.equal(per_model, 2 * integer_quantizer(weights, 8, 4))
