"""Studies that survive and scale: a kill -9 resumes, two workers share one SQLite study, mistakes are one line."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import optuna
import pytest
import sqlalchemy
import torch

from chop.cli import main
from chop.models import get_model

EXAMPLE = Path(__file__).parents[2] / "configs" / "search" / "jsc_tiny_mixed_precision.toml"
STUDY = "jsc-tiny/graph/quantize/mixed_precision_ptq"
SEARCH = [sys.executable, "-m", "chop.cli", "search"]


def _config(tmp_path: Path, trials: int, extra_setup: str = "grace_period = 2", name: str = "c.toml") -> Path:
    """The example search with ``trials`` random trials (every point once is not the point here)."""
    config = tmp_path / name
    config.write_text(EXAMPLE.read_text().replace("n_trials = 20", f"n_trials = {trials}\n{extra_setup}")
                      .replace('sampler = "tpe"', 'sampler = "random"'))
    return config


def _trials(url: str) -> list[optuna.trial.FrozenTrial]:
    return optuna.load_study(study_name=STUDY, storage=url).get_trials(deepcopy=False)


def _run(capsys: pytest.CaptureFixture, argv: list[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_two_workers_share_one_sqlite_study(tmp_path: Path) -> None:
    """Two `ch search` processes on one --storage: exactly n_trials finished trials between them, numbered once."""
    url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    config = _config(tmp_path, 40)
    workers = [subprocess.Popen([*SEARCH, "--config", str(config), "--project-dir", str(tmp_path), "--project", name,
                                 "--storage", url, "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
               for name in ("a", "b")]
    outputs = [worker.communicate(timeout=600) for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], [err.decode() for _, err in outputs]
    trials = _trials(url)
    numbers = [t.number for t in trials]
    assert sorted(numbers) == list(range(len(trials)))  # optuna numbered every trial once
    assert Counter(t.state.name for t in trials)["COMPLETE"] == 40
    # anything else is a trial asked when the other worker had taken the last place: failed unrun, one per worker
    extra = [t for t in trials if t.state.name != "COMPLETE"]
    assert len(extra) <= 2 and all(t.state.name == "FAIL" and t.user_attrs["surplus"] for t in extra)
    # each worker waited for the study to be complete: both logs list the same 40 trials, the whole study
    logs = [json.loads((tmp_path / name / "software" / "search_ckpts" / "log.json").read_text()) for name in "ab"]
    assert logs[0] == logs[1]
    assert sorted(e["number"] for e in logs[0].values()) == sorted(t.number for t in trials if t.state.name == "COMPLETE")
    assert [json.loads(out)["complete"] for out, _ in outputs] == [40, 40]


def test_a_killed_search_resumes_where_it_stopped(tmp_path: Path) -> None:
    """kill -9 after some trials are stored; the rerun keeps them, runs the rest and ends with n_trials finished."""
    url = f"sqlite:///{tmp_path / 'p' / 'software' / 'search_ckpts' / 'study.sqlite'}"
    config = _config(tmp_path, 60)
    argv = [*SEARCH, "--config", str(config), "--project-dir", str(tmp_path), "--project", "p"]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    study = None
    while process.poll() is None:  # poll the study: kill once at least 5 trials are stored
        try:
            study = study or optuna.load_study(study_name=STUDY, storage=url)
        except (KeyError, ValueError, sqlalchemy.exc.SQLAlchemyError):  # the file or the study is not there yet
            time.sleep(0.05)
            continue
        if len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))) >= 5:
            process.kill()
            break
        time.sleep(0.05)
    process.wait(timeout=60)
    assert process.returncode == -9, process.stderr.read().decode()
    before = {t.number: (t.params, t.values) for t in _trials(url) if t.state.name == "COMPLETE"}
    assert 5 <= len(before) < 60

    done = subprocess.run([*argv[:-2], "--project", "p", "--json"], capture_output=True, check=True, timeout=600)
    result = json.loads(done.stdout)
    assert result["resumed"] == len(before) and result["complete"] == 60
    after = _trials(url)
    complete = {t.number: (t.params, t.values) for t in after if t.state.name == "COMPLETE"}
    assert len(complete) == 60 and all(complete[n] == before[n] for n in before)  # not redone
    # a trial the kill cut short is failed once its heartbeat is stale, and its point queued again (the
    # parameters it had sampled before the kill are kept; the others are sampled by the retry)
    for lost in (t for t in after if t.state.name == "FAIL"):
        [retried] = [t for t in after if t.system_attrs.get("failed_trial") == lost.number]
        assert lost.params.items() <= retried.params.items() and retried.state.name == "COMPLETE"
    assert {t.state.name for t in after} <= {"COMPLETE", "FAIL", "RUNNING"}
    log = json.loads(Path(result["log"]).read_text())
    assert sorted(e["number"] for e in log.values() if e["state"] == "COMPLETE") == sorted(complete)


def test_a_study_of_another_search_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Same study name, other weights or other choices: the rerun refuses to mix its trials in."""
    config = _config(tmp_path, 2)
    base = ["search", "--config", str(config), "--project-dir", str(tmp_path), "--project", "p"]
    assert _run(capsys, base)[0] == 0
    torch.manual_seed(3)
    torch.save(get_model("jsc-tiny").state_dict(), tmp_path / "other.pt")
    url = f"sqlite:///{tmp_path / 'p' / 'software' / 'search_ckpts' / 'study.sqlite'}"
    code, _, err = _run(capsys, [*base, "--load", str(tmp_path / "other.pt")])
    assert code == 2 and err.strip().splitlines()[-1] == (
        f"ch: error: --storage {url}: study '{STUDY}' belongs to another search (its model differs from this one's: "
        "model = the weights, space = the choices, objectives = metrics and runners, data = the evaluated rows, "
        "seed = what draws retrained candidates' weights); "
        "resume it as it was, or pass --storage with another file or database")
    other = _config(tmp_path, 2, name="other.toml")
    other.write_text(other.read_text().replace("weight_width = [2, 4, 8]", "weight_width = [2, 4]")
                     .replace("num_samples = 512", "num_samples = 256"))
    code, _, err = _run(capsys, [*base[:2], str(other), *base[3:]])
    assert code == 2 and "(its space, objectives and data differ from this one's" in err.strip().splitlines()[-1]
    assert len(_trials(url)) == 2  # nothing was added


