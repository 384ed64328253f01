"""MASE's ``chop.models.physical.jet_substructure``: the JSC model classes under MASE's class names.

They are the registered ``jsc-tiny`` / ``jsc-toy`` / ``jsc-s`` classes themselves (one definition,
in :mod:`chop.models.jsc`), so ``JSC_Tiny(info)`` builds exactly what ``get_model("jsc-tiny")`` does.
"""

from chop.models.jsc import JSCS as JSC_S
from chop.models.jsc import JSCTiny as JSC_Tiny
from chop.models.jsc import JSCToy as JSC_Toy

__all__ = ["JSC_S", "JSC_Tiny", "JSC_Toy"]
