"""The first bundled sample (2026-11) stays reproducible: its recipe is a set of options.

``tests/fixtures/first_jsc_sample/`` holds that sample's provenance and its first 5 jets of each
class, as shipped then; regenerating them with ``FIRST_SAMPLE_RECIPE`` must give the same bits.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from chop.dataset.generator import CLASSES, COLUMNS, FIRST_SAMPLE_RECIPE, GeneratorOptions, generate

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "first_jsc_sample"
JETS_PER_CLASS = 5


def test_first_recipe_options_regenerate_the_first_sample() -> None:
    recorded = json.loads((FIXTURE / "jsc-pythia.provenance.json").read_text())["options"]
    options = GeneratorOptions.from_dict({**recorded, "per_class": JETS_PER_CLASS})
    assert options == GeneratorOptions(per_class=JETS_PER_CLASS, seed=20261126, **FIRST_SAMPLE_RECIPE)
    fresh = generate(options).columns
    shipped = pq.read_table(FIXTURE / "head.parquet")
    labels = shipped.column("label").to_numpy()
    for label in range(len(CLASSES)):
        mine = np.stack([fresh[name][fresh["label"] == label] for name in COLUMNS], axis=1).astype(np.float32)
        theirs = np.stack([shipped.column(name).to_numpy()[labels == label] for name in COLUMNS], axis=1)
        assert np.array_equal(mine, theirs, equal_nan=True), CLASSES[label]
