"""``load_model`` round trips for pl / pt / mz, type inference, refusals, and crash-safe writing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

from chop.engine.checkpoints import CheckpointFiles, lightning_checkpoint, next_version
from chop.errors import ModelError
from chop.models import get_model
from chop.tools.checkpoint_load import load_model


def _trained_like(name: str, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    model = get_model(name)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if tensor.is_floating_point():
                tensor.copy_(torch.randn_like(tensor).abs() if name.endswith("running_var") else torch.randn_like(tensor))
    return model


def _same(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values())) and \
        list(a.state_dict()) == list(b.state_dict())


def _pl(model: torch.nn.Module) -> dict:
    return lightning_checkpoint(model, epoch=3, global_step=40, optimizer_state={"state": {}, "param_groups": []},
                                scheduler_state={}, hyper_parameters={"model": "jsc-toy"})


def test_pl_round_trip_with_model_prefix_and_lightning_keys(tmp_path):
    source = _trained_like("jsc-toy", 1)
    checkpoint = _pl(source)
    assert set(checkpoint) >= {"epoch", "global_step", "pytorch-lightning_version", "state_dict", "optimizer_states",
                               "lr_schedulers", "callbacks", "hyper_parameters"}
    assert all(key.startswith("model.") for key in checkpoint["state_dict"])
    torch.save(checkpoint, tmp_path / "best.ckpt")
    loaded = load_model(load_name=str(tmp_path / "best.ckpt"), load_type="pl", model=get_model("jsc-toy"))
    assert _same(loaded, source)
    assert _same(load_model(tmp_path / "best.ckpt", model=get_model("jsc-toy")), source)  # inferred: .ckpt → pl


def test_pt_round_trip_and_inference(tmp_path):
    source = _trained_like("jsc-s", 2)
    torch.save(source.state_dict(), tmp_path / "weights.pt")
    assert _same(load_model(tmp_path / "weights.pt", "pt", model=get_model("jsc-s")), source)
    torch.save(source.state_dict(), tmp_path / "weights.bin")  # no known suffix: inferred from contents
    assert _same(load_model(tmp_path / "weights.bin", model=get_model("jsc-s")), source)


def test_mz_round_trip_of_a_graph_module(tmp_path):
    source = torch.fx.symbolic_trace(_trained_like("jsc-tiny", 3))
    torch.save(source, tmp_path / "graph_module.mz")
    loaded = load_model(tmp_path / "graph_module.mz", "mz", model=get_model("jsc-tiny"))
    assert isinstance(loaded, torch.fx.GraphModule) and _same(loaded, source)
    assert loaded.input_shape == (16,)
    x = torch.randn(4, 16)
    assert torch.equal(loaded.eval()(x), source.eval()(x))
    assert isinstance(load_model(tmp_path / "graph_module.mz"), torch.fx.GraphModule)


def test_checkpoint_of_another_architecture_names_the_mismatched_tensors(tmp_path):
    torch.save(_pl(_trained_like("jsc-toy", 1)), tmp_path / "toy.ckpt")
    with pytest.raises(ModelError) as error:
        load_model(tmp_path / "toy.ckpt", "pl", model=get_model("jsc-tiny"))
    message = str(error.value)
    assert "does not fit the model (JSCTiny)" in message
    assert "seq_blocks.2.weight (8, 16) vs model (5, 16)" in message
    assert "unexpected seq_blocks.3.weight" in message


def test_missing_and_unreadable_checkpoints(tmp_path):
    with pytest.raises(ModelError, match=r"checkpoint .*nope.ckpt does not exist"):
        load_model(tmp_path / "nope.ckpt", "pl", model=get_model("jsc-tiny"))
    (tmp_path / "junk.ckpt").write_bytes(b"not a checkpoint")
    with pytest.raises(ModelError, match="cannot read checkpoint .*junk.ckpt"):
        load_model(tmp_path / "junk.ckpt", model=get_model("jsc-tiny"))
    torch.save(get_model("jsc-tiny").state_dict(), tmp_path / "sd.mz")
    with pytest.raises(ModelError, match="not a saved graph module"):
        load_model(tmp_path / "sd.mz", "mz")


def test_versioned_names_never_overwrite(tmp_path):
    assert next_version(tmp_path) == 0
    files = CheckpointFiles(tmp_path, 0)
    model = get_model("jsc-tiny")
    assert files.save(_pl(model), val_loss=1.0, epoch=0) is True
    assert files.save(_pl(model), val_loss=2.0, epoch=1) is False
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.ckpt", "last.ckpt"]
    assert next_version(tmp_path) == 1
    second = CheckpointFiles(tmp_path, next_version(tmp_path))
    second.save(_pl(model), val_loss=1.0, epoch=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best-v1.ckpt", "best.ckpt", "last-v1.ckpt", "last.ckpt"]
    assert next_version(tmp_path) == 2


WRITER = textwrap.dedent("""
    import sys, torch
    from pathlib import Path
    from chop.engine.checkpoints import CheckpointFiles
    files = CheckpointFiles(Path(sys.argv[1]), 0)
    big = torch.arange(4_000_000, dtype=torch.float32)  # ~16 MB per checkpoint, so a kill lands mid-write
    step = 0
    while True:
        step += 1
        files.save({"state_dict": {"model.w": big + step}, "epoch": step, "global_step": step}, -float(step), step)
        print(step, flush=True)
""")


def test_killing_a_writer_mid_write_never_leaves_a_corrupt_checkpoint(tmp_path):
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=str(root))
    for attempt in range(1):
        proc = subprocess.Popen([sys.executable, str(script), str(tmp_path / "ckpts")], stdout=subprocess.PIPE, env=env)
        assert proc.stdout.readline()  # at least one complete save happened
        time.sleep(0.05 * (attempt + 1))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        for name in ("best.ckpt", "last.ckpt"):
            checkpoint = torch.load(tmp_path / "ckpts" / name, weights_only=True)
            step, weights = checkpoint["epoch"], checkpoint["state_dict"]["model.w"]
            assert torch.equal(weights, torch.arange(4_000_000, dtype=torch.float32) + step)
