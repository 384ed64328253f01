"""Declared options: one schema and one checker for every dict of options machop accepts.

Pass arguments, statistic options, the ``[search]`` tables and the top-level TOML keys are all
dicts a user writes by hand, so they share one rule (after xDSL's declared pass options): each
place declares its options (name, type, default, or "accepted for MASE and ignored" with the
reason), and :meth:`Options.parse` checks a dict against them. An unknown key is an error naming
the closest known key; an ignored key is dropped with a one-line warning that says why. Each
place keeps the wording its users know through a :class:`Wording` (pass arguments say
``unknown argument 'x'``, TOML tables ``unknown key `x```).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from chop.errors import MachopError, did_you_mean


class _NoValue:
    """Marks an ignored option that is warned about whatever its value."""

    def __repr__(self) -> str:
        return "NO_VALUE"


NO_VALUE: Any = _NoValue()

_EXPECTED = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}


@dataclass(frozen=True)
class Option:
    """One declared option.

    ``type`` (a type or a tuple of types; None: any value) is checked when the option is given;
    ``bool`` never passes for a number, and None passes where the default is None. ``ignored``
    is the reason an option MASE accepts does nothing in machop: it is dropped with a warning,
    unless given as ``quiet_value`` (a value meaning "unused" in MASE too, such as ``n_jobs = 1``).
    """

    name: str
    type: type | tuple[type, ...] | None = None
    default: Any = None
    ignored: str | None = None
    quiet_value: Any = NO_VALUE

    def accepts(self, value: Any) -> bool:
        if self.type is None or (value is None and self.default is None):
            return True
        types = self.type if isinstance(self.type, tuple) else (self.type,)
        if isinstance(value, bool) and bool not in types:
            return False
        return isinstance(value, types)

    def expected(self) -> str:
        """The declared type in words; an int is a number too, so ``(int, float)`` reads "a number"."""
        types = self.type if isinstance(self.type, tuple) else (self.type,)
        shown = [kind for kind in types if kind is not None and not (kind is int and float in types)]
        return " or ".join(_EXPECTED.get(kind, kind.__name__) for kind in shown)


@dataclass(frozen=True)
class Wording:
    """How one place words its messages (``str.format`` templates) and where it logs its warnings.

    Fields the templates may use: ``where``, ``key``, ``hint`` (" (did you mean 'x'?)" or ""),
    ``known`` (the used options, comma-separated, or "none"), ``ignored_note``
    (" (accepted and ignored: a, b)" or ""), ``reason``, ``value`` (repr) and ``expected``.
    """

    error: type[MachopError]
    logger: logging.Logger
    unknown: str
    ignored: str
    wrong_type: str


class Options:
    """An ordered, immutable set of declared options with the one checker for them."""

    def __init__(self, *options: Option) -> None:
        self._options: dict[str, Option] = {}
        for option in options:
            if option.name in self._options:
                raise ValueError(f"option '{option.name}' declared twice")
            self._options[option.name] = option

    @classmethod
    def names(cls, *names: str) -> Options:
        """Options of any type without defaults, for tables whose readers check each value themselves."""
        return cls(*(Option(name) for name in names))

    def __iter__(self) -> Iterator[Option]:
        return iter(self._options.values())

    def __add__(self, other: Options) -> Options:
        return Options(*self, *other)

    def used(self) -> list[str]:
        return [o.name for o in self if o.ignored is None]

    def ignored(self) -> list[str]:
        return [o.name for o in self if o.ignored is not None]

    def check(self, given: Mapping[str, Any], where: str, wording: Wording) -> dict[str, Any]:
        """The given options without the ignored ones; an unknown key or a wrong type is an error."""
        used, ignored = self.used(), self.ignored()
        values: dict[str, Any] = {}
        for key, value in given.items():
            option = self._options.get(key)
            if option is None:
                raise wording.error(wording.unknown.format(
                    where=where, key=key, hint=did_you_mean(str(key), [*used, *ignored]),
                    known=", ".join(used) or "none",
                    ignored_note=f" (accepted and ignored: {', '.join(ignored)})" if ignored else ""))
            if option.ignored is not None:
                if not (option.quiet_value is not NO_VALUE and value == option.quiet_value):
                    wording.logger.warning(wording.ignored.format(where=where, key=key, reason=option.ignored))
                continue
            if not option.accepts(value):
                raise wording.error(wording.wrong_type.format(where=where, key=key, value=repr(value),
                                                              expected=option.expected()))
            values[key] = value
        return values

    def parse(self, given: Mapping[str, Any], where: str, wording: Wording) -> dict[str, Any]:
        """Every used option: the given value, else its default (see :meth:`check`)."""
        checked = self.check(given, where, wording)
        return {o.name: checked.get(o.name, o.default) for o in self if o.ignored is None}