def test_a_study_not_made_by_ch_search_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    url = f"sqlite:///{tmp_path / 'theirs.sqlite'}"
    optuna.create_study(study_name=STUDY, storage=url).optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=1)
    code, _, err = _run(capsys, ["search", "--config", str(_config(tmp_path, 2)), "--project-dir", str(tmp_path),
                                 "--storage", url])
    assert code == 2 and err.strip().splitlines()[-1] == (
        f"ch: error: --storage {url}: study '{STUDY}' was not made by ch search (it has trials and no machop "
        "fingerprint); pass --storage with another file or database")


@pytest.mark.parametrize(("url", "message"), [
    ("nosuchdb://x", "--storage nosuchdb://x: cannot open the study storage (NoSuchModuleError: Can't load plugin: "
                     "sqlalchemy.dialects:nosuchdb)"),
    ("postgresql://localhost:1/db", "--storage postgresql://localhost:1/db: cannot open the study storage (ImportError: "
                                    "Failed to import DB access module for the specified storage URL."),
    ("sqlite:////proc/no/study.sqlite", "directory /proc/no is not writable (No such file or directory); --storage "
                                        "sqlite:////proc/no/study.sqlite needs a folder it can write the study file in"),
])
def test_unreachable_storage_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture, url: str, message: str) -> None:
    code, _, err = _run(capsys, ["search", "--config", str(_config(tmp_path, 2)), "--project-dir", str(tmp_path),
                                 "--storage", url])
    assert code == 2 and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith(f"ch: error: {message}")


def test_a_file_that_is_not_a_database_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    text = tmp_path / "notes.sqlite"
    text.write_text("not a database")
    code, _, err = _run(capsys, ["search", "--config", str(_config(tmp_path, 2)), "--project-dir", str(tmp_path),
                                 "--storage", f"sqlite:///{text}"])
    assert code == 2 and err.strip().splitlines()[-1] == (
        f"ch: error: --storage sqlite:///{text}: cannot open the study storage (DatabaseError: (sqlite3.DatabaseError) "
        "file is not a database)")


