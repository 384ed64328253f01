"""From an event's particles to one row: the native helper's leading jet, mMDT and 16 features."""

from __future__ import annotations

import ctypes
from dataclasses import dataclass

import numpy as np

FEATURES: tuple[str, ...] = (
    "j_zlogz", "j_c1_b0_mmdt", "j_c1_b1_mmdt", "j_c1_b2_mmdt", "j_c2_b1_mmdt", "j_c2_b2_mmdt",
    "j_d2_b1_mmdt", "j_d2_b2_mmdt", "j_d2_a1_b1_mmdt", "j_d2_a1_b2_mmdt", "j_m2_b1_mmdt",
    "j_m2_b2_mmdt", "j_n2_b1_mmdt", "j_n2_b2_mmdt", "j_mass_mmdt", "j_multiplicity",
)
EXTRAS: tuple[str, ...] = ("j_pt", "j_eta", "j_mass", "j_nconst_mmdt")
COLUMNS: tuple[str, ...] = FEATURES + EXTRAS


@dataclass(frozen=True)
class JetSelection:
    """Leading anti-kT jet of radius ``radius`` with ``pt_min <= pT < pt_max`` (``pt_max`` 0: no limit)."""

    radius: float = 0.4
    pt_min: float = 0.0
    pt_max: float = 0.0


class JetFeatures:
    """Wraps the native ``jsc_features`` entry point (one call per event)."""

    def __init__(self, selection: JetSelection) -> None:
        from chop.dataset.generator import native

        self._library = native.load()
        self._selection = selection
        self._out = np.empty(len(COLUMNS), dtype=np.float64)
        assert self._library.jsc_n_out() == len(COLUMNS), "native helper and Python disagree on columns"

    def __call__(self, particles: np.ndarray) -> np.ndarray | None:
        """The row of COLUMNS for the event's leading jet, or None if no jet passes the selection."""
        particles = np.ascontiguousarray(particles, dtype=np.float64)
        double_p = ctypes.POINTER(ctypes.c_double)
        ok = self._library.jsc_features(
            particles.ctypes.data_as(double_p), len(particles), self._selection.radius,
            self._selection.pt_min, self._selection.pt_max, self._out.ctypes.data_as(double_p),
        )
        return self._out.copy() if ok else None
