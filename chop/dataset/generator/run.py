"""Generate a JSC-like sample: jobs of (class, chunk) spread over worker processes, one parquet out.

Seeds are derived from (seed, class, chunk) and each chunk's jets are produced in order, so the
output does not depend on the worker count and a run with fewer jets per class reproduces the
first rows of every class of a larger run with the same seed and chunk size.
"""

from __future__ import annotations

import hashlib
import multiprocessing
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from chop.dataset.generator.detector import DetectorConfig
from chop.dataset.generator.jets import COLUMNS, JetSelection
from chop.dataset.generator.processes import CLASSES, DECAY_ROUTES, PT_HAT_MAX, RESONANCE_MODES, Z_DECAYS, Recipe
from chop.errors import DataError

PYTHIA_SEED_MAX = 900_000_000
MAX_EVENTS_PER_JET = 50  # a selection that rejects more than this is almost surely a mistake
LEVELS: tuple[str, ...] = ("particle", "detector")
DETECTOR_STREAM = 3  # the smearing draws' own stream next to the two Pythia passes of a chunk
GROOMED_CONSTITUENTS = COLUMNS.index("j_nconst_mmdt")
PARTICLE_STABLE_CTAU_MM = 10.0  # hadrons with c*tau above 10 mm count as stable at particle level

# The options (besides per_class and seed) of the first bundled sample (2026-11), so a user comparing
# with results on it regenerates it: GeneratorOptions(per_class=..., seed=20261126, **FIRST_SAMPLE_RECIPE).
FIRST_SAMPLE_RECIPE: dict[str, Any] = {
    "stable_ctau_mm": PARTICLE_STABLE_CTAU_MM, "resonances": "window", "gluon_pt_hat_max": PT_HAT_MAX,
    "z_decays": "udscb", "min_groomed_constituents": 1, "level": "particle",
}


@dataclass(frozen=True)
class GeneratorOptions:
    """Everything that determines a sample; the defaults are the recipe of the bundled sample.

    That recipe closes the accuracy gap to the real dataset (``docs/data.md``): on-shell W/Z/t, no
    upper pTHat cut for gluons, Z to light quarks, jets with fewer than 3 groomed constituents
    dropped (and counted), detector level. ``FIRST_SAMPLE_RECIPE`` holds the options that reproduce
    the first bundled sample. ``min_groomed_constituents`` N drops jets whose mMDT jet has fewer
    than N constituents (their ratios are 0/0 or degenerate) and generates on until ``per_class``
    jets are kept; ``level`` ``detector`` runs the particles through ``detector`` before the jets
    and needs Pythia's default decays (``stable_ctau_mm`` 0), as the original detector-level
    production did; ``stable_ctau_mm`` None means the level's own (10 mm for particles, 0).
    """

    per_class: int
    seed: int
    selection: JetSelection = field(default_factory=JetSelection)
    decay_route: str = "isotropic"
    bw_cutoff: float = 15.0
    stable_ctau_mm: float | None = None
    chunk_size: int = 500
    resonances: str = "on-shell"
    gluon_pt_hat_max: float = 0.0
    z_decays: str = "udsc"
    min_groomed_constituents: int = 3
    level: str = "detector"
    detector: DetectorConfig = field(default_factory=DetectorConfig)

    def __post_init__(self) -> None:
        if self.stable_ctau_mm is None:
            object.__setattr__(self, "stable_ctau_mm", 0.0 if self.level == "detector" else PARTICLE_STABLE_CTAU_MM)

    def recipe(self) -> Recipe:
        return Recipe(self.decay_route, self.bw_cutoff, self.stable_ctau_mm, self.resonances, self.gluon_pt_hat_max,
                      self.z_decays)

    def validate(self) -> None:
        if self.per_class <= 0:
            raise DataError(f"--per-class must be a positive number of jets per class, got {self.per_class}")
        assert self.stable_ctau_mm is not None  # resolved in __post_init__
        if self.stable_ctau_mm < 0:
            raise DataError(f"--stable-ctau must be >= 0 mm, got {self.stable_ctau_mm}")
        if self.chunk_size <= 0:
            raise DataError(f"--chunk-size must be positive, got {self.chunk_size}")
        if self.decay_route not in DECAY_ROUTES:
            raise DataError(f"--decay-route must be one of {', '.join(DECAY_ROUTES)}, got '{self.decay_route}'")
        if not 0.05 <= self.selection.radius <= 2.0:
            raise DataError(f"--radius must lie in [0.05, 2.0], got {self.selection.radius}")
        if self.selection.pt_max and self.selection.pt_max <= self.selection.pt_min:
            raise DataError(f"--pt-max ({self.selection.pt_max}) must exceed --pt-min ({self.selection.pt_min})")
        if self.resonances not in RESONANCE_MODES:
            raise DataError(f"--resonances must be one of {', '.join(RESONANCE_MODES)}, got '{self.resonances}'")
        if self.z_decays not in Z_DECAYS:
            raise DataError(f"--z-decays must be one of {', '.join(Z_DECAYS)}, got '{self.z_decays}'")
        if self.gluon_pt_hat_max and self.gluon_pt_hat_max <= 995.0:
            raise DataError(f"--gluon-pthat-max must exceed the 995 GeV pTHat minimum (0: no upper cut), got {self.gluon_pt_hat_max}")
        if self.min_groomed_constituents < 1:
            raise DataError(f"--min-groomed-constituents must be at least 1, got {self.min_groomed_constituents}")
        if self.level not in LEVELS:
            raise DataError(f"--level must be one of {', '.join(LEVELS)}, got '{self.level}'")
        if self.level == "detector" and self.stable_ctau_mm != 0:
            raise DataError(f"--level detector uses Pythia's default decays: --stable-ctau must be 0, got {self.stable_ctau_mm}")

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> GeneratorOptions:
        """The options a provenance record's ``options`` hold (``as_dict``'s output); a record written
        before an option existed gets that option's value of the first recipe."""
        known = {**FIRST_SAMPLE_RECIPE, **record}
        return cls(**{**known, "selection": JetSelection(**known["selection"]),
                      "detector": DetectorConfig(**known.get("detector", {}))})