def test_the_toml_names_the_storage_and_the_flag_beats_it(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from_toml = f"sqlite:///{tmp_path / 'toml.sqlite'}"
    config = _config(tmp_path, 2, extra_setup=f'storage = "{from_toml}"')
    code, out, err = _run(capsys, ["search", "--config", str(config), "--project-dir", str(tmp_path), "--json"])
    assert code == 0, err
    assert json.loads(out)["storage"] == from_toml and len(_trials(from_toml)) == 2
    flag = f"sqlite:///{tmp_path / 'flag.sqlite'}"
    code, out, err = _run(capsys, ["search", "--config", str(config), "--project-dir", str(tmp_path), "--json",
                                   "--storage", flag])
    assert code == 0, err
    assert json.loads(out)["storage"] == flag and len(_trials(flag)) == 2 and len(_trials(from_toml)) == 2


def test_storage_memory_keeps_no_study_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code, out, err = _run(capsys, ["search", "--config", str(_config(tmp_path, 3)), "--project-dir", str(tmp_path),
                                   "--project", "p", "--storage", "memory", "--json"])
    assert code == 0, err
    result = json.loads(out)
    assert (result["storage"], result["study"], result["trials"]) == (None, None, 3)
    assert sorted(p.name for p in (tmp_path / "p" / "software" / "search_ckpts").iterdir()) == [
        "best.json", "log.json", "pareto_average_bitwidth.png"]


# Workers that die as kill -9 would (no tell: the trial stays RUNNING): in the middle of a trial, after
# sampling one choice and sending its first heartbeat; or between asking for a trial and starting it.
DYING_WORKER = '''
import os, sys
import optuna
from chop.search.storage import open_storage

study = optuna.load_study(study_name=sys.argv[2], storage=open_storage(sys.argv[1], grace_period=2))
if sys.argv[3] == "mid-trial":
    def objective(trial):
        trial.suggest_int("seq_blocks_2/config/weight_width", 0, 2)
        os._exit(0)

    study.optimize(objective, n_trials=1)
study.ask()
os._exit(0)
'''


@pytest.mark.parametrize("when", ["mid-trial", "before-its-objective"])
def test_a_lost_trial_does_not_count_and_its_point_is_run_again(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                                when: str) -> None:
    """Mid-trial: its heartbeat goes stale, it is failed and its point queued again. Before its objective (no
    heartbeat, no parameters): it is not counted once the grace period is over, and left as it is."""
    search_dir = tmp_path / "p" / "software" / "search_ckpts"
    url = f"sqlite:///{search_dir / 'study.sqlite'}"
    base = ["search", "--config", str(_config(tmp_path, 3)), "--project-dir", str(tmp_path), "--project", "p", "--json"]
    assert _run(capsys, base)[0] == 0
    (tmp_path / "dying.py").write_text(DYING_WORKER)
    subprocess.run([sys.executable, str(tmp_path / "dying.py"), url, STUDY, when], check=True, timeout=120)
    [lost] = [t for t in _trials(url) if t.state.name == "RUNNING"]
    code, out, err = _run(capsys, [*base[:2], str(_config(tmp_path, 6, name="six.toml")), *base[3:]])
    assert code == 0, err
    result = json.loads(out)
    assert (result["resumed"], result["complete"]) == (3, 6)
    after = {t.number: t for t in _trials(url)}
    retries = [t for t in after.values() if t.system_attrs.get("failed_trial") == lost.number]
    if when == "mid-trial":
        assert after[lost.number].state.name == "FAIL"
        [retry] = retries
        assert lost.params and lost.params.items() <= retry.params.items() and retry.state.name == "COMPLETE"
        assert Counter(t.state.name for t in after.values()) == {"COMPLETE": 6, "FAIL": 1}
    else:
        assert after[lost.number].state.name == "RUNNING" and not after[lost.number].params and retries == []
        assert Counter(t.state.name for t in after.values()) == {"COMPLETE": 6, "RUNNING": 1}
