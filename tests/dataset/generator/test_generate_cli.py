"""`ch data generate-jsc`: bad input gives one line and a non-zero exit; output is deterministic."""

from __future__ import annotations

import sys

import numpy as np
import pyarrow.parquet as pq
import pytest

from chop.cli import main
from chop.dataset.generator import CLASSES, COLUMNS, GeneratorOptions, generate
from chop.dataset.generator.run import chunk_seeds, plan


@pytest.mark.parametrize("count", ["0", "-3"])
def test_zero_or_negative_jets_is_a_one_line_error(count: str, tmp_path, capsys) -> None:
    out = tmp_path / "x.parquet"
    code = main(["data", "generate-jsc", "--per-class", count, "--seed", "1", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("ch: error: --per-class must be a positive number") and f"got {count}" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--stable-ctau", "-1"], "--stable-ctau must be >= 0 mm, got -1.0"),
        (["--radius", "3"], "--radius must lie in [0.05, 2.0], got 3.0"),
        (["--pt-min", "900", "--pt-max", "800"], "--pt-max (800.0) must exceed --pt-min (900.0)"),
        (["--workers", "0"], "--workers must be positive, got 0"),
        (["--min-groomed-constituents", "0"], "--min-groomed-constituents must be at least 1, got 0"),
        (["--gluon-pthat-max", "900"], "--gluon-pthat-max must exceed the 995 GeV pTHat minimum (0: no upper cut), got 900.0"),
        (["--level", "detector", "--stable-ctau", "10"],
         "--level detector uses Pythia's default decays: --stable-ctau must be 0, got 10.0"),
        (["--detector", "r0.5:h0.01:e0.005"],
         "--detector must give all of r, h, e and t, as in r0.5:h0.010:e0.005:t220, got 'r0.5:h0.01:e0.005'"),
        (["--detector", "r0.5:x1"],
         "--detector must look like r0.5:h0.010:e0.005:t220 (each of r, h, e, t once), got 'r0.5:x1'"),
    ],
)
def test_bad_options_are_one_line_errors(flags: list[str], message: str, tmp_path, capsys) -> None:
    code = main(["data", "generate-jsc", "--per-class", "5", "--seed", "1", "--out", str(tmp_path / "x.parquet"), *flags])
    err = capsys.readouterr().err
    assert code == 2 and err == f"ch: error: {message}\n"


def test_missing_physics_extra_says_how_to_install(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "pythia8mc", None)  # makes `import pythia8mc` fail
    code = main(["data", "generate-jsc", "--per-class", "5", "--seed", "1", "--out", str(tmp_path / "x.parquet")])
    err = capsys.readouterr().err
    assert code == 2
    assert "pip install 'machop[physics]'" in err and "pythia8mc" in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_plan_and_seeds() -> None:
    jobs = plan(GeneratorOptions(per_class=7, seed=1, chunk_size=3))
    assert [(j.class_index, j.chunk, j.jets) for j in jobs if j.class_index == 2] == [(2, 0, 3), (2, 1, 3), (2, 2, 1)]
    assert len(jobs) == 3 * len(CLASSES)
    seeds = {chunk_seeds(s, c, k) for s in (1, 2) for c in CLASSES for k in range(20)}
    assert len(seeds) == 2 * len(CLASSES) * 20  # all distinct
    assert all(1 <= a <= 900_000_000 and 1 <= b <= 900_000_000 for a, b in seeds)


def test_same_seed_and_workers_give_identical_output_and_prefixes_reproduce(tmp_path) -> None:
    args = ["data", "generate-jsc", "--seed", "11", "--workers", "2", "--chunk-size", "2"]
    assert main([*args, "--per-class", "3", "--out", str(tmp_path / "a.parquet")]) == 0
    assert main([*args, "--per-class", "3", "--out", str(tmp_path / "b.parquet")]) == 0
    a = pq.read_table(tmp_path / "a.parquet")
    assert a.equals(pq.read_table(tmp_path / "b.parquet"))
    assert a.column_names == [*COLUMNS, "label", "j_g", "j_q", "j_w", "j_z", "j_t"]
    labels = a.column("label").to_numpy()
    assert labels.tolist() == [c for c in range(5) for _ in range(3)]
    one_hot = np.stack([a.column(f"j_{c}").to_numpy() for c in CLASSES], axis=1)
    assert (one_hot.argmax(axis=1) == labels).all() and (one_hot.sum(axis=1) == 1).all()
    table = np.stack([a.column(name).to_numpy() for name in COLUMNS], axis=1)
    # one worker, fewer jets: every class's rows are a prefix of the two-worker run
    small = generate(GeneratorOptions(per_class=2, seed=11, chunk_size=2), workers=1).columns
    for label in range(5):
        rows = np.stack([small[name][small["label"] == label] for name in COLUMNS], axis=1).astype(np.float32)
        assert np.array_equal(rows, table[labels == label][:2], equal_nan=True)
    # a different seed gives different jets
    other = generate(GeneratorOptions(per_class=1, seed=12, chunk_size=2), workers=1).columns
    assert not np.allclose(other["j_pt"], table[::3, COLUMNS.index("j_pt")])


@pytest.mark.parametrize("kind", ["parent is a file", "out is a directory"])
def test_an_unwritable_out_fails_before_generating(kind: str, tmp_path, capsys, monkeypatch) -> None:
    import chop.dataset.generator as generator

    def never(*args, **kwargs):
        raise AssertionError("generation started although --out cannot be written")

    monkeypatch.setattr(generator, "generate", never)
    blocker = tmp_path / "blocker"
    if kind == "parent is a file":
        blocker.write_text("")
        out, expected = blocker / "jets.parquet", f"ch: error: directory {blocker} is a file, not a directory\n"
    else:
        blocker.mkdir()
        out, expected = blocker, f"ch: error: --out {blocker} is a directory; give a file name such as {blocker / 'jets.parquet'}\n"
    code = main(["data", "generate-jsc", "--per-class", "5", "--seed", "1", "--out", str(out)])
    assert code == 2 and capsys.readouterr().err == expected
