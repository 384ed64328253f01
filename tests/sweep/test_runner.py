"""The runner: grouped ensembles give each run exactly what training it alone gives; resume skips work."""

from __future__ import annotations

import pytest
import torch

from chop.engine import GroupConfig, RunConfig, train_ensemble
from chop.models import get_model
from chop.sweep import InProcessBackend, SweepStore, parse_sweep, plan_groups, run_sweep
from chop.tools.runtime import configure_threads

RAW = {"model": "jsc-tiny", "dataset": "jsc", "max_epochs": 2, "repeats": 2, "seed": 5,
       "grid": {"learning_rate": [1e-3, 2e-2], "batch_size": [32, 128]}}


def alone(data, seed: int, learning_rate: float, batch_size: int):
    """The same run trained as a group of one, the reference each grouped run must equal."""
    return train_ensemble(lambda: get_model("jsc-tiny", dataset_info=data.info), data,
                          [RunConfig(seed=seed, learning_rate=learning_rate)],
                          GroupConfig(batch_size=batch_size, max_epochs=2, order_seed=5), progress=False)


def test_grouped_runs_match_runs_trained_alone(tmp_path, tiny_splits):
    configure_threads()
    sweep = parse_sweep(RAW, "s.toml", "s")
    assert [g.size for g in plan_groups(sweep.runs())] == [4, 4]
    with SweepStore.create_or_open(tmp_path, sweep.definition(), sweep.swept_keys) as store:
        lines: list[str] = []
        outcome = run_sweep(sweep, tiny_splits, store, InProcessBackend(progress=False), lines.append)
        runs = store.runs()
    assert (outcome.trained, outcome.skipped) == (8, 0)
    assert len(lines) == 2 and lines[0].startswith("group 1 finished (1/2 this session): K=4")
    x_test = torch.from_numpy(tiny_splits.x_test)
    y_test = torch.from_numpy(tiny_splits.y_test)
    for run in runs:
        lr, batch = run.config["learning_rate"], run.config["batch_size"]
        reference = alone(tiny_splits, run.seed, lr, batch)
        last = reference.history[-1]
        assert run.status == "finished"
        assert run.seed == 5 + run.repeat
        assert run.val_acc_last_epoch == pytest.approx(last.val_acc_epoch[0], abs=1e-6)
        assert run.history[-1].train_loss_step == pytest.approx(last.train_loss_step[0], rel=1e-4)
        assert [e.val_acc_epoch for e in run.history] == pytest.approx([e.val_acc_epoch[0] for e in reference.history],
                                                                       abs=1e-6)
        with torch.no_grad():
            predicted = reference.models[0](x_test).argmax(dim=1)
        assert run.test_acc == pytest.approx((predicted == y_test).double().mean().item(), abs=1e-6)
    # Different seeds really give different models inside one configuration.
    assert len({(r.history[0].train_loss_step) for r in runs if r.config_id == 4}) == 2


def test_resume_trains_only_unfinished_runs(tmp_path, tiny_splits):
    configure_threads()
    first = parse_sweep({**RAW, "grid": {"learning_rate": [1e-3], "batch_size": [32, 128]}}, "s.toml", "s")
    # Simulate an interrupted sweep: only group 1 (batch 32) made it into the store.
    with SweepStore.create_or_open(tmp_path, first.definition(), first.swept_keys) as store:
        run_sweep(first, tiny_splits, store, InProcessBackend(progress=False))
        kept = {(r.config_id, r.repeat): r.val_acc_last_epoch for r in store.runs() if r.config_id == 1}
        store._db.execute("UPDATE runs SET status='running' WHERE config_id=2")
        assert store.finished_keys() == {(1, 0), (1, 1)}
        outcome = run_sweep(first, tiny_splits, store, InProcessBackend(progress=False))
        assert (outcome.trained, outcome.skipped) == (2, 2)
        assert store.finished_keys() == {(c, r) for c in (1, 2) for r in (0, 1)}
        assert {(r.config_id, r.repeat): r.val_acc_last_epoch for r in store.runs() if r.config_id == 1} == kept
        again = run_sweep(first, tiny_splits, store, InProcessBackend(progress=False))
    assert (again.trained, again.skipped) == (0, 4)


def test_fine_tuning_sweep_starts_every_model_from_the_checkpoint(tmp_path, tiny_splits):
    configure_threads()
    torch.manual_seed(123)
    start = get_model("jsc-tiny", dataset_info=tiny_splits.info)
    torch.save(start.state_dict(), tmp_path / "start.pt")
    sweep = parse_sweep({"model": "jsc-tiny", "dataset": "jsc", "max_epochs": 1, "batch_size": 64, "repeats": 2,
                         "load_name": str(tmp_path / "start.pt"), "grid": {"learning_rate": [1e-3, 1e-2]}},
                        "s.toml", "s")
    with SweepStore.create_or_open(tmp_path / "out", sweep.definition(), sweep.swept_keys) as store:
        run_sweep(sweep, tiny_splits, store, InProcessBackend(progress=False))
        runs = store.runs()
    for run in runs:
        reference = train_ensemble(lambda: get_model("jsc-tiny", dataset_info=tiny_splits.info), tiny_splits,
                                   [RunConfig(seed=run.seed, learning_rate=run.config["learning_rate"])],
                                   GroupConfig(batch_size=64, max_epochs=1), progress=False, initial_models=[start])
        assert run.val_acc_last_epoch == pytest.approx(reference.history[-1].val_acc_epoch[0], abs=1e-6)
    # Same checkpoint, same batches: the two repeats of a configuration are identical.
    assert runs[0].val_acc_last_epoch == runs[1].val_acc_last_epoch
