"""MaseArgs → engine settings: one translation, and ``gpu`` without CUDA is an error at both call sites."""

from __future__ import annotations

import pytest
import torch

from chop.config.mase_args import MaseArgs
from chop.engine.types import GroupConfig, RunConfig
from chop.errors import ConfigError
from chop.sweep import parse_sweep, plan_groups
from chop.sweep.runner import make_tasks, session_settings
from chop.workflows.engine_settings import group_config, resolve_device, run_config
from chop.workflows.training import run_training

ARGS = MaseArgs(model="jsc-tiny", dataset="jsc", seed=4, learning_rate=2e-3, training_optimizer="sgd",
                weight_decay=0.1, batch_size=64, max_epochs=3, max_steps=50, batch_order="per_model",
                log_every_n_steps=5, accelerator="cpu")


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def test_the_translation_of_mase_args():
    assert run_config(ARGS) == RunConfig(seed=4, learning_rate=2e-3, optimizer="sgd", weight_decay=0.1)
    assert run_config(ARGS, seed=9).seed == 9
    assert group_config(ARGS) == GroupConfig(batch_size=64, max_epochs=3, max_steps=50, batch_order="per_model",
                                             order_seed=4, device="cpu", compile=False, log_every_n_steps=5)
    assert group_config(ARGS, log_steps=False).log_every_n_steps == 0


def test_devices(no_cuda):
    assert resolve_device("auto") == resolve_device("cpu") == "cpu"
    with pytest.raises(ConfigError, match="accelerator 'gpu' was asked for but torch sees no CUDA GPU"):
        resolve_device("gpu")


def test_gpu_without_cuda_is_an_error_for_ch_train(no_cuda, tmp_path):
    import dataclasses

    with pytest.raises(ConfigError, match="no CUDA GPU"):
        run_training(dataclasses.replace(ARGS, accelerator="gpu"), None, lambda: None, tmp_path)


def test_gpu_without_cuda_is_an_error_for_a_sweep(no_cuda):
    sweep = parse_sweep({"model": "jsc-tiny", "dataset": "jsc", "accelerator": "gpu", "max_epochs": 1,
                         "grid": {"learning_rate": [1e-3]}}, "s.toml", "s")
    with pytest.raises(ConfigError, match="no CUDA GPU"):
        make_tasks(sweep, plan_groups(sweep.runs()), set())
    with pytest.raises(ConfigError, match="no CUDA GPU"):
        session_settings(sweep)
