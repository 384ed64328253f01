"""A builder for ``[search]`` tables shaped like MASE's lab 3 TOML."""

from __future__ import annotations

import copy
from typing import Any

LINEAR_SEED = {"name": ["integer"], "data_in_width": [4, 8], "data_in_frac_width": ["NA"],
               "weight_width": [2, 4, 8], "weight_frac_width": ["NA"], "bias_width": [8], "bias_frac_width": ["NA"]}


# The search part of MASE's configs/examples/jsc_toy_by_type.toml (lab 3), as users have it.
MASE_LAB_SEARCH = '''
[search.search_space]
name = "graph/quantize/mixed_precision_ptq"

[search.search_space.setup]
by = "name"

[search.search_space.seed.default.config]
name = ["NA"]

[search.search_space.seed.linear.config]
name = ["integer"]
data_in_width = [4, 8]
data_in_frac_width = ["NA"] # "NA" means data_in_frac_width = data_in_width // 2
weight_width = [2, 4, 8]
weight_frac_width = ["NA"]
bias_width = [2, 4, 8]
bias_frac_width = ["NA"]

[search.search_space.seed.seq_blocks_2.config]
name = ["integer"]
data_in_width = [4, 8]
data_in_frac_width = ["NA"]
weight_width = [2, 4, 8]
weight_frac_width = ["NA"]
bias_width = [2, 4, 8]
bias_frac_width = ["NA"]

[search.strategy]
name = "optuna"
eval_mode = true

[search.strategy.sw_runner.basic_evaluation]
data_loader = "val_dataloader"
num_samples = 512

[search.strategy.hw_runner.average_bitwidth]
compare_to = 32 # compare to FP32

[search.strategy.setup]
n_jobs = 1
n_trials = 5
timeout = 20000
sampler = "tpe"
# sum_scaled_metrics = true # single objective
# direction = "maximize"
sum_scaled_metrics = false # multi objective

[search.strategy.metrics]
# loss.scale = 1.0
# loss.direction = "minimize"
accuracy.scale = 1.0
accuracy.direction = "maximize"
average_bitwidth.scale = 0.2
average_bitwidth.direction = "minimize"
'''


def search_table(by: str = "type", seeds: dict[str, dict[str, list[Any]]] | None = None,
                 setup: dict[str, Any] | None = None, metrics: dict[str, dict[str, Any]] | None = None,
                 num_samples: int = 256) -> dict[str, Any]:
    """A ``[search]`` table like MASE's lab 3 one; arguments replace its parts."""
    return {
        "search_space": {
            "name": "graph/quantize/mixed_precision_ptq",
            "setup": {"by": by},
            "seed": {key: {"config": copy.deepcopy(value)} for key, value in
                     (seeds if seeds is not None else {"default": {"name": ["NA"]}, "linear": LINEAR_SEED}).items()},
        },
        "strategy": {
            "name": "optuna",
            "eval_mode": True,
            "sw_runner": {"basic_evaluation": {"data_loader": "val_dataloader", "num_samples": num_samples}},
            "hw_runner": {"average_bitwidth": {"compare_to": 32}},
            "setup": {"n_jobs": 1, "n_trials": 10, "timeout": 20000, "sampler": "tpe", "sum_scaled_metrics": False,
                      **(setup or {})},
            "metrics": metrics if metrics is not None else {
                "accuracy": {"scale": 1.0, "direction": "maximize"},
                "average_bitwidth": {"scale": 0.2, "direction": "minimize"}},
        },
    }
