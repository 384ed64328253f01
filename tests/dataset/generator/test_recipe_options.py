"""Recipe options and the detector level: what each option changes in Pythia, and small generations with them."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq

from chop.cli import main
from chop.dataset.generator import COLUMNS, DetectorConfig, GeneratorOptions, generate
from chop.dataset.generator.processes import RESONANCES, Recipe, from_hard_process, hard_process_only, single_pass

NEW_RECIPE = Recipe(stable_ctau_mm=0.0, resonances="on-shell", gluon_pt_hat_max=0.0, z_decays="udsc")


def window(settings: list[str], pid: int) -> tuple[float, float]:
    values = dict(line.split(" = ") for line in settings if line.startswith(f"{pid}:m"))
    return float(values[f"{pid}:mMin"]), float(values[f"{pid}:mMax"])


def test_on_shell_puts_each_sample_s_own_resonance_at_the_pole_and_keeps_the_top_s_w_window() -> None:
    for jet_class, pid in (("w", 24), ("z", 23), ("t", 6)):
        low, high = window(hard_process_only(jet_class, NEW_RECIPE), pid)
        mass, width = RESONANCES[pid]
        assert np.isclose(high - low, 0.002 * width, rtol=1e-3) and np.isclose((low + high) / 2, mass)
    low, high = window(from_hard_process(NEW_RECIPE), 24)  # pass 2 decays the top's W
    assert np.isclose(high - low, 30 * RESONANCES[24][1], rtol=1e-6)
    low, high = window(single_pass("t", NEW_RECIPE), 24)
    assert np.isclose(high - low, 30 * RESONANCES[24][1], rtol=1e-6)


def test_gluon_pthat_cut_and_z_decays() -> None:
    gluon = hard_process_only("g", NEW_RECIPE)
    assert [line for line in gluon if line.startswith("PhaseSpace:pTHatMax")][-1] == "PhaseSpace:pTHatMax = -1.0"
    assert [line for line in hard_process_only("q", NEW_RECIPE) if line.startswith("PhaseSpace:pTHatMax")] == ["PhaseSpace:pTHatMax = 1005."]
    assert "23:onIfAny = 1 2 3 4" in from_hard_process(NEW_RECIPE) and "23:onIfAny = 1 2 3 4 5" in from_hard_process(Recipe())


def test_detector_level_with_the_new_recipe_is_recorded_and_independent_of_workers(tmp_path) -> None:
    out = tmp_path / "jets.parquet"
    flags = ["--resonances", "on-shell", "--gluon-pthat-max", "0", "--z-decays", "udsc", "--min-groomed-constituents", "3",
             "--level", "detector", "--detector", "r0.5:h0.010:e0.005:t220"]
    assert main(["data", "generate-jsc", "--per-class", "2", "--seed", "5", "--chunk-size", "1", "--workers", "2",
                 "--out", str(out), *flags]) == 0
    provenance = json.loads(out.with_name("jets.provenance.json").read_text())
    options = provenance["options"]
    assert options["level"] == "detector" and options["stable_ctau_mm"] == 0.0  # the detector level implies Pythia's decays
    assert options["detector"] == {"smearing": 0.5, "hcal_cell": 0.01, "ecal_cell": 0.005, "track_pt_max": 220.0}
    assert (options["resonances"], options["gluon_pt_hat_max"], options["z_decays"], options["min_groomed_constituents"]) == (
        "on-shell", 0.0, "udsc", 3)
    command = provenance["command"]
    assert command[command.index("--stable-ctau") + 1] == "0.0" and command[command.index("--detector") + 1] == "r0.5:h0.01:e0.005:t220"
    assert sorted(provenance["dropped_few_groomed_constituents"]) == ["g", "q", "t", "w", "z"]
    table = pq.read_table(out)
    assert (table.column("j_nconst_mmdt").to_numpy() >= 3).all()
    assert not np.isnan(np.stack([table.column(name).to_numpy() for name in COLUMNS], axis=1)).any()
    # one worker, from the library: the same jets (smearing seeds derive from the chunk seeds)
    same = generate(GeneratorOptions(per_class=2, seed=5, chunk_size=1, stable_ctau_mm=0.0, resonances="on-shell",
                                     gluon_pt_hat_max=0.0, z_decays="udsc", min_groomed_constituents=3, level="detector",
                                     detector=DetectorConfig()), workers=1)
    shipped = np.stack([table.column(name).to_numpy() for name in COLUMNS], axis=1)
    assert np.array_equal(np.stack([same.columns[name] for name in COLUMNS], axis=1).astype(np.float32), shipped)
    assert same.dropped == provenance["dropped_few_groomed_constituents"]
