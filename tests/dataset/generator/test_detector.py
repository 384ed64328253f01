"""The detector emulation: routing by particle id, cells in (eta, phi), seeded smearing of the right width."""

from __future__ import annotations

import numpy as np
import pytest

from chop.dataset.generator.detector import DetectorConfig, ecal_sigma, emulate, hcal_sigma, track_sigma
from chop.errors import DataError

EXACT = DetectorConfig(smearing=0.0)  # the production cells without smearing


def particle(pt: float, eta: float, phi: float, mass: float = 0.0) -> np.ndarray:
    p = np.array([pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)])
    return np.array([*p, np.sqrt(p @ p + mass**2)])


def eta_phi(objects: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pt = np.hypot(objects[:, 0], objects[:, 1])
    return np.arcsinh(objects[:, 2] / pt), np.mod(np.arctan2(objects[:, 1], objects[:, 0]), 2 * np.pi)


def run(momenta: list[np.ndarray], ids: list[int], config: DetectorConfig = EXACT, seed: int = 0) -> np.ndarray:
    return emulate(np.array(momenta).reshape(-1, 4), np.array(ids), config, np.random.default_rng(seed))


def test_config_string_round_trips_and_bad_strings_are_one_line_errors() -> None:
    config = DetectorConfig.parse("r0.5:h0.010:e0.005:t220")
    assert config == DetectorConfig() == DetectorConfig.parse("t220:e0.005:h0.01:r0.5")
    assert DetectorConfig.parse(str(config)) == config
    for bad in ("r0.5:h0.01:e0.005", "r0.5:h0.01:e0.005:t220:r1", "r-1:h0.01:e0.005:t220", "h0.010 e0.005", ""):
        with pytest.raises(DataError, match="--detector must") as error:
            DetectorConfig.parse(bad)
        assert "\n" not in str(error.value)


def test_a_photon_lands_in_its_ecal_cell_centre_with_its_energy() -> None:
    photon = particle(50.0, 0.1234, 1.0001)
    (cell,) = run([photon], [22])
    eta, phi = eta_phi(cell[None])
    # cell (floor(3.1234 / 0.005), floor(1.0001 / 0.005)) = (624, 200), centre (-3 + 624.5 e, 200.5 e)
    assert np.isclose(eta[0], -3 + 624.5 * 0.005, atol=1e-12) and np.isclose(phi[0], 200.5 * 0.005, atol=1e-12)
    assert np.isclose(cell[3], photon[3], rtol=1e-12)
    assert np.isclose(cell[3] ** 2 - cell[:3] @ cell[:3], 0.0, atol=1e-9)  # massless


def test_deposits_in_one_cell_add_up_and_neighbouring_cells_stay_apart() -> None:
    objects = run([particle(30.0, 0.5001, 2.0001), particle(20.0, 0.5041, 2.0041), particle(10.0, 0.5061, 2.0001)], [22, 22, 22])
    assert sorted(objects[:, 3].round(9)) == sorted(np.round([particle(30.0, 0.5001, 0)[3] + particle(20.0, 0.5041, 0)[3],
                                                              particle(10.0, 0.5061, 0)[3]], 9))


def test_routing_by_particle_id() -> None:
    soft_pion, hard_pion = particle(100.0, 0.2, 1.0, 0.1396), particle(300.0, -0.3, 2.0, 0.1396)
    muon, neutron, photon = particle(40.0, 0.1, 3.0, 0.1057), particle(25.0, 0.4, 4.0, 0.9396), particle(15.0, -1.0, 5.0)
    objects = run([soft_pion, hard_pion, muon, neutron, photon, particle(5.0, 0.0, 0.5)], [211, -211, -13, 2112, 22, 999])
    assert len(objects) == 5  # the unknown id 999 is dropped
    assert np.array_equal(objects[0], soft_pion) and np.array_equal(objects[1], muon)  # tracks stay as they are
    eta, phi = eta_phi(objects[2:])
    assert np.isclose(eta[0], -1.0, atol=0.0025) and np.isclose(phi[0], 5.0, atol=0.0025)  # photon: ECAL cell of 0.005
    hcal = objects[3:]
    assert np.isclose(hcal[:, 3], [hard_pion[3], neutron[3]]).all() or np.isclose(hcal[:, 3], [neutron[3], hard_pion[3]]).all()
    assert np.allclose(hcal[:, 3] ** 2, (hcal[:, :3] ** 2).sum(axis=1), rtol=1e-12)  # cells are massless
    eta, phi = eta_phi(hcal)
    assert (np.abs(eta - np.round(eta / 0.005) * 0.005) < 1e-9).all()  # HCAL centres sit at odd multiples of 0.005


def test_an_ecal_size_of_zero_keeps_photons_individual() -> None:
    photons = [particle(30.0, 0.5001, 2.0001), particle(20.0, 0.5011, 2.0011)]
    objects = run(photons, [22, 22], DetectorConfig(smearing=0.0, ecal_cell=0.0))
    assert np.array_equal(objects, np.array(photons))


def test_smearing_is_seeded_and_reproducible() -> None:
    event = [particle(100.0, 0.1, 1.0), particle(50.0, 0.2, 1.1), particle(80.0, 0.3, 1.2)]
    ids = [211, 22, 2112]
    first = run(event, ids, DetectorConfig(), seed=7)
    assert np.array_equal(first, run(event, ids, DetectorConfig(), seed=7))
    assert not np.array_equal(first, run(event, ids, DetectorConfig(), seed=8))
    assert not np.array_equal(first, run(event, ids, EXACT))


@pytest.mark.parametrize(("pid", "energy", "sigma"), [(211, 100.0, track_sigma), (22, 60.0, ecal_sigma), (130, 60.0, hcal_sigma)])
def test_smearing_spread_matches_the_resolution(pid: int, energy: float, sigma) -> None:
    """40,000 objects of one energy, each in its own cell: the scale factors have mean 1 and sd r * sigma."""
    n = 40_000
    eta = -2.5 + 0.02 * (np.arange(n) % 250) + 0.0013  # 250 x 160 positions, no two in one cell
    phi = 0.1 + 0.035 * (np.arange(n) // 250)
    pt = energy / np.cosh(eta)
    event = np.stack([pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), np.full(n, energy)], axis=1)
    config = DetectorConfig(smearing=0.5)
    exact = emulate(event, np.full(n, pid), EXACT, np.random.default_rng(0))
    assert len(exact) == n
    smeared = emulate(event, np.full(n, pid), config, np.random.default_rng(1))
    factors = smeared[:, 3] / exact[:, 3]
    expected = 0.5 * (sigma(np.hypot(exact[:, 0], exact[:, 1])) if pid == 211 else sigma(exact[:, 3]))
    assert np.isclose(factors.mean(), 1.0, atol=4 * expected.mean() / np.sqrt(n))
    assert np.isclose(factors.std(), expected.mean(), rtol=0.03)
    assert np.allclose(smeared[:, :3], exact[:, :3] * factors[:, None], rtol=1e-9, atol=1e-9)  # the whole four-vector scales


def test_smearing_factors_are_floored() -> None:
    """A 10 MeV HCAL deposit has sigma ~ 32: about half of its factors would be negative."""
    neutrons = [particle(0.01 / np.cosh(0.1 * k), -2.0 + 0.1 * k, 1.0) for k in range(40)]
    objects = run(neutrons, [2112] * 40, DetectorConfig(smearing=1.0))
    exact = run(neutrons, [2112] * 40)
    factors = objects[:, 3] / exact[:, 3]
    assert np.isclose(factors.min(), 1e-10, rtol=1e-6) and (factors >= 1e-10 * (1 - 1e-9)).all()
