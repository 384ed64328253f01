"""The "Best trial(s)" tables: every header and value in full, none wider than a pipe."""

from __future__ import annotations

import io

from rich.console import Console

from chop.search.outputs import best_tables
from chop.search.strategy_base import SearchResult, TrialRecord

HARDWARE = {"bitops": 343360.0, "luts": 33354.0, "ffs": 2716.0, "dsps": 0.0, "latency_cycles": 12.0,
            "yosys_luts": 33179.0, "yosys_ffs": 2732.0, "yosys_dsps": 0.0, "yosys_carry4": 10083.0}


def trial(number: int, accuracy: float, luts: float) -> TrialRecord:
    software = {"loss": 0.9123456, "accuracy": accuracy}
    return TrialRecord(number, "COMPLETE", (accuracy, luts), software, {**HARDWARE, "luts": luts}, {}, {}, None,
                       None, None)


def rendered(table: object, width: int = 100) -> list[str]:
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(table)
    return console.export_text().splitlines()


def test_many_metrics_split_into_tables_that_fit_a_pipe_and_cut_nothing() -> None:
    best = (trial(12, 0.7011, 33354.0), trial(907, 0.6899, 1123.0))
    result = SearchResult(best, best, ("accuracy", "luts"), True, 1.0)
    tables = best_tables(result)
    assert len(tables) == 2
    lines = [line for table in tables for line in rendered(table)]
    assert max(map(len, lines)) <= 100
    text = "\n".join(lines)
    for name in ("number", "loss", "accuracy", *HARDWARE, "scaled accuracy", "scaled luts"):
        assert all(f" {word} " in text for word in name.split())  # a header wraps at spaces, whole words
    for value in ("0.9123", "0.7011", "3.434e+05", "3.335e+04", "1.008e+04", "907", "1123"):
        assert value in text
    assert "…" not in text
    # every table leads with the trial number, so each row reads on its own
    assert all(table.columns[0].header == "number" for table in tables)


def test_few_metrics_keep_one_table() -> None:
    record = TrialRecord(3, "COMPLETE", (0.61,), {"accuracy": 0.61, "loss": 1.0}, {"average_bitwidth": 4.0}, {}, {},
                         None, None, None)
    result = SearchResult((record,), (record,), ("accuracy",), False, 1.0)
    (table,) = best_tables(result)
    assert table.title == "Best trial(s)"
    assert [column.header for column in table.columns] == ["number", "accuracy", "loss", "average_bitwidth",
                                                          "objective"]
    assert max(map(len, rendered(table))) <= 100
