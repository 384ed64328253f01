"""What every search space is (MASE's ``SearchSpaceBase``): choices over a traced graph, and a way back to a model.

A space is built from the traced float graph (``graph.model`` is the model) and its config (the
``[search.search_space]`` table as the space's :meth:`~SearchSpaceBase.parse_config` reads it). Its
``build_search_space`` sets MASE's ``choices_flattened`` (``{name: [values]}``); a strategy samples
one index per name, ``flattened_indexes_to_config`` turns the indexes into the sampled config (what
``log.json`` records), and ``rebuild_model`` turns that config into the graph the runners measure.

A space of the user's own is a subclass in their file, named in the TOML as
``[search.search_space] name = "my_space.py:MySpace"`` (see docs/search.md).
"""

from __future__ import annotations

import itertools
import json
import math
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

from chop.errors import ConfigError


class SearchSpaceBase(ABC):
    """Subclasses implement ``build_search_space``, ``flattened_indexes_to_config`` and ``rebuild_model``.

    ``_post_init_setup`` (optional, as in MASE) runs before ``build_search_space`` for extra setup.
    ``retrains``: a point is a new model that ``sw_runner.basic_train`` trains (the architecture spaces,
    ``chop.search.architecture_space``), not a transform of the given trained model.
    """

    retrains: ClassVar[bool] = False

    def __init__(self, config: Any, graph: Any, source: str = "search config") -> None:
        self.config, self.graph, self.source = config, graph, source
        self.model = graph.model
        self.choices_flattened: dict[str, Sequence[Any]] = {}
        self.choice_lengths_flattened: dict[str, int] = {}
        self._post_init_setup()
        self.build_search_space()
        self._check_choices()

    @classmethod
    def parse_config(cls, table: Mapping[str, Any], source: str) -> Any:
        """The ``[search.search_space]`` table as this space reads it: by default the table itself, as MASE passes it.

        Built-in spaces check their keys here, so a mistake is reported before any data is loaded.
        """
        return dict(table)

    def _post_init_setup(self) -> None:
        """Extra setup before the space is built (MASE's hook); nothing by default."""

    @abstractmethod
    def build_search_space(self) -> None:
        """Set ``self.choices_flattened``: every searchable name and its (non-empty) list of values."""

    @abstractmethod
    def flattened_indexes_to_config(self, indexes: Mapping[str, int]) -> dict[str, Any]:
        """The config of one point (``{name: index}``): JSON-like, as ``log.json`` records it."""

    @abstractmethod
    def rebuild_model(self, sampled_config: dict[str, Any], is_eval_mode: bool) -> Any:
        """The graph (or model) that ``sampled_config`` describes, for the runners; ``self.graph`` stays as it was.

        A point no quantiser or transform accepts raises a ``PassError``: its trial is skipped with the reason.
        """

    def _check_choices(self) -> None:
        for name, values in self.choices_flattened.items():
            if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or len(values) == 0:
                raise ConfigError(f"{self.source}: [search.search_space] {type(self).__name__} choice `{name}` = "
                                  f"{values!r}: expected a non-empty list of values")
        lengths = {name: len(values) for name, values in self.choices_flattened.items()}
        if self.choice_lengths_flattened and self.choice_lengths_flattened != lengths:
            raise ConfigError(f"{self.source}: [search.search_space] {type(self).__name__}: choice_lengths_flattened "
                              f"{self.choice_lengths_flattened} does not match choices_flattened {lengths}")
        self.choice_lengths_flattened = lengths

    @property
    def size(self) -> int:
        """How many distinct points (index combinations) the space has."""
        return math.prod(self.choice_lengths_flattened.values())

    def points(self) -> Iterator[dict[str, int]]:
        """Every point, as ``{name: index}``, in lexicographic order."""
        names = list(self.choice_lengths_flattened)
        for indexes in itertools.product(*(range(n) for n in self.choice_lengths_flattened.values())):
            yield dict(zip(names, indexes))

    def identity(self) -> str:
        """What makes two spaces the same search: the class and every choice with its values (the study's
        fingerprint)."""
        choices = {name: [repr(v) for v in values] for name, values in self.choices_flattened.items()}
        return json.dumps({"class": type(self).__qualname__, "choices": choices}, sort_keys=True)
