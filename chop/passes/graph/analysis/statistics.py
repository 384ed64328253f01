"""The six statistics of MASE's profiler, updated a batch at a time with per-sample semantics.

A statistic sees tensors shaped ``(samples, *features)`` (a weight is one sample: ``(1, *shape)``).
``dims`` says what is reduced: ``"all"`` every element (count = samples × features), ``None``
only the sample axis (element-wise statistics, count = samples), or a list of axes of that
tensor (axis 0 is the sample axis and is always reduced). Every statistic gives the numbers
that feeding the samples one at a time would give: the moment-based ones merge batch moments
(Chan et al.) in float64 (``variance_precise`` from exact float64 batch moments), and
``range_quantile`` keeps the samples and selects once at the end.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import torch

from chop.errors import PassError, did_you_mean
from chop.tools.logger import get_logger
from chop.tools.options import Option, Options, Wording

STATISTIC_OPTIONS = Wording(
    error=PassError, logger=get_logger(__name__),
    unknown="{where}: unknown option '{key}'{hint}; known: {known}",
    ignored="{where}: ignoring option '{key}' ({reason})",
    wrong_type="{where}: {key} = {value}: expected {expected}",
)
"""Messages of statistic options; ``where`` names the statistic and the options it got."""


def _reduced_axes(dims: Any, rank: int, where: str) -> tuple[int, ...]:
    if dims == "all":
        return tuple(range(rank))
    if dims is None:
        return (0,)
    if isinstance(dims, int) or (isinstance(dims, Sequence) and not isinstance(dims, str)):
        axes = [dims] if isinstance(dims, int) else list(dims)
        normalised = set()
        for axis in axes:
            if not isinstance(axis, int) or not -rank <= axis < rank:
                raise PassError(f"{where}: dims {dims!r} has axis {axis!r}, but the profiled tensor has "
                                f"{rank} axes (axis 0 is the sample axis)")
            normalised.add(axis % rank)
        return tuple(sorted(normalised | {0}))
    raise PassError(f"{where}: dims must be 'all', None or a list of axes, got {dims!r}")


class BatchViews:
    """One batch and the tensors derived from it, shared by the statistics that see it in turn.

    The profiler hands one batch to every statistic of an operand; the 2-D view, its absolute
    value and its moments are computed once instead of once per statistic. The profiler makes
    one per batch and operand, so nothing outlives the batch it was made for.
    """

    def __init__(self, batch: torch.Tensor) -> None:
        self.batch = batch
        self._derived: dict[tuple[Any, ...], Any] = {}

    def get(self, key: tuple[Any, ...], make: Any) -> Any:
        """The tensor derived under ``key``, made by ``make()`` the first time it is asked for."""
        if key not in self._derived:
            self._derived[key] = make()
        return self._derived[key]


COMMON_OPTIONS = Options(Option("dims", default="all"), Option("device", (str, torch.device)))
"""Options of every statistic: what is reduced (see the module docstring) and where to compute."""


class Statistic:
    """Base: turns each batch into a 2-D view ``(kept elements, reduced elements)``.

    ``OPTIONS`` declares a statistic's own options; :func:`make_statistic` checks a user's
    options against them (and ``COMMON_OPTIONS``) and hands every option to ``_configure``.
    """

    name: ClassVar[str] = ""
    OPTIONS: ClassVar[Options] = Options()

    def __init__(self, options: Mapping[str, Any]) -> None:
        self.dims = options["dims"]
        self.device = torch.device(options["device"]) if options["device"] else None
        self.kept_shape: tuple[int, ...] | None = None
        self.count = 0
        self._configure(**{option.name: options[option.name] for option in self.OPTIONS})

    def _configure(self) -> None:
        """Statistic-specific options (``abs``, ``quantile``, ``num_sigma``, ...)."""

    def update(self, batch: torch.Tensor, views: BatchViews | None = None) -> None:
        """Add a batch; ``views`` (made for this very batch) shares derived tensors with other statistics."""
        if views is None:
            views = BatchViews(batch)
        elif views.batch is not batch:
            raise ValueError("views were made for another batch")
        self._update(views)

    def _update(self, views: BatchViews) -> None:
        raise NotImplementedError

    def _rows(self, views: BatchViews, absolute: bool = False, keep: bool = False) -> torch.Tensor:
        """The batch as ``(kept elements, reduced elements)`` (of ``|x|`` if ``absolute``); counts it.

        ``keep`` returns a copy that owns its memory, for statistics that store samples: the
        batch may be a view that a later in-place op (``ReLU(inplace=True)``) overwrites.
        """
        batch = views.batch
        rank = max(1, batch.dim())
        reduced = _reduced_axes(self.dims, rank, self.name)
        kept = [a for a in range(rank) if a not in reduced]
        shape = batch.shape if batch.dim() else (1,)
        kept_shape = tuple(shape[a] for a in kept)
        if self.kept_shape is None:
            self.kept_shape = kept_shape
        elif self.kept_shape != kept_shape:
            raise PassError(f"{self.name}: element shape changed from {list(self.kept_shape)} to {list(kept_shape)}")

        def view() -> torch.Tensor:
            data = batch.detach().reshape(1) if batch.dim() == 0 else batch.detach()
            if self.device is not None:
                data = data.to(self.device)
            return data.permute(*kept, *reduced).reshape(max(1, _prod(kept_shape)), -1)

        key = (reduced, self.device)
        rows = views.get(("rows", *key), view)
        if absolute:
            rows = views.get(("abs", *key), rows.abs)
        if keep:
            rows = views.get(("kept", absolute, *key), rows.clone)
        self.count += rows.shape[1]
        return rows

    def _moments(self, views: BatchViews, absolute: bool, exact: bool = False) -> tuple[int, torch.Tensor, torch.Tensor]:
        """``(n, mean, m2)`` of the batch's rows, shared between statistics that need them.

        ``exact`` computes them from a float64 copy (``variance_precise``); otherwise torch's
        float32 reductions are used (pairwise sums: ~1e-7 relative), which is cheaper.
        """
        rows = self._rows(views, absolute)
        key = ("moments", absolute, exact, _reduced_axes(self.dims, max(1, views.batch.dim()), self.name), self.device)
        mean, m2 = views.get(key, lambda: _batch_moments(rows.double() if exact else rows))
        return rows.shape[1], mean, m2

    def compute(self) -> dict[str, Any]:
        raise NotImplementedError

    def _plain(self, values: torch.Tensor) -> float | list:
        """A Python float for ``dims="all"``, nested lists shaped like the kept axes otherwise."""
        assert self.kept_shape is not None
        if not self.kept_shape:
            return float(values.reshape(()))
        return values.reshape(self.kept_shape).tolist()


def _batch_moments(rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Row means and sums of squared deviations of one batch, returned in float64 for merging.

    Two passes (mean, then the squared deviations): torch's ``sum`` adds float32 pairwise, so a
    batch's moments are accurate to ~1e-7 relative, and merging across batches is done in float64
    (Chan et al.), so error does not grow with batches. ``torch.var_mean`` is as accurate but ~8x
    slower; ``linalg.vector_norm`` is fast but only ~3e-5 accurate over 64k float32 values.
    """
    mean = rows.mean(dim=1)
    deviations = rows - mean[:, None]
    return mean.double(), (deviations * deviations).sum(dim=1).double()


