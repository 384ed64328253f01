"""Quantiser configs: defaults, one-line errors naming the key, and vmap / grad compatibility."""

from __future__ import annotations

import tomllib

import pytest
import torch
from torch.func import grad, vmap

from chop.errors import PassError
from chop.quantized.node_config import parse_node_config
from chop.quantizers import block_minifloat_quantizer, integer_quantizer, make_quantizer


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
    ("integer", {"width": 65}, "weight_width 65 is wider than 52, the most 'integer' computes exactly"),
    ("fixed", {"width": 53, "frac_width": 0}, "weight_width 53 is wider than 52"),
    ("ap_fixed", {"width": 60, "int_width": 4}, "weight_width 60 is wider than 52"),
    ("ap_fixed", {"width": 8, "int_width": 1025}, "weight_int_width 1025 is larger than 1024"),
    ("integer", {"width": 8, "frac_width": -1020}, "weight_frac_width -1020 is below -1016"),
    ("block_fp", {"width": 6, "exponent_width": 4, "block_size": [1, 0]}, "weight_block_size must be an int or a list"),
    ("block_fp", {"width": 6, "exponent_width": 4, "block_size": "16"}, "got '16'"),
    ("block_log", {"width": 8}, "weight_exponent_bias_width is required by quantizer 'block_log'"),
    ("block_log", {"width": 8, "exponent_bias_width": -1}, "weight_exponent_bias_width must be >= 0, got -1"),
    ("block_log", {"width": 12, "exponent_bias_width": 4}, "weight_width 12 and the exponent keys of 'block_log' reach values 2^-15 .. 2^2047"),
    ("block_minifloat", {"width": 8, "exponent_width": 7, "exponent_bias_width": 4}, "exponent_width 7 must lie in [2, 6]"),
    ("block_minifloat", {"width": 8, "exponent_width": 4, "exponent_bias_width": 4, "skip_first_dim": "yes"},
     "weight_skip_first_dim must be true/false (or 1/0), got 'yes'"),
    ("log", {"width": 12}, "'log' reach values 2^-1023 .. 2^1024, outside float64's"),
    ("minifloat_ieee", {"width": 16, "exponent_width": 12}, "reach values 2^-2049 .. 2^2047"),
])
def test_bad_values_name_the_key(name: str, values: dict, message: str) -> None:
    with pytest.raises(PassError) as error:
        make_quantizer(name, values, node="node fc1 (linear)", operand="weight")
    text = str(error.value)
    assert message in text and text.startswith("node fc1 (linear): ") and "\n" not in text


def test_widest_formats_are_accepted() -> None:
    assert make_quantizer("integer", {"width": 52, "frac_width": 0}).value_range() == (-(2.0**51), 2.0**51 - 1)
    assert make_quantizer("ap_fixed", {"width": 52, "int_width": 60}).precision() == [52, 60]
    assert make_quantizer("fixed", {"width": 4, "frac_width": -2}).precision() == [4, -2]


def test_block_formats_resolve_mase_keys() -> None:
    """``data_in`` blocks skip the batch dim unless told; weights and biases are blocked over all dims."""
    keys = {"width": 8, "exponent_width": 4, "exponent_bias_width": 4, "block_size": [16]}
    data_in = make_quantizer("block_minifloat", keys, operand="data_in")
    weight = make_quantizer("block_minifloat", keys, operand="weight")
    assert dict(data_in.params)["skip_first_dim"] is True and dict(weight.params)["skip_first_dim"] is False
    assert dict(make_quantizer("block_minifloat", {**keys, "skip_first_dim": 0}, operand="data_in").params)[
        "skip_first_dim"] is False
    assert weight.precision() == [8, 4, 4, [16]]
    # bias 0 gives the largest values: minifloat_ieee(8, 4, bias 0) reaches 1.875 * 2^14
    assert weight.value_range() == (-30720.0, 30720.0)
    fp = make_quantizer("block_fp", {"width": 7, "exponent_width": 8, "exponent_bias": 127, "block_size": 16})
    assert dict(fp.params)["block_size"] == (16,) and fp.precision() == [7, 8, 127, [16]]
    assert fp.value_range() == (-63 * 2.0**122, 63 * 2.0**122)  # (2^6 - 1) * 2^(128 - 7 + 1)
    log = make_quantizer("block_log", {"width": 8, "exponent_bias_width": 4, "block_size": [1, 16]})
    assert log.precision() == [8, 4, [1, 16]] and log.value_range() == (-(2.0**127), 2.0**127)


MASE_BLOCK_MINIFLOAT_TOML = """
[passes.quantize]
by = "type"
report = true

[passes.quantize.default.config]
name = "block_minifloat"
bias_exponent_bias_width = 4
bias_exponent_width = 4
bias_width = 8
bias_block_size = [16]
data_in_exponent_bias_width = 4
data_in_exponent_width = 4
data_in_width = 8
data_in_block_size = [16]
weight_exponent_bias_width = 4
weight_exponent_width = 4
weight_width = 8
weight_block_size = [16]
"""


def test_mase_block_minifloat_config_parses_and_quantises_a_linear() -> None:
    config = tomllib.loads(MASE_BLOCK_MINIFLOAT_TOML)["passes"]["quantize"]["default"]["config"]
    parsed = parse_node_config("fc1", "linear", config)
    data_in, weight = parsed.quantizer("data_in"), parsed.quantizer("weight")
    assert str(weight) == ("block_minifloat(width=8, exponent_width=4, exponent_bias_width=4, block_size=(16,), "
                           "skip_first_dim=False)")
    x = torch.tensor([[1000.0, 0.3], [0.3, 0.2]])
    # data_in: one block per sample; weight: [16] right-aligned to (2, 2) is the whole tensor
    assert data_in(x).tolist() == block_minifloat_quantizer(x, 8, 4, 4, [1, 16]).tolist()
    assert weight(x).tolist() == block_minifloat_quantizer(x, 8, 4, 4, [2, 2]).tolist()
    assert data_in(x)[1].tolist() == block_minifloat_quantizer(x[1], 8, 4, 4, 16).tolist()


def test_works_under_vmap_of_grad() -> None:
    """The engine's general path stacks models and differentiates through quantisers with vmap."""
    weights = torch.randn(3, 5) * 4

    def loss(w: torch.Tensor) -> torch.Tensor:
        return (integer_quantizer(w, 8, 4) ** 2).sum()

    per_model = vmap(grad(loss))(weights)
    assert torch.equal(per_model, 2 * integer_quantizer(weights, 8, 4))
