"""The shared components: hand-written SystemVerilog files shipped with machop (``components/``).

They hold no constants, only parameters, so every design uses the same text; the layer modules
instantiate them. Each op kind needs its own file, the requantiser and the pipeline register.
"""

from __future__ import annotations

from pathlib import Path

COMPONENT_DIR = Path(__file__).parent / "components"
SHARED = ("fixed_requant.sv", "fixed_delay.sv")
KINDS = ("fixed_linear", "fixed_affine", "fixed_relu", "fixed_add")


def dependence_files(kind: str) -> tuple[str, ...]:
    """The component files a layer of ``kind`` needs (MASE's ``dependence_files``): ``<kind>.sv`` first."""
    return (f"{kind}.sv", *SHARED)


def component_text(name: str) -> str:
    return (COMPONENT_DIR / name).read_text()


def components_for(kinds: set[str]) -> tuple[str, ...]:
    """The component files a design with layers of ``kinds`` needs, in a fixed order."""
    return (*SHARED, *(f"{kind}.sv" for kind in KINDS if kind in kinds))