def _prod(shape: Sequence[int]) -> int:
    out = 1
    for size in shape:
        out *= size
    return out


class _Moments(Statistic):
    """Running count, mean and sum of squared deviations per row, merged batch by batch in float64."""

    OPTIONS = Options(Option("abs", bool, False))

    def _configure(self, abs: bool) -> None:  # noqa: A002 (MASE's option name)
        self.abs = abs
        self.mean: torch.Tensor | None = None
        self.m2: torch.Tensor | None = None
        self.n = 0

    def _update(self, views: BatchViews) -> None:
        self._merge(*self._moments(views, self.abs))

    def _merge(self, n_b: int, mean_b: torch.Tensor, m2_b: torch.Tensor) -> None:
        if self.mean is None:
            self.mean, self.m2, self.n = mean_b, m2_b, n_b
            return
        n = self.n + n_b
        delta = mean_b - self.mean
        self.mean = self.mean + delta * (n_b / n)
        self.m2 = self.m2 + m2_b + delta**2 * (self.n * n_b / n)
        self.n = n

    def _variance(self) -> torch.Tensor:
        assert self.m2 is not None
        return self.m2 / (self.n - 1) if self.n > 1 else torch.full_like(self.m2, float("nan"))


class VarianceOnline(_Moments):
    """Mean and unbiased variance, streaming (Welford/Chan): no samples kept."""

    name = "variance_online"
    OPTIONS = Options()

    def _configure(self) -> None:
        super()._configure(abs=False)

    def compute(self) -> dict[str, Any]:
        return {"mean": self._plain(self.mean), "variance": self._plain(self._variance()), "count": self.count}


class VariancePrecise(_Moments):
    """Mean and unbiased variance, in float64 throughout.

    MASE keeps every sample and computes once; merging exact float64 batch moments (Chan et al.)
    gives the same numbers to ~1e-15 without keeping the samples.
    """

    name = "variance_precise"
    OPTIONS = Options()

    def _configure(self) -> None:
        super()._configure(abs=False)

    def _update(self, views: BatchViews) -> None:
        self._merge(*self._moments(views, absolute=False, exact=True))

    def compute(self) -> dict[str, Any]:
        return {"mean": self._plain(self.mean), "variance": self._plain(self._variance()), "count": self.count}


