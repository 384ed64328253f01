"""Graph passes: analysis, transforms and interface (save/load), all importable from here."""

from chop.passes.graph import analysis, interface, transforms
from chop.passes.graph.analysis import *  # noqa: F403  (re-exported by name in __all__)
from chop.passes.graph.interface import *  # noqa: F403

for _name in getattr(transforms, "__all__", ()):
    globals()[_name] = getattr(transforms, _name)

__all__ = [*analysis.__all__, *interface.__all__, *getattr(transforms, "__all__", ())]
