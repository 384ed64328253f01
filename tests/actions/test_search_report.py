"""``ch search --report DIR ...``: the table and plots of a finished search rebuilt from its folder, no search run."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import pytest
from cli_helpers import cli, error_line

EXAMPLE = Path(__file__).parents[2] / "configs" / "search" / "jsc_tiny_mixed_precision.toml"
PNG = b"\x89PNG\r\n\x1a\n"


def table(out: str) -> list[str]:
    """The "Best trial(s)" table of what ``ch search`` printed: its title line to its bottom border."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if "Best trial(s)" in line)
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("└"))
    return lines[start:end + 1]


def search(folder: Path, sampler: str) -> tuple[Path, str]:
    """The example search (12 trials of its 18 points on 200 rows) with ``sampler``: its folder and its output."""
    config = folder / "search.toml"
    config.write_text(EXAMPLE.read_text().replace("num_samples = 512", "num_samples = 200")
                      .replace("n_trials = 20", "n_trials = 12").replace('sampler = "tpe"', f'sampler = "{sampler}"'))
    code, out, err = cli(["search", "--config", str(config), "--project-dir", str(folder)])
    assert code == 0, err
    return folder / "tiny" / "software" / "search_ckpts", out


@pytest.fixture(scope="module")
def searches(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    return {sampler: search(tmp_path_factory.mktemp(sampler), sampler) for sampler in ("brute_force", "tpe")}


def test_the_report_prints_the_searchs_table_and_redraws_its_plots(searches: dict[str, tuple[Path, str]]) -> None:
    folder, searched = searches["tpe"]
    code, out, err = cli(["search", "--report", str(folder)])
    assert code == 0, err
    assert table(out) == table(searched) and len(table(out)) > 5
    assert out.splitlines()[0] == f"{folder}: 12 trials (12 complete, 0 skipped) from log.json"
    # the example measures average_bitwidth (no LUTs, no BitOPs): one Pareto plot, the same bytes as the search's
    assert sorted(p.name for p in (folder / "report").iterdir()) == ["pareto_average_bitwidth.png"]
    drawn = (folder / "report" / "pareto_average_bitwidth.png").read_bytes()
    assert drawn[:8] == PNG and drawn == (folder / "pareto_average_bitwidth.png").read_bytes()
    assert not (folder / "pareto_luts.png").exists()


def test_a_folder_with_only_the_study_reports_the_same_best_trials(searches: dict[str, tuple[Path, str]],
                                                                    tmp_path: Path) -> None:
    folder, searched = searches["brute_force"]
    for part in folder.glob("study.sqlite*"):  # with SQLite's write-ahead log, while the study is open
        shutil.copy(part, tmp_path / part.name)
    code, out, err = cli(["search", "--report", str(tmp_path), "--json"])
    assert code == 0, err
    from_study = json.loads(out)["reports"][0]
    best = json.loads((folder / "best.json").read_text())
    assert from_study["source"] == str(tmp_path / "study.sqlite") and from_study["trials"] == 12
    assert sorted(row["number"] for row in from_study["best_trials"]) == sorted(row["number"] for row in best.values())
    for row in from_study["best_trials"]:
        original = next(b for b in best.values() if b["number"] == row["number"])
        assert row == original
    assert (tmp_path / "report" / "pareto_average_bitwidth.png").read_bytes() == \
        (folder / "pareto_average_bitwidth.png").read_bytes()


def test_several_folders_give_the_sample_efficiency_plot_in_the_first_ones_report(
        searches: dict[str, tuple[Path, str]]) -> None:
    brute, tpe = searches["brute_force"][0], searches["tpe"][0]
    code, out, err = cli(["search", "--report", str(brute), str(tpe), "--json"])
    assert code == 0, err
    report = json.loads(out)
    assert [r["folder"] for r in report["reports"]] == [str(brute), str(tpe)]
    assert report["plots"] == [str(brute / "report" / "pareto_average_bitwidth.png"),
                               str(brute / "report" / "sample_efficiency.png"),
                               str(tpe / "report" / "pareto_average_bitwidth.png")]
    for folder, read in zip((brute, tpe), report["reports"]):  # the curves: the running best of the logs' accuracy
        log = json.loads((folder / "log.json").read_text())
        values = [e["user_attrs_software_metrics"]["accuracy"] for e in sorted(log.values(), key=lambda e: e["number"])]
        assert read["best_accuracy_so_far"] == list(itertools.accumulate(values, max)) and len(values) == 12
    efficiency = (brute / "report" / "sample_efficiency.png").read_bytes()
    assert efficiency[:8] == PNG and len(efficiency) > 10_000


def test_a_second_report_keeps_the_first(searches: dict[str, tuple[Path, str]], tmp_path: Path) -> None:
    folder = tmp_path / "search_ckpts"
    shutil.copytree(searches["tpe"][0], folder)
    shutil.rmtree(folder / "report", ignore_errors=True)
    for _ in range(2):
        assert cli(["search", "--report", str(folder), "--json"])[0] == 0
    assert (folder / "report-v1" / "pareto_average_bitwidth.png").read_bytes() == \
        (folder / "report" / "pareto_average_bitwidth.png").read_bytes()


def test_a_rerun_keeps_the_earlier_plots_with_the_logs_version(tmp_path: Path) -> None:
    folder, _ = search(tmp_path, "random")
    earlier = (folder / "pareto_average_bitwidth.png").read_bytes()
    search(tmp_path, "tpe")
    assert (folder / "pareto_average_bitwidth-v1.png").read_bytes() == earlier
    assert (folder / "log-v1.json").is_file() and (folder / "pareto_average_bitwidth.png").is_file()


def test_a_folder_without_a_search_is_one_line(tmp_path: Path) -> None:
    code, _, err = cli(["search", "--report", str(tmp_path)])
    assert code != 0
    assert error_line(err) == (f"ch: error: --report {tmp_path}: no log.json and no study.sqlite there; give the "
                               "folder ch search wrote (…/software/search_ckpts)")
    code, _, err = cli(["search", "--report", str(tmp_path / "nowhere")])
    assert error_line(err) == (f"ch: error: --report {tmp_path / 'nowhere'}: not a folder; give a search folder "
                               "(…/software/search_ckpts)")
    (tmp_path / "log.json").write_text("[1, 2]")
    code, _, err = cli(["search", "--report", str(tmp_path)])
    assert error_line(err) == f"ch: error: {tmp_path / 'log.json'}: expected ch search's object of trials, got list"


@pytest.mark.parametrize(("flags", "named"), [(["--config", "x.toml"], "--config"), (["jsc-tiny"], "MODEL"),
                                              (["--load", "best.ckpt"], "--load"), (["--storage", "memory"], "--storage"),
                                              (["--jobs", "2"], "--jobs")])
def test_flags_that_define_a_search_are_refused_with_report_not_ignored(tmp_path: Path, flags: list[str],
                                                                         named: str) -> None:
    code, out, err = cli(["search", *flags, "--report", str(tmp_path)])
    assert code != 0 and out == ""
    assert error_line(err) == (f"ch: error: --report reads finished searches only; {named} has no use with it (the "
                               "tables and plots come from each folder's log.json or study.sqlite): drop "
                               f"{named}, or run the search without --report")
    assert not (tmp_path / "report").exists()
