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

import numpy as np

from chop.dataset.generator.jets import COLUMNS, JetSelection
from chop.dataset.generator.processes import CLASSES, DECAY_ROUTES
from chop.errors import DataError

PYTHIA_SEED_MAX = 900_000_000
MAX_EVENTS_PER_JET = 50  # a selection that rejects more than this is almost surely a mistake


@dataclass(frozen=True)
class GeneratorOptions:
    per_class: int
    seed: int
    selection: JetSelection = field(default_factory=JetSelection)
    decay_route: str = "isotropic"
    bw_cutoff: float = 15.0
    stable_ctau_mm: float = 10.0
    chunk_size: int = 500

    def validate(self) -> None:
        if self.per_class <= 0:
            raise DataError(f"--per-class must be a positive number of jets per class, got {self.per_class}")
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

    def as_dict(self) -> dict:
        return asdict(self)


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


def run_job(job: Job, options: GeneratorOptions) -> np.ndarray:
    """The (jets, len(COLUMNS)) rows of one chunk, in generation order."""
    from chop.dataset.generator.events import EventStream
    from chop.dataset.generator.jets import JetFeatures

    jet_class = CLASSES[job.class_index]
    stream = EventStream(jet_class, chunk_seeds(options.seed, jet_class, job.chunk), options.decay_route, options.bw_cutoff,
                         options.stable_ctau_mm)
    features = JetFeatures(options.selection)
    rows = np.empty((job.jets, len(COLUMNS)), dtype=np.float64)
    done = events = 0
    for particles in stream:
        events += 1
        row = features(particles)
        if row is not None:
            rows[done] = row
            done += 1
            if done == job.jets:
                return rows
        if events > MAX_EVENTS_PER_JET * job.jets:
            raise DataError(f"the jet selection kept {done} of {events} events; loosen --pt-min/--pt-max")
    raise AssertionError("event streams are infinite")


def _run_job_star(arguments: tuple[Job, GeneratorOptions]) -> tuple[Job, np.ndarray]:
    job, options = arguments
    return job, run_job(job, options)


def generate(options: GeneratorOptions, workers: int = 1, progress: Callable[[int, int], None] | None = None) -> dict[str, np.ndarray]:
    """Generate ``per_class`` jets of each class; returns columns (float64 features, int labels).

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
    parts: dict[tuple[int, int], np.ndarray] = {}
    done = 0
    if workers == 1:
        results = (_run_job_star((job, options)) for job in jobs)
        for job, rows in results:
            parts[(job.class_index, job.chunk)] = rows
            done += job.jets
            if progress:
                progress(done, total)
    else:
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            for job, rows in pool.imap_unordered(_run_job_star, [(job, options) for job in jobs]):
                parts[(job.class_index, job.chunk)] = rows
                done += job.jets
                if progress:
                    progress(done, total)
    ordered = [parts[(job.class_index, job.chunk)] for job in sorted(jobs, key=lambda j: (j.class_index, j.chunk))]
    table = np.concatenate(ordered)
    labels = np.repeat(np.arange(len(CLASSES), dtype=np.int8), options.per_class)
    columns = {name: table[:, i] for i, name in enumerate(COLUMNS)}
    columns["label"] = labels
    for index, jet_class in enumerate(CLASSES):
        columns[f"j_{jet_class}"] = (labels == index).astype(np.int8)
    return columns
