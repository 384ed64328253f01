"""Progress output in logs and pipes: one readable line per epoch, nothing truncated."""

import io

from rich.console import Console

from chop.engine.progress import EpochProgress


def test_non_terminal_output_is_one_line_per_epoch_with_the_lab_metric_names():
    sink = io.StringIO()
    with EpochProgress(True, console=Console(file=sink, force_terminal=False, width=40)) as bar:
        for epoch in range(2):
            bar.start_epoch(epoch, steps=10)
            bar.update(5, {"train_acc_step": 0.5})
            bar.update(10, {"train_acc_step": 0.75})
            bar.update(10, {"val_acc_epoch": 0.625 + epoch / 10, "val_loss_epoch": 1.25})
    lines = sink.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("epoch 0: 10 steps, ")
    assert lines[1].endswith("train_acc_step=0.7500 val_acc_epoch=0.7250 val_loss_epoch=1.2500")


def test_disabled_progress_prints_nothing():
    sink = io.StringIO()
    with EpochProgress(False, console=Console(file=sink, force_terminal=False)) as bar:
        bar.start_epoch(0, steps=3)
        bar.update(3, {"val_acc_epoch": 0.5, "val_loss_epoch": 1.0})
    assert sink.getvalue() == ""
