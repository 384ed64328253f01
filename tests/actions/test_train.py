"""``ch train``: outputs (checkpoints, TensorBoard names, metrics.csv), versioning, resume, bad input."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from chop.cli import main
from chop.dataset.splits import JSC_FEATURES


@pytest.fixture()
def jsc_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small learnable JSC-format parquet (integer ``label``), with a private cache directory."""
    monkeypatch.setenv("MACHOP_CACHE_DIR", str(tmp_path / "cache"))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1500, 16)).astype(np.float32)
    y = (x[:, :5] + 0.5 * rng.normal(size=(1500, 5))).argmax(1)
    table = {name: x[:, i] for i, name in enumerate(JSC_FEATURES)} | {"label": y}
    path = tmp_path / "jets.parquet"
    pq.write_table(pa.table(table), path)
    return path


def train(jsc_file: Path, out: Path, *extra: str) -> int:
    return main(["train", "jsc-tiny", "jsc", "--data-path", str(jsc_file), "--max-epochs", "3", "--batch-size", "64",
                 "--learning-rate", "1e-3", "--project-dir", str(out), "--project", "p", *extra])


def _software(out: Path) -> Path:
    return out / "p" / "software"


def test_train_writes_checkpoints_tensorboard_and_csv_with_exact_names(jsc_file, tmp_path, capsys):
    assert train(jsc_file, tmp_path / "out") == 0
    printed = capsys.readouterr().out
    for text in ("Arguments", "Effective", "Final metrics", "val_acc_epoch", "test_acc_epoch", "best.ckpt"):
        assert text in printed
    software = _software(tmp_path / "out")
    assert sorted(p.name for p in (software / "training_ckpts").iterdir()) == ["best.ckpt", "last.ckpt"]
    last = torch.load(software / "training_ckpts" / "last.ckpt", weights_only=False)
    assert last["epoch"] == 2 and last["global_step"] == 3 * 17  # 1080 training rows / 64 → 17 steps
    assert float(last["optimizer_states"][0]["state"][0]["step"]) == 51
    assert last["lr_schedulers"][0]["last_epoch"] == 3 and last["lr_schedulers"][0]["T_max"] == 3
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(software / "tensorboard" / "lightning_logs" / "version_0"))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert tags >= {"train_acc_step", "train_loss_step", "val_acc_epoch", "val_loss_epoch", "test_acc_epoch",
                    "test_loss_epoch"}
    assert [e.step for e in events.Scalars("val_loss_epoch")] == [17, 34, 51]
    with open(software / "metrics.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["epoch"] for r in rows] == ["0", "1", "2", "2"]
    val_losses = [float(r["val_loss_epoch"]) for r in rows[:3]]
    assert [e.value for e in events.Scalars("val_loss_epoch")] == pytest.approx(val_losses, rel=1e-6)
    best = torch.load(software / "training_ckpts" / "best.ckpt", weights_only=False)
    assert best["epoch"] == int(np.argmin(val_losses))


def test_second_run_is_versioned_and_says_where(jsc_file, tmp_path, capsys):
    out = tmp_path / "out"
    assert train(jsc_file, out, "--max-epochs", "1") == 0
    capsys.readouterr()
    assert train(jsc_file, out, "--max-epochs", "1", "--json") == 0
    result = json.loads(capsys.readouterr().out)
    assert result["best_checkpoint"].endswith("training_ckpts/best-v1.ckpt")
    assert result["metrics_csv"].endswith("metrics-v1.csv")
    names = sorted(p.name for p in (_software(out) / "training_ckpts").iterdir())
    assert names == ["best-v1.ckpt", "best.ckpt", "last-v1.ckpt", "last.ckpt"]


def test_resume_continues_from_last_and_equals_an_uninterrupted_run(jsc_file, tmp_path, capsys):
    assert train(jsc_file, tmp_path / "a", "--max-epochs", "4") == 0
    assert train(jsc_file, tmp_path / "b", "--max-epochs", "4", "--max-steps", "34") == 0  # stops after 2 epochs
    assert train(jsc_file, tmp_path / "b", "--max-epochs", "4", "--resume") == 0
    a = torch.load(_software(tmp_path / "a") / "training_ckpts" / "last.ckpt", weights_only=False)
    b = torch.load(_software(tmp_path / "b") / "training_ckpts" / "last.ckpt", weights_only=False)
    assert b["epoch"] == 3 and b["global_step"] == a["global_step"] == 68
    for name, tensor in a["state_dict"].items():
        torch.testing.assert_close(b["state_dict"][name], tensor, rtol=1e-6, atol=1e-6)
    with open(_software(tmp_path / "b") / "metrics.csv", newline="") as handle:
        assert [r["epoch"] for r in csv.DictReader(handle)] == ["0", "1", "1", "2", "3", "3"]


def test_same_seed_same_metrics_from_the_cli(jsc_file, tmp_path, capsys):
    assert train(jsc_file, tmp_path / "a", "--json", "--seed", "3") == 0
    first = json.loads(capsys.readouterr().out)
    assert train(jsc_file, tmp_path / "b", "--json", "--seed", "3") == 0
    second = json.loads(capsys.readouterr().out)
    keys = ("train_acc_step", "train_loss_step", "val_acc_epoch", "val_loss_epoch", "test_acc_epoch", "test_loss_epoch")
    assert [first[k] for k in keys] == [second[k] for k in keys]


def test_toml_values_apply_and_flags_win(jsc_file, tmp_path, capsys):
    config = tmp_path / "c.toml"
    config.write_text('model = "jsc-toy"\ndataset = "jsc"\nmax_epochs = 1\nbatch_size = 32\nlearning_rate = 1e-2\n')
    code = main(["train", "--config", str(config), "--data-path", str(jsc_file), "--batch-size", "100",
                 "--project-dir", str(tmp_path / "o"), "--project", "p", "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["global_step"] == 11 and result["epoch"] == 0  # ceil(1080 rows / 100): the flag beat 32
    checkpoint = torch.load(result["last_checkpoint"], weights_only=False)
    assert checkpoint["hyper_parameters"]["model"] == "jsc-toy"
    assert checkpoint["hyper_parameters"]["learning_rate"] == 1e-2


def test_conv_model_from_a_user_file_trains_on_jsc(jsc_file, tmp_path, capsys):
    path = tmp_path / "mine.py"
    path.write_text("from chop.models.conv import JSCConvRes\n\nclass Mine(JSCConvRes):\n    input_shape = (1, 16)\n")
    assert main(["train", "jsc", "--model-file", f"{path}:Mine", "--data-path", str(jsc_file), "--max-epochs", "1",
                 "--batch-size", "128", "--learning-rate", "1e-3", "--project-dir", str(tmp_path / "o"),
                 "--project", "p", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["engine_path"] == "general"


def _fails(capsys, argv: list[str], *fragments: str) -> None:
    assert main(argv) != 0
    err = capsys.readouterr().err
    assert err.startswith("ch: error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in err, err


def test_bad_input_is_a_one_line_error(jsc_file, tmp_path, capsys):
    out = ["--project-dir", str(tmp_path / "o"), "--data-path", str(jsc_file)]
    _fails(capsys, ["train", "jsc-tinny", "jsc", *out], "unknown model 'jsc-tinny'", "jsc-toy")
    _fails(capsys, ["train", "jsc-tiny", "mnist"], "unknown dataset 'mnist'", "jsc-pythia")
    _fails(capsys, ["train", "jsc-tiny", "jsc", "--batch-size", "0", *out], "batch_size", "0")
    _fails(capsys, ["train", "jsc-tiny", "jsc", "--learning-rate", "-1", *out], "learning_rate", "-1")
    _fails(capsys, ["train", "jsc", "--model-file", f"{tmp_path}/none.py:Net", *out], "none.py does not exist")
    user = tmp_path / "user.py"
    user.write_text("X = 1\n")
    _fails(capsys, ["train", "jsc", "--model-file", f"{user}:Net", *out], "has no class 'Net'")
    _fails(capsys, ["train", "jsc", "--model-file", f"{user}:X", *out], "X is not a torch.nn.Module")
    bad = tmp_path / "bad.toml"
    bad.write_text("max_epochs = 2\nbatch_size = = 3\n")
    _fails(capsys, ["train", "jsc-tiny", "jsc", "--config", str(bad), *out], "bad.toml", "line 2")
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("max_epoch = 2\n")
    _fails(capsys, ["train", "jsc-tiny", "jsc", "--config", str(unknown), *out], "unknown key `max_epoch`",
           "did you mean 'max_epochs'")
    _fails(capsys, ["train", "jsc-tiny", "jsc", "--load", str(tmp_path / "gone.ckpt"), *out], "gone.ckpt does not exist")
    _fails(capsys, ["train", "jsc-tiny", "jsc", "--resume", *out], "no last.ckpt")


def test_checkpoint_of_another_model_is_refused_naming_tensors(jsc_file, tmp_path, capsys):
    assert train(jsc_file, tmp_path / "o", "--max-epochs", "1") == 0
    capsys.readouterr()
    best = _software(tmp_path / "o") / "training_ckpts" / "best.ckpt"
    _fails(capsys, ["train", "jsc-toy", "jsc", "--data-path", str(jsc_file), "--load", str(best), "--project-dir",
                    str(tmp_path / "o2")], "does not fit", "seq_blocks.2.weight (5, 16) vs model (8, 16)")


def test_unwritable_output_directory(jsc_file, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")  # refused even for root, unlike chmod
    _fails(capsys, ["train", "jsc-tiny", "jsc", "--data-path", str(jsc_file), "--project-dir", str(blocker / "out")],
           "not writable", str(blocker))


def test_load_mz_graph_module_starts_from_its_weights(jsc_file, tmp_path, capsys):
    torch.manual_seed(9)
    source = torch.fx.symbolic_trace(__import__("chop.models", fromlist=["get_model"]).get_model("jsc-tiny"))
    torch.save(source, tmp_path / "graph_module.mz")
    assert main(["train", "jsc-tiny", "jsc", "--data-path", str(jsc_file), "--load", str(tmp_path / "graph_module.mz"),
                 "--max-epochs", "1", "--learning-rate", "1e-12", "--seed", "0", "--project-dir", str(tmp_path / "o"),
                 "--project", "p", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    state = torch.load(result["last_checkpoint"], weights_only=False)["state_dict"]
    torch.testing.assert_close(state["model.seq_blocks.2.weight"], source.get_submodule("seq_blocks.2").weight,
                               rtol=0, atol=1e-9)


def test_tensorboard_is_laid_out_and_tagged_as_lightning_writes_it(jsc_file, tmp_path, capsys):
    assert train(jsc_file, tmp_path / "o", "--log-every-n-steps", "17", "--json") == 0  # 17 steps per epoch
    result = json.loads(capsys.readouterr().out)
    software = _software(tmp_path / "o")
    assert result["tensorboard_dir"] == str(software / "tensorboard" / "lightning_logs" / "version_0")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(result["tensorboard_dir"])
    events.Reload()
    assert {"train_loss_step", "train_acc_step", "lr-Adam", "val_loss_epoch", "epoch"} <= set(events.Tags()["scalars"])
    # Lightning logs step metrics after the optimiser step at the count of steps before it
    assert [e.step for e in events.Scalars("train_loss_step")] == [16, 33, 50]
    assert [e.step for e in events.Scalars("lr-Adam")] == [16, 33, 50]
    cosine = [1e-6 + (1e-3 - 1e-6) * (1 + math.cos(math.pi * e / 3)) / 2 for e in range(3)]
    assert [e.value for e in events.Scalars("lr-Adam")] == pytest.approx(cosine, rel=1e-6)
    with open(software / "metrics.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))[:3]  # the last step of each epoch is a logged step here
    assert [e.value for e in events.Scalars("train_loss_step")] == \
        pytest.approx([float(r["train_loss_step"]) for r in rows], rel=1e-6)
    assert [e.value for e in events.Scalars("train_acc_step")] == \
        pytest.approx([float(r["train_acc_step"]) for r in rows], rel=1e-6)


def test_log_every_n_steps_sets_the_step_scalars_and_zero_turns_them_off(jsc_file, tmp_path, capsys):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    assert train(jsc_file, tmp_path / "a", "--log-every-n-steps", "10", "--training-optimizer", "sgd") == 0
    events = EventAccumulator(str(_software(tmp_path / "a") / "tensorboard" / "lightning_logs" / "version_0"))
    events.Reload()
    assert [e.step for e in events.Scalars("lr-SGD")] == [9, 19, 29, 39, 49]
    assert train(jsc_file, tmp_path / "b", "--log-every-n-steps", "0") == 0
    events = EventAccumulator(str(_software(tmp_path / "b") / "tensorboard" / "lightning_logs" / "version_0"))
    events.Reload()
    assert not {"train_loss_step", "lr-Adam"} & set(events.Tags()["scalars"])


def test_impossible_step_settings_are_one_line_errors(jsc_file, tmp_path, capsys, monkeypatch):
    out = ["--data-path", str(jsc_file), "--project-dir", str(tmp_path / "o")]
    _fails(capsys, ["train", "jsc-tiny", "jsc", "--batch-size", "1", *out],
           "batch_size 1 cannot train BatchNorm1d 'seq_blocks.0'", "2 or more")
    _fails(capsys, ["train", "jsc-tiny", "jsc", "--max-steps", "0", *out], "max_steps must be a positive integer",
           "-1 for no limit", "got 0")
    _fails(capsys, ["train", "jsc-tiny", "jsc", "--learning-rate", "inf", *out], "learning_rate", "finite", "inf")
    _fails(capsys, ["train", "jsc-tiny", "jsc", "--learning-rate", "nan", *out], "learning_rate", "finite", "nan")
    assert not (tmp_path / "o").exists()  # refused before anything was written
    for value in ("abc", "0", "-2"):
        monkeypatch.setenv("MACHOP_THREADS", value)
        _fails(capsys, ["train", "jsc-tiny", "jsc", *out], f"MACHOP_THREADS='{value}'", "positive integer")


FLAKY = """
import torch
from torch import nn


class Flaky(nn.Module):
    \"\"\"Trains normally for 20 steps, then its output becomes NaN: a loss that diverges in epoch 1.\"\"\"

    input_shape = (16,)

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 5)
        self.register_buffer("calls", torch.zeros((), dtype=torch.int64))

    def forward(self, x):
        if self.training:
            self.calls += 1
        return self.fc(x) * torch.where(self.calls > 20, float("nan"), 1.0)
"""


def test_a_diverging_run_stops_with_one_line_and_keeps_the_earlier_checkpoints(jsc_file, tmp_path, capsys):
    model = tmp_path / "flaky.py"
    model.write_text(FLAKY)
    assert main(["train", "jsc", "--model-file", f"{model}:Flaky", "--data-path", str(jsc_file), "--max-epochs", "3",
                 "--batch-size", "64", "--project-dir", str(tmp_path / "o"), "--project", "p"]) != 0
    err = capsys.readouterr().err  # the progress lines of the finished epochs, then the error
    assert "Traceback" not in err and err.count("ch: error: ") == 1
    error = err.splitlines()[-1]
    for fragment in ("ch: error: training diverged in epoch 1", "train_loss_step=nan", "best.ckpt (epoch 0)",
                     "last.ckpt", "lower --learning-rate"):
        assert fragment in error, error
    ckpts = _software(tmp_path / "o") / "training_ckpts"
    for name in ("best.ckpt", "last.ckpt"):
        checkpoint = torch.load(ckpts / name, weights_only=False)
        assert checkpoint["epoch"] == 0 and checkpoint["global_step"] == 17
        assert all(torch.isfinite(t).all() for t in checkpoint["state_dict"].values() if t.is_floating_point())
    with open(_software(tmp_path / "o") / "metrics.csv", newline="") as handle:
        assert [r["epoch"] for r in csv.DictReader(handle)] == ["0"]


def test_load_of_a_directory_says_it_is_one_and_what_file_is_expected(jsc_file, tmp_path, capsys):
    assert train(jsc_file, tmp_path / "o", "--max-epochs", "1") == 0
    capsys.readouterr()
    ckpts = _software(tmp_path / "o") / "training_ckpts"
    out = ["--data-path", str(jsc_file), "--project-dir", str(tmp_path / "o2")]
    _fails(capsys, ["train", "jsc-tiny", "jsc", "--load", str(ckpts), *out], f"--load {ckpts} is a directory",
           "expected a file", "found in it: best.ckpt, last.ckpt")
    for kind, expected in (("pl", "a Lightning .ckpt"), ("pt", "a .pt state_dict"), ("mz", "graph_module.mz")):
        _fails(capsys, ["train", "jsc-tiny", "jsc", "--load", str(ckpts), "--load-type", kind, *out],
               "is a directory", expected)


def test_fewer_training_rows_than_a_batch_warns_and_trains_one_step_per_epoch(jsc_file, tmp_path, capsys):
    """1500 rows leave 1080 training rows (lab-api §2 splits); a batch of 2048 is larger than that."""
    assert train(jsc_file, tmp_path / "out", "--batch-size", "2048", "--json") == 0
    captured = capsys.readouterr()
    assert ("warning: the training split has 1080 rows, fewer than batch_size 2048: every epoch is one step of "
            "1080 rows") in captured.err.splitlines()
    assert json.loads(captured.out)["global_step"] == 3
