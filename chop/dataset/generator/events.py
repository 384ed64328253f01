"""Event streams: Pythia runs that yield each event's stable visible particles and their PDG ids.

Every stream is seeded once, at construction, so a stream of k events is a prefix of the same
stream of more events: this is what makes a shipped sample's first rows reproducible from a small run.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

from chop.dataset.generator import processes
from chop.errors import DataError

NEUTRINOS = frozenset({12, 14, 16})
MAX_FAILED_EVENTS = 100


def _pythia(settings: list[str], seed: int):
    import pythia8mc

    pythia = pythia8mc.Pythia("", False)
    for line in [*settings, "Random:setSeed = on", f"Random:seed = {seed}"]:
        if not pythia.readString(line):
            raise DataError(f"Pythia rejected the setting '{line}'")
    return pythia


def _relay_class():
    """An LHAup that hands each pass-1 hard process to pass 2, the way an LHE file would."""
    import pythia8mc

    class Relay(pythia8mc.LHAup):
        def __init__(self, source) -> None:
            pythia8mc.LHAup.__init__(self)
            self.source = source

        def setInit(self) -> bool:  # noqa: N802 (Pythia's name)
            self.setBeamA(2212, 6500.0)
            self.setBeamB(2212, 6500.0)
            self.setStrategy(3)
            self.addProcess(9999, 1.0, 0.0, 1.0)
            return True

        def setEvent(self, process_id: int = 0) -> bool:  # noqa: N802 (Pythia's name)
            if not self.source.next():
                return False
            info = self.source.infoPython()
            self.setProcess(9999, 1.0, info.pTHat(), info.alphaEM(), info.alphaS())
            record = self.source.process
            for i in range(3, record.size()):  # 1, 2 are the beams; LHA indices start at 1 = record 3
                p = record[i]
                incoming = p.status() == -21
                mother1, mother2 = (0, 0) if incoming else (p.mother1() - 2, p.mother2() - 2)
                self.addParticle(p.id(), -1 if incoming else 1, mother1, mother2, p.col(), p.acol(),
                                 p.px(), p.py(), p.pz(), p.e(), p.m(), 0.0, 9.0)
            self.setPdf(info.id1pdf(), info.id2pdf(), info.x1pdf(), info.x2pdf(), info.QFac(), info.pdf1(), info.pdf2(), True)
            return True

    return Relay


class Particles(NamedTuple):
    """One event's final-state particles: (n, 4) px, py, pz, E in GeV and their (n,) PDG ids."""

    momenta: np.ndarray
    ids: np.ndarray


class EventStream:
    """Generates events of one JSC class; iterate for their ``Particles``."""

    def __init__(self, jet_class: str, seeds: tuple[int, int], recipe: processes.Recipe) -> None:
        """``seeds``: Pythia seeds of the (first) pass and of the isotropic route's second pass."""
        self._keep = []  # pass-1 generator and relay must outlive pass 2
        if recipe.decay_route == "isotropic" and jet_class in processes.HAS_RESONANCES:
            first = _pythia(processes.hard_process_only(jet_class, recipe), seeds[0])
            if not first.init():
                raise DataError(f"Pythia failed to initialise the hard process for class '{jet_class}'")
            relay = _relay_class()(first)
            second = _pythia(processes.from_hard_process(recipe), seeds[1])
            second.setLHAupPtr(relay)
            self._keep = [first, relay]
            self._pythia = second
        else:
            self._pythia = _pythia(processes.single_pass(jet_class, recipe), seeds[0])
        if not self._pythia.init():
            raise DataError(f"Pythia failed to initialise class '{jet_class}' (decay route {recipe.decay_route})")

    def __iter__(self) -> Iterator[Particles]:
        failed = 0
        while True:
            if not self._pythia.next():
                failed += 1
                if failed > MAX_FAILED_EVENTS:
                    raise DataError(f"Pythia failed {MAX_FAILED_EVENTS} events in a row")
                continue
            failed = 0
            record = np.array(  # PDG ids are integers well inside float64's exact range
                [(p.px(), p.py(), p.pz(), p.e(), p.id()) for p in self._pythia.event if p.isFinal() and p.idAbs() not in NEUTRINOS],
                dtype=np.float64,
            ).reshape(-1, 5)
            yield Particles(np.ascontiguousarray(record[:, :4]), record[:, 4].astype(np.int64))
