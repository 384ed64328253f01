"""The shipped jsc-pythia sample: its provenance replays, and its physics looks like JSC."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

import chop
from chop.dataset.generator import CLASSES, COLUMNS, GeneratorOptions, JetSelection, generate
from chop.dataset.generator.output import sha256

DATA = Path(chop.__file__).parent / "dataset" / "data"
SAMPLE = DATA / "jsc-pythia.parquet"
PROVENANCE = json.loads((DATA / "jsc-pythia.provenance.json").read_text())
REPLAYED_PER_CLASS = 25


@pytest.fixture(scope="module")
def table() -> dict[str, np.ndarray]:
    data = pq.read_table(SAMPLE)
    return {name: data.column(name).to_numpy() for name in data.column_names}


def test_provenance_describes_the_file(table) -> None:
    assert PROVENANCE["sha256"] == sha256(SAMPLE)
    options = PROVENANCE["options"]
    assert PROVENANCE["rows"] == len(table["label"]) == 5 * options["per_class"]
    assert np.bincount(table["label"]).tolist() == [options["per_class"]] * 5
    command = PROVENANCE["command"]
    assert command[:3] == ["ch", "data", "generate-jsc"]
    assert command[command.index("--seed") + 1] == str(options["seed"])
    assert command[command.index("--workers") + 1] == str(PROVENANCE["workers"])
    assert {"pythia8mc", "fastjet", "machop"} <= PROVENANCE["versions"].keys()


def test_recorded_command_reproduces_the_first_rows_of_every_class(table) -> None:
    recorded = PROVENANCE["options"]
    options = GeneratorOptions(
        per_class=REPLAYED_PER_CLASS,
        seed=recorded["seed"],
        selection=JetSelection(**recorded["selection"]),
        decay_route=recorded["decay_route"],
        bw_cutoff=recorded["bw_cutoff"],
        stable_ctau_mm=recorded["stable_ctau_mm"],
        chunk_size=recorded["chunk_size"],
    )
    fresh = generate(options, workers=PROVENANCE["workers"]).columns
    shipped = np.stack([table[name] for name in COLUMNS], axis=1)
    for label in range(len(CLASSES)):
        mine = np.stack([fresh[name][fresh["label"] == label] for name in COLUMNS], axis=1).astype(np.float32)
        assert np.array_equal(mine, shipped[table["label"] == label][:REPLAYED_PER_CLASS], equal_nan=True)


def test_physics_fingerprints(table) -> None:
    labels = table["label"]
    mass = table["j_mass_mmdt"]
    peaks = [np.nanmedian(mass[labels == c]) for c in range(5)]
    assert 70 < peaks[2] < 90 and 80 < peaks[3] < 100 and 150 < peaks[4] < 190  # W, Z, top
    assert peaks[0] < 70 and peaks[1] < 40  # QCD jets mostly light
    multiplicity = table["j_multiplicity"]
    assert multiplicity[labels == 0].mean() > 1.3 * multiplicity[labels == 1].mean()  # gluons > quarks
    assert 40 < multiplicity.mean() < 60  # R = 0.4 sibling-dataset fingerprint is 49.4
    assert np.array_equal(table["j_d2_a1_b1_mmdt"], table["j_d2_b1_mmdt"], equal_nan=True)
    nan_rows = np.isnan(np.stack([table[name] for name in COLUMNS[:16]], axis=1)).any(axis=1)
    assert nan_rows.mean() < 0.01
    assert np.array_equal(nan_rows, table["j_nconst_mmdt"] == 1)  # 0/0 ratios of one-constituent jets only


def test_sample_is_compact_float32_parquet(table) -> None:
    # 100k rows x 20 float32 columns are 8 MB raw; measured physics values barely compress
    assert SAMPLE.stat().st_size < 12_000_000
    schema = pq.read_schema(SAMPLE)
    assert all(str(schema.field(name).type) == "float" for name in COLUMNS)
    assert all(str(schema.field(name).type) == "int8" for name in ("label", "j_g", "j_q", "j_w", "j_z", "j_t"))
