"""Arithmetic properties of the native features on synthetic jets (hypothesis).

The correlator ratios are dimensionless and built from pT and rapidity-azimuth distances, so they
must not change under a longitudinal boost, an azimuthal rotation, a common momentum scale or a
reordering of the particles; the masses scale linearly.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from chop.dataset.generator import COLUMNS, JetSelection
from chop.dataset.generator.jets import JetFeatures
from chop.dataset.generator.native import build

build()
FEATURES = JetFeatures(JetSelection(0.4))
RATIOS = [i for i, name in enumerate(COLUMNS) if name.startswith(("j_c", "j_d", "j_m2", "j_n2"))]
MASSES = [COLUMNS.index("j_mass_mmdt"), COLUMNS.index("j_mass")]


def four_momenta(pt: np.ndarray, y: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """Massless particles from (pT, rapidity, phi)."""
    return np.stack([pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(y), pt * np.cosh(y)], axis=1)


jets = st.integers(min_value=0, max_value=2**32 - 1).map(
    lambda seed: (lambda rng, n: (rng.exponential(40.0, n) + 1.0, rng.normal(0.0, 0.12, n), rng.normal(0.0, 0.12, n)))(
        np.random.default_rng(seed), int(np.random.default_rng(seed).integers(4, 40))
    )
)


def close(a: np.ndarray, b: np.ndarray) -> bool:
    return np.allclose(a, b, rtol=1e-9, atol=0.0, equal_nan=True)


@settings(max_examples=40, deadline=None)
@given(jet=jets, shift=st.floats(-2.0, 2.0), turn=st.floats(-3.0, 3.0), scale=st.floats(0.1, 10.0))
def test_ratios_invariant_under_boost_rotation_scale_and_order(jet, shift: float, turn: float, scale: float) -> None:
    pt, y, phi = jet
    base = FEATURES(four_momenta(pt, y, phi))
    assert base is not None
    moved = FEATURES(four_momenta(pt, y + shift, np.angle(np.exp(1j * (phi + turn)))))
    assert close(moved[RATIOS], base[RATIOS])
    assert moved[COLUMNS.index("j_multiplicity")] == base[COLUMNS.index("j_multiplicity")]
    scaled = FEATURES(scale * four_momenta(pt, y, phi))
    assert close(scaled[RATIOS], base[RATIOS])
    # a (nearly) massless groomed jet has m^2 = E^2 - p^2 at the rounding of E^2, so masses are
    # compared to within sqrt(ulp(E^2)) ~ 1e-8 E, here bounded by 1e-6 of the jet's scalar pT sum
    floor = 1e-6 * scale * pt.sum()
    assert np.allclose(scaled[MASSES], scale * base[MASSES], rtol=1e-9, atol=floor)
    assert close(scaled[COLUMNS.index("j_zlogz")], base[COLUMNS.index("j_zlogz")])
    order = np.random.default_rng(len(pt)).permutation(len(pt))
    assert close(FEATURES(four_momenta(pt[order], y[order], phi[order])), base)


def test_two_particle_jet_against_hand_computation() -> None:
    """Two particles: C1 = pT1 pT2 dR^b / (pT1 + pT2)^2, three-point terms vanish, mMDT keeps both."""
    pt, y, phi = np.array([300.0, 100.0]), np.array([0.1, -0.05]), np.array([0.2, 0.3])
    row = FEATURES(four_momenta(pt, y, phi))
    dr = np.hypot(y[0] - y[1], phi[0] - phi[1])
    for beta, name in ((0, "j_c1_b0_mmdt"), (1, "j_c1_b1_mmdt"), (2, "j_c1_b2_mmdt")):
        assert np.isclose(row[COLUMNS.index(name)], 300 * 100 * dr**beta / 400**2, rtol=1e-12)
    for name in ("j_c2_b1_mmdt", "j_d2_b2_mmdt", "j_m2_b1_mmdt", "j_n2_b2_mmdt"):
        assert row[COLUMNS.index(name)] == 0.0
    z = np.cosh(y) * pt / np.sum(np.cosh(y) * pt)
    assert np.isclose(row[COLUMNS.index("j_zlogz")], np.sum(z * np.log(z)), rtol=1e-12)
    assert row[COLUMNS.index("j_multiplicity")] == 2 and row[COLUMNS.index("j_nconst_mmdt")] == 2
    mass = np.sqrt(2 * pt[0] * pt[1] * (np.cosh(y[0] - y[1]) - np.cos(phi[0] - phi[1])))
    assert np.isclose(row[COLUMNS.index("j_mass_mmdt")], mass, rtol=1e-9)


def test_build_is_skipped_when_up_to_date() -> None:
    directory = build()
    stamps = {p.name: p.stat().st_mtime_ns for p in directory.iterdir()}
    assert build() == directory
    assert {p.name: p.stat().st_mtime_ns for p in directory.iterdir()} == stamps
