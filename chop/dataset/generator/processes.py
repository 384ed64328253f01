"""Pythia 8 settings for the five JSC samples, following the original production recipe.

The original chain generated each hard process with MadGraph (on-shell W/Z/t within its default
15-width Breit-Wigner window), then let Pythia 8 decay the resonances without spin correlations,
shower and hadronise (Monash 2013 tune, underlying event on). Pythia's internal 2->2 processes
replace MadGraph here; the resonance mass window replaces MadGraph's ``bwcutoff``: without it
Pythia's W pairs at pT = 1 TeV are ~14 % far off-shell (hundreds of GeV), which MadGraph never made.
"""

from __future__ import annotations

from dataclasses import dataclass

CLASSES: tuple[str, ...] = ("g", "q", "w", "z", "t")
DECAY_ROUTES: tuple[str, ...] = ("isotropic", "internal")
RESONANCE_MODES: tuple[str, ...] = ("window", "on-shell")
Z_DECAYS: dict[str, str] = {"udscb": "1 2 3 4 5", "udsc": "1 2 3 4"}
ON_SHELL_WIDTHS = 0.001  # the hard process's own W/Z/t at the pole, as MadGraph's external resonances
PT_HAT_MAX = 1005.0

COMMON = [
    "Beams:eCM = 13000.",
    "PhaseSpace:pTHatMin = 995.",  # 1 % window around 1 TeV
    f"PhaseSpace:pTHatMax = {PT_HAT_MAX:.0f}.",
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


def hadronic_decays(z_decays: str) -> list[str]:
    """W and Z decay to quarks (the top's W too: all-hadronic tops, as in the original samples).

    ``z_decays`` ``udsc`` leaves out Z -> bb, which makes Z jets W-like as in the real data.
    """
    return ["24:onMode = off", "24:onIfAny = 1 2 3 4 5", "23:onMode = off", f"23:onIfAny = {Z_DECAYS[z_decays]}"]


# Pythia's pole masses and widths (8.317 defaults) for the resonance window m0 +- cutoff * width.
RESONANCES = {6: (173.0, 1.356778753261049), 23: (91.1876, 2.5041895850769285), 24: (80.385, 2.0922939256110316)}

HAS_RESONANCES = frozenset({"w", "z", "t"})
HARD_RESONANCE = {"w": 24, "z": 23, "t": 6}  # the resonance each sample's hard process makes


@dataclass(frozen=True)
class Recipe:
    """How one class's events are made; the defaults are the recipe of the first bundled sample.

    ``resonances`` ``on-shell`` puts the hard process's own W/Z/t at m0 +- 0.001 widths (the top's
    W keeps ``bw_cutoff``); ``gluon_pt_hat_max`` 0 lifts the upper pTHat cut of the gluon sample.
    """

    decay_route: str = "isotropic"
    bw_cutoff: float = 15.0
    stable_ctau_mm: float = 10.0
    resonances: str = "window"
    gluon_pt_hat_max: float = PT_HAT_MAX
    z_decays: str = "udscb"


def mass_window(bw_cutoff: float, on_shell: frozenset[int] = frozenset()) -> list[str]:
    """Settings restricting W, Z and top masses to ``m0 +- bw_cutoff * width`` (0: Pythia's defaults).

    The resonances in ``on_shell`` get ``m0 +- ON_SHELL_WIDTHS * width`` instead.
    """
    settings = []
    for pid, (mass, width) in RESONANCES.items():
        cutoff = ON_SHELL_WIDTHS if pid in on_shell else bw_cutoff
        if cutoff > 0:
            settings += [f"{pid}:mMin = {mass - cutoff * width:.6f}", f"{pid}:mMax = {mass + cutoff * width:.6f}"]
    return settings


def _hard_process(jet_class: str, recipe: Recipe) -> tuple[list[str], list[str]]:
    """The class's process settings (pTHat window included) and its resonance mass window."""
    settings = COMMON + HARD_PROCESS[jet_class]
    if jet_class == "g" and recipe.gluon_pt_hat_max != PT_HAT_MAX:
        settings = settings + [f"PhaseSpace:pTHatMax = {recipe.gluon_pt_hat_max if recipe.gluon_pt_hat_max > 0 else -1.0}"]
    on_shell = frozenset({HARD_RESONANCE[jet_class]}) if recipe.resonances == "on-shell" and jet_class in HARD_RESONANCE else frozenset()
    return settings, mass_window(recipe.bw_cutoff, on_shell)


def stable_particles(ctau_mm: float) -> list[str]:
    """Keep hadrons with c*tau above ``ctau_mm`` undecayed (0: Pythia's default, K_S, Lambda... decay).

    The experiments' usual generator-level definition is c*tau > 10 mm; which one the original
    production used is not documented, so it is an option.
    """
    if ctau_mm <= 0:
        return []
    return ["ParticleDecays:limitTau0 = on", f"ParticleDecays:tau0Max = {ctau_mm:.6f}"]


def single_pass(jet_class: str, recipe: Recipe) -> list[str]:
    """One Pythia run: hard process, Pythia's own (spin-correlated) resonance decays, shower, hadrons."""
    process, window = _hard_process(jet_class, recipe)
    return process + hadronic_decays(recipe.z_decays) + window + stable_particles(recipe.stable_ctau_mm)


def hard_process_only(jet_class: str, recipe: Recipe) -> list[str]:
    """First pass of the isotropic route: the hard process with its resonances left undecayed."""
    process, window = _hard_process(jet_class, recipe)
    return process + window + [
        "PartonLevel:all = off",
        "HadronLevel:all = off",
        "ProcessLevel:resonanceDecays = off",
    ]


def from_hard_process(recipe: Recipe) -> list[str]:
    """Second pass of the isotropic route: reads pass-1 events; resonance decays are isotropic.

    Pythia applies decay angular correlations only for processes whose matrix element it knows;
    for Les Houches input it decays W/Z/t by phase space, as it did for the MadGraph events.
    """
    return (["Beams:frameType = 5", "Print:quiet = on", "Next:numberCount = 0"] + hadronic_decays(recipe.z_decays)
            + mass_window(recipe.bw_cutoff) + stable_particles(recipe.stable_ctau_mm))
