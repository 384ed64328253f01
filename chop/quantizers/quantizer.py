"""``Quantizer``: the base of the number formats, each a frozen type in its own file.

A format is a frozen dataclass whose config keys are fields declared with ``key(...)`` (their
value kind and default, in MASE's order), plus ``signed`` where the format has a sign choice.
It validates itself when built, fills the defaults that depend on other keys, and answers what
the rest of machop asks of a number type: ``x -> q(x)``, ``value_range()``, ``step()``,
``precision()`` for the metadata and ``str()``. Nothing here switches on a format's name: a new
format is one file with its subclass and one entry in ``chop.quantizers.registry``.

Errors name the key first (``frac_width 9 is larger than width 8``), so that a config parser can
prefix the node and operand (``node fc1 (linear): weight_frac_width 9 ...``).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from torch import Tensor

from chop.errors import QuantizerError

REQUIRED = dataclasses.MISSING
KIND = "kind"
OPERAND_DEFAULT = "operand_default"


def key(kind: type, default: Any = REQUIRED, operand_default: Callable[[str], Any] | None = None) -> Any:
    """A config key of a format: its value kind, its default and, where the operand decides it, how."""
    metadata = {KIND: kind, OPERAND_DEFAULT: operand_default}
    return dataclasses.field(default=default, metadata=metadata)


@dataclass(frozen=True)
class Quantizer:
    """One operand's number format, fully resolved: ``quantizer(x)`` fake-quantises ``x`` (STE)."""

    name: ClassVar[str]  # the config's ``name``
    function: ClassVar[Callable[..., Tensor]]  # the public ``*_quantizer`` of the format
    module_suffix: ClassVar[str]  # twin class names: ``Linear`` + ``Integer``
    function_suffix: ClassVar[str]  # twin function names: ``add_`` + ``integer``
    spelling: ClassVar[str | None] = None  # an example of the type's hardware spelling, where ``parse`` reads one

    @classmethod
    def parse(cls, text: str) -> Quantizer:
        """The format spelled ``text`` as hardware tools write it (formats with a ``spelling`` only)."""
        raise QuantizerError(f"'{cls.name}' has no type spelling; give its keys instead")

    @classmethod
    @functools.cache
    def keys(cls) -> tuple[dataclasses.Field[Any], ...]:
        """The config keys, in MASE's order (``signed`` is not one: it comes from ``<operand>_signed``)."""
        return tuple(f for f in dataclasses.fields(cls) if KIND in f.metadata)

    @classmethod
    @functools.cache
    def takes_signed(cls) -> bool:
        return any(f.name == "signed" for f in dataclasses.fields(cls))

    @property
    def params(self) -> tuple[tuple[str, Any], ...]:
        """``(key, value)`` pairs of the config keys, in order."""
        return tuple((f.name, getattr(self, f.name)) for f in self.keys())

    @property
    def kwargs(self) -> dict[str, Any]:
        """The keyword arguments of ``function`` (``is_signed`` as MASE names it)."""
        values = {f.name: getattr(self, f.name) for f in self.keys()}
        if self.takes_signed():
            values["is_signed"] = getattr(self, "signed")
        return values

    def __call__(self, x: Tensor) -> Tensor:
        return type(self).function(x, **self.kwargs)

    def value_range(self) -> tuple[float, float] | None:
        """Representable range, or None where values are never clamped (binary, ternary)."""
        return None

    def step(self) -> float | None:
        """The distance between neighbouring values, for formats on a uniform grid (fixed point)."""
        return None

    def precision(self) -> list[Any]:
        """The metadata ``precision`` list (MASE's order; block formats end with the block size list)."""
        raise NotImplementedError(f"{type(self).__name__} does not say its precision")

    def __str__(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in self.params)
        unsigned = self.takes_signed() and not getattr(self, "signed")
        return f"{self.name}({shown}{', unsigned' if unsigned else ''})"

    def _fill(self, name: str, value: Any) -> None:
        """Set a default that depends on other keys (the instance is frozen once ``__post_init__`` ends)."""
        object.__setattr__(self, name, value)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickle; graphs saved before the formats had types pickled ``Quantizer(name, params, signed)``."""
        if "params" not in state:
            self.__dict__.update(state)
            return
        from chop.quantizers.registry import format_type  # local: the registry imports the formats, they this module

        cls = format_type(state["name"])
        signed = {"signed": state["signed"]} if cls.takes_signed() else {}
        current = cls(**dict(state["params"]), **signed)
        object.__setattr__(self, "__class__", cls)
        self.__dict__.update(current.__dict__)


def check_width(name: str, width: int, widest: int | None = None, narrowest: int = 1) -> None:
    """``width`` lies in ``[narrowest, widest]``; ``widest`` is what float64 computes exactly."""
    if width <= 0:
        raise QuantizerError(f"width must be a positive integer, got {width}")
    if widest is not None and width > widest:
        raise QuantizerError(f"width {width} is wider than {widest}, the most '{name}' computes exactly "
                             f"(float64 holds integers of up to 53 bits)")
    if width < narrowest:
        raise QuantizerError(f"width must be at least {narrowest} for '{name}' (a sign bit and more), got {width}")


def check_float64_span(name: str, width: int, span: tuple[int, int]) -> None:
    """The arithmetic runs in float64: every value must be a float64 (no inf, no flush to 0).

    ``span`` is the exponents of the format's smallest step and of its largest binade.
    """
    if not (-1074 <= span[0] and span[1] <= 1023):
        raise QuantizerError(f"width {width} and the exponent keys of '{name}' reach values 2^{span[0]} .. "
                             f"2^{span[1]}, outside float64's 2^-1074 .. 2^1023; use fewer exponent bits or "
                             f"another bias")


def check_exponent_bias_width(exponent_bias_width: int) -> None:
    if exponent_bias_width < 0:
        raise QuantizerError(f"exponent_bias_width must be >= 0, got {exponent_bias_width}")