class RangeMinMax(Statistic):
    """Smallest and largest value (of ``|x|`` with ``abs=True``)."""

    name = "range_min_max"
    OPTIONS = Options(Option("abs", bool, False))

    def _configure(self, abs: bool) -> None:  # noqa: A002
        self.abs = abs
        self.min: torch.Tensor | None = None
        self.max: torch.Tensor | None = None

    def _update(self, views: BatchViews) -> None:
        rows = self._rows(views, self.abs)
        low, high = rows.amin(dim=1), rows.amax(dim=1)
        self.min = low if self.min is None else torch.minimum(self.min, low)
        self.max = high if self.max is None else torch.maximum(self.max, high)

    def compute(self) -> dict[str, Any]:
        assert self.min is not None and self.max is not None
        return {"min": self._plain(self.min), "max": self._plain(self.max),
                "range": self._plain(self.max - self.min), "count": self.count}


def quantiles(rows: torch.Tensor, qs: Sequence[float]) -> list[torch.Tensor]:
    """Row-wise quantiles with linear interpolation (numpy's default), in float64.

    One partial sort (``numpy.partition`` at just the needed ranks) serves every quantile: a full
    sort of millions of values is ~10x slower, and ``torch.quantile`` refuses above 16M elements.
    """
    values = rows.detach().cpu().numpy()
    last = values.shape[1] - 1
    positions = [q * last for q in qs]
    ranks = sorted({r for p in positions for r in (int(p), min(int(p) + 1, last))})
    part = np.partition(values, ranks, axis=1)
    out = []
    for position in positions:
        low, high = int(position), min(int(position) + 1, last)
        a, b = part[:, low].astype(np.float64), part[:, high].astype(np.float64)
        out.append(torch.from_numpy(a + (b - a) * (position - low)))
    return out


class RangeQuantile(Statistic):
    """``min`` = the (1 − q) quantile, ``max`` = the q quantile (default q = 0.975), from every sample kept."""

    name = "range_quantile"
    OPTIONS = Options(Option("abs", bool, False), Option("quantile", (int, float), 0.975))

    def _configure(self, abs: bool, quantile: float) -> None:  # noqa: A002
        if not 0.0 <= float(quantile) <= 1.0:
            raise PassError(f"range_quantile: quantile must lie in [0, 1], got {quantile}")
        self.abs = abs
        self.q = float(quantile)
        self.chunks: list[torch.Tensor] = []

    def _update(self, views: BatchViews) -> None:
        self.chunks.append(self._rows(views, self.abs, keep=True))

    def compute(self) -> dict[str, Any]:
        high, low = quantiles(torch.cat(self.chunks, dim=1), (self.q, 1.0 - self.q))
        return {"min": self._plain(low), "max": self._plain(high), "range": self._plain(high - low),
                "count": self.count}


class RangeNSigma(_Moments):
    """``mean ± num_sigma·σ`` (default 3σ, unbiased σ); ``var_mode`` precise/online give the same numbers here."""

    name = "range_n_sigma"
    OPTIONS = Options(Option("abs", bool, False), Option("num_sigma", (int, float), 3), Option("var_mode", str, "precise"))

    def _configure(self, abs: bool, num_sigma: float, var_mode: str) -> None:  # noqa: A002
        if var_mode not in ("precise", "online"):
            raise PassError(f"range_n_sigma: var_mode must be 'precise' or 'online', got {var_mode!r}")
        super()._configure(abs=abs)
        self.num_sigma = float(num_sigma)

    def compute(self) -> dict[str, Any]:
        assert self.mean is not None
        sigma = self._variance().sqrt()
        low, high = self.mean - self.num_sigma * sigma, self.mean + self.num_sigma * sigma
        return {"min": self._plain(low), "max": self._plain(high), "range": self._plain(high - low),
                "count": self.count}


class AbsMean(Statistic):
    """Mean of ``|x|``."""

    name = "abs_mean"

    def _configure(self) -> None:
        self.total: torch.Tensor | None = None

    def _update(self, views: BatchViews) -> None:
        part = self._rows(views, absolute=True).sum(dim=1, dtype=torch.float64)
        self.total = part if self.total is None else self.total + part

    def compute(self) -> dict[str, Any]:
        assert self.total is not None
        return {"value": self._plain(self.total / self.count), "count": self.count}


STATISTICS: dict[str, type[Statistic]] = {cls.name: cls for cls in (
    VarianceOnline, VariancePrecise, RangeMinMax, RangeQuantile, RangeNSigma, AbsMean)}


def make_statistic(name: str, options: dict[str, Any] | None, where: str) -> Statistic:
    """Build a statistic from its name and keyword options; unknown names or options are errors."""
    if name not in STATISTICS:
        known = sorted(STATISTICS)
        raise PassError(f"{where}: unknown statistic '{name}'{did_you_mean(name, known)}; known: {', '.join(known)}")
    options = dict(options or {})
    statistic = STATISTICS[name]
    described = f"{where}: statistic '{name}' got bad options {sorted(options)}"
    return statistic((COMMON_OPTIONS + statistic.OPTIONS).parse(options, described, STATISTIC_OPTIONS))
