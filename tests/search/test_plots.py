"""The search's Pareto and sample-efficiency plots: fronts against a brute-force dominance check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chop.errors import MachopError
from chop.search.plots import best_so_far, pareto_front, pareto_plot, sample_efficiency_plot, trial_metrics

PNG = b"\x89PNG\r\n\x1a\n"


def dominated(p: tuple[float, float], points: list[tuple[float, float]]) -> bool:
    return any(q != p and q[0] <= p[0] and q[1] >= p[1] for q in points)


@pytest.mark.property
@given(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 20)), min_size=1, max_size=40))
def test_the_front_is_exactly_the_undominated_points(raw: list[tuple[int, int]]) -> None:
    points = [(float(c), a / 20) for c, a in raw]
    assert pareto_front(points) == sorted({p for p in points if not dominated(p, points)})


def test_best_so_far_follows_the_direction() -> None:
    assert best_so_far([0.2, 0.5, 0.4, 0.7], "maximize") == [0.2, 0.5, 0.5, 0.7]
    assert best_so_far([3.0, 1.0, 2.0], "minimize") == [3.0, 1.0, 1.0]
    with pytest.raises(MachopError, match="direction 'up': expected maximize or minimize"):
        best_so_far([1.0], "up")


def write_log(path: Path) -> None:
    """A log.json in MASE's layout (pandas orient="index"): one pruned trial, three complete."""
    entries = [
        {"number": 0, "state": "COMPLETE", "user_attrs_software_metrics": {"accuracy": 0.6, "loss": 1.1},
         "user_attrs_hardware_metrics": {"luts": 900.0}},
        {"number": 2, "state": "COMPLETE", "user_attrs_software_metrics": {"accuracy": 0.7, "loss": 0.9},
         "user_attrs_hardware_metrics": {"luts": 1500.0}},
        {"number": 1, "state": "PRUNED", "user_attrs_software_metrics": {}, "user_attrs_hardware_metrics": {}},
        {"number": 3, "state": "COMPLETE", "user_attrs_software_metrics": {"accuracy": 0.65, "loss": 1.0},
         "user_attrs_hardware_metrics": {"luts": 2000.0}},
    ]
    path.write_text(json.dumps({str(i): entry for i, entry in enumerate(entries)}))


def test_a_log_gives_the_completed_trials_in_order_and_their_front(tmp_path: Path) -> None:
    write_log(tmp_path / "log.json")
    trials = trial_metrics(tmp_path / "log.json")
    assert [t["luts"] for t in trials] == [900.0, 1500.0, 2000.0]
    front = pareto_plot(trials, "luts", tmp_path / "pareto.png")
    assert front == [(900.0, 0.6), (1500.0, 0.7)]
    assert (tmp_path / "pareto.png").read_bytes().startswith(PNG)
    curves = sample_efficiency_plot({"tpe": [t["accuracy"] for t in trials], "brute force": [0.5, 0.7]},
                                    tmp_path / "efficiency.png")
    assert curves == {"tpe": [0.6, 0.7, 0.7], "brute force": [0.5, 0.7]}
    assert (tmp_path / "efficiency.png").read_bytes().startswith(PNG)


def test_a_metric_no_trial_measured_is_named_with_what_was(tmp_path: Path) -> None:
    write_log(tmp_path / "log.json")
    with pytest.raises(MachopError, match="no trial measured 'bitops'; measured: accuracy, loss, luts"):
        pareto_plot(trial_metrics(tmp_path / "log.json"), "bitops", tmp_path / "p.png")
    assert not (tmp_path / "p.png").exists()


def test_an_unreadable_log_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "log.json").write_text("{not json")
    with pytest.raises(MachopError, match=r"log.json: cannot read a search log \("):
        trial_metrics(tmp_path / "log.json")
