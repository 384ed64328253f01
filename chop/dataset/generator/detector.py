"""Detector emulation of the original JSC production, applied to an event's particles before the jets.

It follows ``discretizeEvent`` and the smearing step of the production code
(nhanvtran/trackObservables, ``processing/anaSubstructure.cpp``): leptons and charged hadrons up to
a pT threshold stay individual objects (tracks); photons fill ECAL cells, neutral hadrons and the
harder charged hadrons fill HCAL cells; every cell becomes one massless object at its centre with
the summed energy; then each object's four-vector is scaled by a Gaussian factor whose width is the
object's resolution. The original dataset's tag ``r1_h022_e0175_t220`` names the directory of the
config ``r0.5:h0.010:e0.005:t220``, the default here. Everything is vectorised over the event.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from chop.errors import DataError

CHARGED_HADRONS = (211, 321, 2212, 3112, 3222, 3312)
PHOTONS = (22, 111)
NEUTRAL_HADRONS = (3122, 2112, 3322, 130, 310)
LEPTONS = (11, 13, 15)

ETA_EDGE = 3.0  # the calorimeter cells tile |eta| < 3
SMEARING_FLOOR = 1e-10  # a drawn factor below this is clamped, as in the production code

_KEYS = {"r": "smearing", "h": "hcal_cell", "e": "ecal_cell", "t": "track_pt_max"}
_TOKEN = re.compile(r"([rhet])(\d+(?:\.\d*)?|\.\d+)")


@dataclass(frozen=True)
class DetectorConfig:
    """Smearing scale r, HCAL and ECAL cell sizes h, e in (eta, phi), track pT limit t (GeV).

    A cell size of 0 keeps that calorimeter's particles as individual objects; r = 0 turns
    smearing off.
    """

    smearing: float = 0.5
    hcal_cell: float = 0.010
    ecal_cell: float = 0.005
    track_pt_max: float = 220.0

    @classmethod
    def parse(cls, text: str) -> DetectorConfig:
        """``r0.5:h0.010:e0.005:t220`` (each of r, h, e, t once, any order) -> a config."""
        values: dict[str, float] = {}
        for token in text.split(":"):
            match = _TOKEN.fullmatch(token)
            if not match or _KEYS[match.group(1)] in values:
                raise DataError(f"--detector must look like r0.5:h0.010:e0.005:t220 (each of r, h, e, t once), got '{text}'")
            values[_KEYS[match.group(1)]] = float(match.group(2))
        if len(values) != len(_KEYS):
            raise DataError(f"--detector must give all of r, h, e and t, as in r0.5:h0.010:e0.005:t220, got '{text}'")
        return cls(**values)

    def __str__(self) -> str:
        return f"r{self.smearing:g}:h{self.hcal_cell:g}:e{self.ecal_cell:g}:t{self.track_pt_max:g}"


def track_sigma(pt: np.ndarray) -> np.ndarray:
    return np.sqrt((0.00025 * pt) ** 2 + 0.015**2)


def ecal_sigma(energy: np.ndarray) -> np.ndarray:
    return np.sqrt((0.027 / np.sqrt(energy / 1.6)) ** 2 + (0.15 * 1.6 / energy) ** 2 + 0.005**2)


def hcal_sigma(energy: np.ndarray) -> np.ndarray:
    return np.sqrt((1.2 / np.sqrt(energy / 7.0)) ** 2 + 0.05**2)


def _eta_phi(momenta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Transverse momentum, pseudorapidity and azimuth in [0, 2 pi) of (n, 4) px, py, pz, E."""
    pt = np.hypot(momenta[:, 0], momenta[:, 1])
    eta = np.arcsinh(momenta[:, 2] / np.maximum(pt, 1e-300))
    phi = np.mod(np.arctan2(momenta[:, 1], momenta[:, 0]), 2 * np.pi)
    return pt, eta, phi


def cells(momenta: np.ndarray, size: float) -> np.ndarray:
    """Sum the energies falling in each (eta, phi) cell; one massless object per filled cell.

    The grid has floor(6 / size) x floor(2 pi / size) cells from eta = -3 and phi = 0; the
    sliver of phi beyond the last full cell joins the last cell, and deposits at |eta| >= 3
    (outside the calorimeter) are lost.
    """
    if size <= 0:
        return momenta
    _, eta, phi = _eta_phi(momenta)
    n_eta, n_phi = int(np.floor(2 * ETA_EDGE / size)), int(np.floor(2 * np.pi / size))
    i_eta = np.floor((eta + ETA_EDGE) / size).astype(np.int64)
    i_phi = np.minimum(np.floor(phi / size).astype(np.int64), n_phi - 1)
    inside = (i_eta >= 0) & (i_eta < n_eta)
    index, inverse = np.unique(i_eta[inside] * n_phi + i_phi[inside], return_inverse=True)
    energy = np.bincount(inverse, weights=momenta[inside, 3], minlength=len(index))
    centre_eta = -ETA_EDGE + (index // n_phi + 0.5) * size
    centre_phi = (index % n_phi + 0.5) * size
    pt = energy / np.cosh(centre_eta)
    return np.stack([pt * np.cos(centre_phi), pt * np.sin(centre_phi), pt * np.sinh(centre_eta), energy], axis=1)


def _smeared(objects: np.ndarray, sigma: np.ndarray, scale: float, rng: np.random.Generator) -> np.ndarray:
    factor = np.maximum(rng.normal(1.0, scale * sigma), SMEARING_FLOOR)
    return objects * factor[:, None]


def emulate(momenta: np.ndarray, ids: np.ndarray, config: DetectorConfig, rng: np.random.Generator) -> np.ndarray:
    """The detector objects (tracks, then ECAL, then HCAL objects) of one event's (n, 4) particles.

    Particles whose |PDG id| is in none of the four categories are dropped. ``rng`` draws the
    smearing factors (tracks, ECAL, HCAL, in that order), so a seeded generator reproduces them.
    """
    kind = np.abs(ids)
    pt = np.hypot(momenta[:, 0], momenta[:, 1])
    charged = np.isin(kind, CHARGED_HADRONS)
    tracks = momenta[(charged & (pt <= config.track_pt_max)) | np.isin(kind, LEPTONS)]
    ecal = cells(momenta[np.isin(kind, PHOTONS)], config.ecal_cell)
    hcal = cells(momenta[(charged & (pt > config.track_pt_max)) | np.isin(kind, NEUTRAL_HADRONS)], config.hcal_cell)
    if config.smearing > 0:
        tracks = _smeared(tracks, track_sigma(np.hypot(tracks[:, 0], tracks[:, 1])), config.smearing, rng)
        ecal = _smeared(ecal, ecal_sigma(ecal[:, 3]), config.smearing, rng)
        hcal = _smeared(hcal, hcal_sigma(hcal[:, 3]), config.smearing, rng)
    return np.concatenate([tracks, ecal, hcal])
