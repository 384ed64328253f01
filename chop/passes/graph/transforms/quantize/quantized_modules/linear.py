"""MASE's ``quantized_modules.linear``: the quantised ``nn.Linear`` twins (``LinearInteger``, ...)."""

from chop.quantized.modules import TWINS

for (_op, _suffix), _twin in TWINS.items():
    if _op == "linear":
        globals()[_twin.__name__] = _twin

__all__ = sorted(twin.__name__ for (op, _), twin in TWINS.items() if op == "linear")
