"""Pythia 8 settings for the five JSC samples, following the original production recipe.

The original chain generated each hard process with MadGraph (on-shell W/Z/t within its default
15-width Breit-Wigner window), then let Pythia 8 decay the resonances without spin correlations,
shower and hadronise (Monash 2013 tune, underlying event on). Pythia's internal 2->2 processes
replace MadGraph here; the resonance mass window replaces MadGraph's ``bwcutoff``: without it
Pythia's W pairs at pT = 1 TeV are ~14 % far off-shell (hundreds of GeV), which MadGraph never made.
"""

from __future__ import annotations

CLASSES: tuple[str, ...] = ("g", "q", "w", "z", "t")
DECAY_ROUTES: tuple[str, ...] = ("isotropic", "internal")

COMMON = [
    "Beams:eCM = 13000.",
    "PhaseSpace:pTHatMin = 995.",  # 1 % window around 1 TeV
    "PhaseSpace:pTHatMax = 1005.",
    "Print:quiet = on",
    "Next:numberCount = 0",
]

HARD_PROCESS = {
    "g": ["HardQCD:gg2gg = on", "HardQCD:qqbar2gg = on"],
    "q": ["HardQCD:qq2qq = on", "HardQCD:qqbar2qqbarNew = on", "HardQCD:gg2qqbar = on", "HardQCD:nQuarkNew = 4"],
    "w": ["WeakDoubleBoson:ffbar2WW = on"],
    "z": ["WeakDoubleBoson:ffbar2gmZgmZ = on", "WeakZ0:gmZmode = 2"],
    "t": ["Top:gg2ttbar = on", "Top:qqbar2ttbar = on"],
}

# W and Z decay hadronically (the top's W too: all-hadronic tops, as in the original samples).
HADRONIC_DECAYS = ["24:onMode = off", "24:onIfAny = 1 2 3 4 5", "23:onMode = off", "23:onIfAny = 1 2 3 4 5"]

# Pythia's pole masses and widths (8.317 defaults) for the resonance window m0 +- cutoff * width.
RESONANCES = {6: (173.0, 1.356778753261049), 23: (91.1876, 2.5041895850769285), 24: (80.385, 2.0922939256110316)}

HAS_RESONANCES = frozenset({"w", "z", "t"})


def mass_window(bw_cutoff: float) -> list[str]:
    """Settings restricting W, Z and top masses to ``m0 +- bw_cutoff * width`` (0: Pythia's defaults)."""
    if bw_cutoff <= 0:
        return []
    settings = []
    for pid, (mass, width) in RESONANCES.items():
        settings += [f"{pid}:mMin = {mass - bw_cutoff * width:.6f}", f"{pid}:mMax = {mass + bw_cutoff * width:.6f}"]
    return settings


def stable_particles(ctau_mm: float) -> list[str]:
    """Keep hadrons with c*tau above ``ctau_mm`` undecayed (0: Pythia's default, K_S, Lambda... decay).

    The experiments' usual generator-level definition is c*tau > 10 mm; which one the original
    production used is not documented, so it is an option.
    """
    if ctau_mm <= 0:
        return []
    return ["ParticleDecays:limitTau0 = on", f"ParticleDecays:tau0Max = {ctau_mm:.6f}"]


def single_pass(jet_class: str, bw_cutoff: float, stable_ctau_mm: float = 0.0) -> list[str]:
    """One Pythia run: hard process, Pythia's own (spin-correlated) resonance decays, shower, hadrons."""
    return COMMON + HARD_PROCESS[jet_class] + HADRONIC_DECAYS + mass_window(bw_cutoff) + stable_particles(stable_ctau_mm)


def hard_process_only(jet_class: str, bw_cutoff: float) -> list[str]:
    """First pass of the isotropic route: the hard process with its resonances left undecayed."""
    return COMMON + HARD_PROCESS[jet_class] + mass_window(bw_cutoff) + [
        "PartonLevel:all = off",
        "HadronLevel:all = off",
        "ProcessLevel:resonanceDecays = off",
    ]


def from_hard_process(bw_cutoff: float, stable_ctau_mm: float = 0.0) -> list[str]:
    """Second pass of the isotropic route: reads pass-1 events; resonance decays are isotropic.

    Pythia applies decay angular correlations only for processes whose matrix element it knows;
    for Les Houches input it decays W/Z/t by phase space, as it did for the MadGraph events.
    """
    return (["Beams:frameType = 5", "Print:quiet = on", "Next:numberCount = 0"] + HADRONIC_DECAYS
            + mass_window(bw_cutoff) + stable_particles(stable_ctau_mm))