@dataclass(frozen=True)
class GeneratedSample:
    """The columns (float64 features, int labels) and, per class, the jets dropped by the cleaning cut."""

    columns: dict[str, np.ndarray]
    dropped: dict[str, int]


@dataclass(frozen=True)
class ChunkRows:
    rows: np.ndarray
    dropped: int


@dataclass(frozen=True)
class Job:
    class_index: int
    chunk: int
    jets: int


def chunk_seeds(seed: int, jet_class: str, chunk: int) -> tuple[int, int]:
    """Two independent Pythia seeds (1..9e8) for one (class, chunk): hash-derived, never colliding by design."""
    seeds = []
    for stage in (1, 2):
        digest = hashlib.sha256(f"machop-jsc/{seed}/{jet_class}/{chunk}/{stage}".encode()).digest()
        seeds.append(int.from_bytes(digest[:8], "little") % PYTHIA_SEED_MAX + 1)
    return seeds[0], seeds[1]


def plan(options: GeneratorOptions) -> list[Job]:
    """Jobs ordered chunk-major so every class advances together."""
    jobs = []
    n_chunks = -(-options.per_class // options.chunk_size)
    for chunk in range(n_chunks):
        jets = min(options.chunk_size, options.per_class - chunk * options.chunk_size)
        jobs.extend(Job(class_index, chunk, jets) for class_index in range(len(CLASSES)))
    return jobs


def run_job(job: Job, options: GeneratorOptions) -> ChunkRows:
    """The (jets, len(COLUMNS)) rows of one chunk, in generation order, and how many jets were dropped."""
    from chop.dataset.generator.detector import emulate
    from chop.dataset.generator.events import EventStream
    from chop.dataset.generator.jets import JetFeatures

    jet_class = CLASSES[job.class_index]
    seeds = chunk_seeds(options.seed, jet_class, job.chunk)
    stream = EventStream(jet_class, seeds, options.recipe())
    smearing = np.random.default_rng([*seeds, DETECTOR_STREAM])
    features = JetFeatures(options.selection)
    rows = np.empty((job.jets, len(COLUMNS)), dtype=np.float64)
    done = events = dropped = 0
    for particles in stream:
        events += 1
        momenta = particles.momenta
        if options.level == "detector":
            momenta = emulate(momenta, particles.ids, options.detector, smearing)
        row = features(momenta)
        if row is not None and row[GROOMED_CONSTITUENTS] < options.min_groomed_constituents:
            dropped += 1
        elif row is not None:
            rows[done] = row
            done += 1
            if done == job.jets:
                return ChunkRows(rows, dropped)
        if events > MAX_EVENTS_PER_JET * job.jets:
            raise DataError(f"the jet selection kept {done} of {events} events; loosen --pt-min/--pt-max")
    raise AssertionError("event streams are infinite")


def _run_job_star(arguments: tuple[Job, GeneratorOptions]) -> tuple[Job, ChunkRows]:
    job, options = arguments
    return job, run_job(job, options)


def generate(options: GeneratorOptions, workers: int = 1, progress: Callable[[int, int], None] | None = None) -> GeneratedSample:
    """Generate ``per_class`` jets of each class, after the cleaning cut.

    ``progress(done, total)`` is called after every finished chunk.
    """
    options.validate()
    if workers <= 0:
        raise DataError(f"--workers must be positive, got {workers}")
    from chop.dataset.generator import native

    native.require_physics()
    native.build()  # once, in the parent, so workers never race to compile
    jobs = plan(options)
    total = options.per_class * len(CLASSES)
    parts: dict[tuple[int, int], ChunkRows] = {}
    done = 0
    if workers == 1:
        results = (_run_job_star((job, options)) for job in jobs)
        for job, chunk in results:
            parts[(job.class_index, job.chunk)] = chunk
            done += job.jets
            if progress:
                progress(done, total)
    else:
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            for job, chunk in pool.imap_unordered(_run_job_star, [(job, options) for job in jobs]):
                parts[(job.class_index, job.chunk)] = chunk
                done += job.jets
                if progress:
                    progress(done, total)
    ordered = sorted(jobs, key=lambda j: (j.class_index, j.chunk))
    table = np.concatenate([parts[(job.class_index, job.chunk)].rows for job in ordered])
    dropped = dict.fromkeys(CLASSES, 0)
    for (class_index, _), chunk in parts.items():
        dropped[CLASSES[class_index]] += chunk.dropped
    labels = np.repeat(np.arange(len(CLASSES), dtype=np.int8), options.per_class)
    columns = {name: table[:, i] for i, name in enumerate(COLUMNS)}
    columns["label"] = labels
    for index, jet_class in enumerate(CLASSES):
        columns[f"j_{jet_class}"] = (labels == index).astype(np.int8)
    return GeneratedSample(columns, dropped)
