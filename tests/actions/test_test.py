"""``ch test``: the same numbers from pl / pt / mz checkpoints, per-class accuracy, confusion matrix."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
import torch.nn.functional as F

from chop.cli import main
from chop.dataset import load_dataset
from chop.dataset.splits import JSC_FEATURES
from chop.models import get_model


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One ``ch train`` run plus its weights saved as a .pt state_dict and a .mz graph module."""
    root = tmp_path_factory.mktemp("ch-test")
    patch = pytest.MonkeyPatch()
    patch.setenv("MACHOP_CACHE_DIR", str(root / "cache"))
    rng = np.random.default_rng(1)
    x = rng.normal(size=(1200, 16)).astype(np.float32)
    y = (x[:, :5] + 0.5 * rng.normal(size=(1200, 5))).argmax(1)
    data = root / "jets.parquet"
    pq.write_table(pa.table({n: x[:, i] for i, n in enumerate(JSC_FEATURES)} | {"label": y}), data)
    assert main(["train", "jsc-toy", "jsc", "--data-path", str(data), "--max-epochs", "2", "--batch-size", "64",
                 "--learning-rate", "1e-2", "--project-dir", str(root / "o"), "--project", "p"]) == 0
    best = root / "o" / "p" / "software" / "training_ckpts" / "best.ckpt"
    state = {k.removeprefix("model."): v for k, v in torch.load(best, weights_only=False)["state_dict"].items()}
    torch.save(state, root / "weights.pt")
    model = get_model("jsc-toy")
    model.load_state_dict(state)
    torch.save(torch.fx.symbolic_trace(model), root / "graph_module.mz")
    yield {"data": data, "best": best, "pt": root / "weights.pt", "mz": root / "graph_module.mz", "state": state}
    patch.undo()


def _test_json(capsys, trained, load: Path, *extra: str) -> dict:
    assert main(["test", "jsc-toy", "jsc", "--data-path", str(trained["data"]), "--load", str(load), *extra,
                 "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_all_three_load_types_give_the_reference_numbers(trained, capsys, monkeypatch):
    monkeypatch.setenv("MACHOP_CACHE_DIR", str(trained["data"].parent / "cache"))
    splits = load_dataset("jsc", trained["data"])
    model = get_model("jsc-toy")
    model.load_state_dict(trained["state"])
    with torch.no_grad():
        logits = model.eval()(torch.from_numpy(splits.x_test))
    truth = torch.from_numpy(splits.y_test)
    expected_acc = (logits.argmax(1) == truth).double().mean().item()
    expected_loss = F.cross_entropy(logits, truth).item()
    confusion = np.zeros((5, 5), dtype=int)
    np.add.at(confusion, (truth.numpy(), logits.argmax(1).numpy()), 1)
    for load, kind in ((trained["best"], "pl"), (trained["pt"], "pt"), (trained["mz"], "mz")):
        for extra in ((), ("--load-type", kind)):
            result = _test_json(capsys, trained, load, *extra)
            assert result["test_acc_epoch"] == pytest.approx(expected_acc, abs=1e-12)
            assert result["test_loss_epoch"] == pytest.approx(expected_loss, rel=1e-5)
            assert result["confusion_matrix"]["rows_true_columns_predicted"] == confusion.tolist()
            per_class = result["per_class_accuracy"]
            assert list(per_class) == ["g", "q", "w", "z", "t"]
            assert per_class["q"] == pytest.approx(confusion[1, 1] / confusion[1].sum())


def test_human_output_has_metrics_and_confusion_matrix(trained, capsys, monkeypatch):
    monkeypatch.setenv("MACHOP_CACHE_DIR", str(trained["data"].parent / "cache"))
    assert main(["test", "jsc-toy", "jsc", "--data-path", str(trained["data"]), "--load", str(trained["best"])]) == 0
    out = capsys.readouterr().out
    for text in ("test_acc_epoch", "test_loss_epoch", "accuracy of class g", "Confusion matrix"):
        assert text in out


def test_errors_are_one_line(trained, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("MACHOP_CACHE_DIR", str(trained["data"].parent / "cache"))
    cases = [
        (["test", "jsc-toy", "jsc", "--data-path", str(trained["data"])], "needs a checkpoint"),
        (["test", "jsc-toy", "jsc", "--data-path", str(trained["data"]), "--load", str(tmp_path / "x.ckpt")],
         "x.ckpt does not exist"),
        (["test", "jsc-tiny", "jsc", "--data-path", str(trained["data"]), "--load", str(trained["best"])],
         "seq_blocks.2.weight (8, 16) vs model (5, 16)"),
        (["test", "jsc-toy", "jsc", "--data-path", str(trained["data"]), "--load", str(trained["pt"]),
          "--load-type", "mz"], "not a saved graph module"),
    ]
    for argv, fragment in cases:
        assert main(argv) != 0
        err = capsys.readouterr().err
        assert err.startswith("ch: error: ") and err.count("\n") == 1 and fragment in err, err


def test_a_saved_graph_needs_no_model_name(trained, capsys, monkeypatch):
    monkeypatch.setenv("MACHOP_CACHE_DIR", str(trained["data"].parent / "cache"))
    expected = _test_json(capsys, trained, trained["mz"])
    for extra in ((), ("--load-type", "mz")):
        assert main(["test", "jsc", "--data-path", str(trained["data"]), "--load", str(trained["mz"]), *extra,
                     "--json"]) == 0
        assert json.loads(capsys.readouterr().out) == expected


def test_saved_graph_and_directory_mistakes_are_one_line(trained, capsys, monkeypatch):
    monkeypatch.setenv("MACHOP_CACHE_DIR", str(trained["data"].parent / "cache"))
    folder = trained["mz"].parent
    cases = [
        (["test", "jsc-tiny", "jsc", "--load", str(trained["mz"])],
         "is not the given model (JSCTiny): seq_blocks.2.weight (8, 16) vs model (5, 16)"),
        (["test", "--load", str(trained["mz"]), "--load-type", "mz"], "no dataset given (a saved graph"),
        (["test", "jsc", "--load", str(folder), "--load-type", "mz"],
         f"--load {folder} is a directory; expected a file: a saved graph_module.mz (found in it: graph_module.mz)"),
        (["test", "jsc-toy", "jsc", "--load", str(folder)], "weights.pt"),
    ]
    for argv, fragment in cases:
        assert main([*argv, "--data-path", str(trained["data"])]) != 0
        err = capsys.readouterr().err
        assert err.startswith("ch: error: ") and err.count("\n") == 1 and fragment in err, err


def test_a_lone_dataset_name_is_taken_as_the_dataset_and_the_missing_model_is_named(tmp_path, capsys):
    """`ch test jsc-pythia --load DIR`: jsc-pythia is no model, so the error is about the model, not the dataset."""
    assert main(["test", "jsc-pythia", "--load", str(tmp_path)]) == 2
    assert capsys.readouterr().err == ("ch: error: ch test: no model given; pass MODEL (e.g. jsc-tiny) or set "
                                       "`model` in the TOML\n")
