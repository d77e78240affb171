"""Models that draw months of raw figures: the expected value of every measure and the noise around it.

A :class:`MonthModel` says, for every month, unit and measure, what the figure is *expected*
to be before chance (Poisson and month-to-month noise) and how chance acts on it:

* ``count`` measures (alerts, accidents, fires, deaths, ...): ``X ~ Poisson(mu * G)`` with
  ``G ~ Gamma(size, 1/size)`` the month noise (mean 1, variance ``1/size``), so
  ``E X = mu`` and ``Var X = mu + mu^2 / size`` (the negative binomial NB2; ``size = inf`` is
  Poisson);
* ``fixed`` measures (what is due or planned: 出租屋应检查, 网格巡查计划): ``X = mu``;
* ``handled`` measures of an attainment pair: ``X ~ Binomial(T, clip(p + e, 0, 1))`` with ``T``
  the drawn total, ``p = mu / mu_total`` the unit's true attainment rate and ``e ~ N(0, sd^2)``
  the month noise of the rate.

Two kinds of model are built: the synthetic sample's own truth (:func:`qyb.sample.truth.sample_truth`)
and the empirical-Bayes posterior of a real panel (:mod:`qyb.sample.posterior`), whose
``expected`` array has a leading axis of posterior draws (one truth per draw). Both draw
months with :class:`MonthSampler`; the engine scores them through
:class:`qyb.engine.draws.ArrayInputs`.

Reproducibility: every measure and every step (gamma, Poisson, normal, binomial) has its own
random stream derived from the seed and the measure's name, consumed in order, so draws made
in chunks equal the same draws made at once.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from qyb.data.catalogue import MEASURE_BY_CODE
from qyb.data.months import add_months
from qyb.method import Method

__all__ = ["KINDS", "MonthModel", "MonthSampler", "measures_read", "stream"]

KINDS = ("count", "fixed", "handled")


def stream(seed: int | None, *names: str) -> np.random.Generator:
    """A random generator for one (measure, step): ``SeedSequence(seed, spawn_key=crc32 of the names)``.

    The same seed and names always give the same stream, whatever else is drawn.
    """
    key = tuple(zlib.crc32(n.encode("utf-8")) for n in names)
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


def cells_read(method: Method, month: str | list[str]) -> dict[str, list[str]]:
    """Measure -> the months whose figure of it the method reads to score ``month`` (or each of a list of
    months; a handled measure's total at the same months): what a simulation must draw, and no more."""
    targets = [month] if isinstance(month, str) else list(month)
    out: dict[str, set[str]] = {}
    for code, lags in method.measure_lags().items():
        months = {add_months(t, -k) for t in targets for k in lags}
        out.setdefault(code, set()).update(months)
        total = MEASURE_BY_CODE[code].total if code in MEASURE_BY_CODE else None
        if total:
            out.setdefault(total, set()).update(months)
    return {c: sorted(m) for c, m in out.items()}


def measures_read(method: Method) -> list[str]:
    """Every raw measure a method reads (indicator measures and 扣分 measures), with the total of each
    handled measure, in the catalogue's order."""
    used = set(method.measures_used())
    for code in list(used):
        total = MEASURE_BY_CODE[code].total if code in MEASURE_BY_CODE else None
        if total:
            used.add(total)
    return [c for c in MEASURE_BY_CODE if c in used] + sorted(used - set(MEASURE_BY_CODE))


@dataclass(eq=False)
class MonthModel:
    """Expected figures and their noise, for ``months`` x ``units`` x ``measures``.

    ``expected``: shape ``(..., months, units, measures)``; leading axes hold several truths
    (posterior draws). ``kind[k]``: ``count`` / ``fixed`` / ``handled``; ``size[..., k]``: gamma
    shape of the month noise of a count (inf: Poisson); ``rate_sd[..., k]``: month-noise sd of the
    attainment rate of a handled measure (both ``(measures,)`` or with the leading axes of
    ``expected``). A handled measure's total is the catalogue's (:meth:`total_of`).
    """

    units: pd.DataFrame
    months: list[str]
    measures: tuple[str, ...]
    expected: np.ndarray
    kind: tuple[str, ...]
    size: np.ndarray
    rate_sd: np.ndarray
    label: str = ""
    notes: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.months = list(self.months)
        self.measures = tuple(self.measures)
        self.expected = np.asarray(self.expected, dtype=float)
        self.size = np.asarray(self.size, dtype=float)
        self.rate_sd = np.asarray(self.rate_sd, dtype=float)
        if self.expected.shape[-3:] != (len(self.months), len(self.units), len(self.measures)):
            raise ValueError(f"expected has shape {self.expected.shape}; want (..., {len(self.months)} months, "
                             f"{len(self.units)} units, {len(self.measures)} measures)")
        bad = [k for k in self.kind if k not in KINDS]
        if bad or len(self.kind) != len(self.measures):
            raise ValueError(f"kind must give one of {KINDS} per measure")
        self.month_pos = {m: t for t, m in enumerate(self.months)}
        self.measure_pos = {c: k for k, c in enumerate(self.measures)}

    # ------------------------------------------------------------ views
    @property
    def n_truths(self) -> int:
        """Number of truths held (1 for the sample; the posterior draws for a fitted model)."""
        return int(np.prod(self.expected.shape[:-3], dtype=int))

    def total_of(self, code: str) -> str:
        """The total measure of a handled measure."""
        return MEASURE_BY_CODE[code].total

    def true_rate(self, code: str) -> np.ndarray:
        """``(..., months, units)``: a handled measure's true attainment rate, ``mu / mu_total``."""
        h = self.expected[..., self.measure_pos[code]]
        t = self.expected[..., self.measure_pos[self.total_of(code)]]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(t > 0, h / np.where(t > 0, t, 1.0), 0.0)

    def take(self, i) -> MonthModel:
        """The model with ``expected`` indexed on its leading axis (one truth, or a subset)."""
        return replace(self, expected=self.expected[i])

    def select(self, months: list[str]) -> MonthModel:
        """Only ``months`` (any held months, in the order given)."""
        missing = [m for m in months if m not in self.month_pos]
        if missing:
            raise ValueError(f"the model holds no month {missing[0]}")
        rows = [self.month_pos[m] for m in months]
        return replace(self, months=list(months), expected=self.expected[..., rows, :, :])

    def stationary(self, month: str, months: list[str]) -> MonthModel:
        """A steady town: every month of ``months`` expected as ``month`` is (no trend, no season), for
        experiments such as a sustained fall (:func:`qyb.review.reliability.responsiveness`)."""
        row = self.expected[..., self.month_pos[month]:self.month_pos[month] + 1, :, :]
        expected = np.repeat(row, len(months), axis=-3)
        return replace(self, months=list(months), expected=expected)

    def incidents(self) -> list[str]:
        """The count measures that are incidents (alerts, accidents, fires, deaths, major cases): every
        ``count`` measure that is not the total of an attainment pair (warnings, hazards, disputes and
        spots to handle are workload, not incidents)."""
        totals = {MEASURE_BY_CODE[c].total for c in self.measures if c in MEASURE_BY_CODE and MEASURE_BY_CODE[c].total}
        return [c for c, k in zip(self.measures, self.kind) if k == "count" and c not in totals]

    def sampler(self, seed: int | None, measures=None) -> MonthSampler:
        """A :class:`MonthSampler` drawing ``measures`` (default all; or a dict measure -> months, as
        :func:`cells_read` gives) with streams from ``seed``."""
        return MonthSampler(self, seed, measures)

    def simulate(self, n_draws: int, seed: int | None = 0, measures=None) -> np.ndarray:
        """``(n_draws, months, units, measures)`` draws of raw figures (all at once; see :class:`MonthSampler`
        for chunks). With several truths held, ``n_draws`` must equal their number (one month per truth)."""
        return self.sampler(seed, measures).draw(n_draws)


class MonthSampler:
    """Draws months from a :class:`MonthModel` chunk by chunk; the streams carry on between chunks.

    ``draw(d)`` returns the next ``d`` draws, shape ``(d, months, units, measures)`` (NaN for the
    measures not drawn); ``draw_chunk(d)`` the same draws as cells, measure -> ``(d, months drawn of
    it, units)``. When the model holds several truths, draw ``i`` uses truth ``i``
    (the ``i``-th row of the leading axis), so chunks walk through the truths in order.
    """

    def __init__(self, model: MonthModel, seed: int | None, measures=None):
        self.model = model
        self.codes = list(model.measures) if measures is None else [c for c in model.measures if c in set(measures)]
        for code in list(self.codes):  # a handled measure needs its total
            k = model.kind[model.measure_pos[code]]
            if k == "handled" and model.total_of(code) not in self.codes:
                self.codes.append(model.total_of(code))
        # the months drawn of each measure (all, or those a method reads: ``measures`` as a dict)
        cells = measures if isinstance(measures, dict) else {}
        self.rows = {c: (np.array([model.month_pos[m] for m in cells[c] if m in model.month_pos])
                         if c in cells else None) for c in self.codes}
        for code in self.codes:
            if model.kind[model.measure_pos[code]] == "handled" and self.rows[code] is not None:
                total = model.total_of(code)
                self.rows[total] = None if self.rows[total] is None else np.union1d(self.rows[total], self.rows[code])
        self.streams = {(c, step): stream(seed, c, step) for c in self.codes
                        for step in ("gamma", "poisson", "normal", "binomial")}
        self.done = 0

    def _rows(self, a: np.ndarray, d: int, tail: int, truths=None) -> np.ndarray:
        """The chunk's rows of a per-truth array (..., *tail) flattened over the truths, or ``a`` repeated."""
        if a.ndim == tail:
            return np.broadcast_to(a, (d, *a.shape))
        flat = a.reshape(-1, *a.shape[a.ndim - tail:])
        if truths is not None:
            return flat[truths]
        if self.done + d > flat.shape[0]:
            raise ValueError(f"the model holds {flat.shape[0]} truths; cannot draw beyond them")
        return flat[self.done:self.done + d]

    def _noisy(self, code: str, mean: np.ndarray, size: np.ndarray) -> np.ndarray:
        """``mean x G`` with month noise ``G ~ Gamma(size, 1/size)`` per draw (``mean`` where size is inf)."""
        finite = np.isfinite(size)
        if not finite.any():
            return np.maximum(mean, 0.0)
        rng = self.streams[code, "gamma"]
        # draws in runs of one shape, each by numpy's fast scalar path: the numbers of drawing every cell
        # with its own shape, in the same order (an infinite size draws with shape 1 and keeps the mean)
        g = np.empty(np.shape(mean))
        bounds = [*np.flatnonzero(np.r_[True, size[1:] != size[:-1]]), len(size)]
        for a, b in zip(bounds[:-1], bounds[1:]):
            run = g[a:b]
            if finite[a]:
                rng.standard_gamma(size[a], run.shape, out=run)
                run /= size[a]
                run *= mean[a:b]  # mean * g: the same products
            else:
                rng.standard_gamma(1.0, run.shape, out=run)
                run[...] = mean[a:b]
        return np.maximum(g, 0.0, out=g)

    def months_of(self, code: str) -> list[str]:
        """The months drawn of ``code`` (in the model's order)."""
        rows = self.rows[code]
        return list(self.model.months) if rows is None else [self.model.months[r] for r in rows]

    def _within_total(self, code: str):
        """Positions of a handled measure's drawn months among its total's drawn months."""
        rows, total_rows = self.rows[code], self.rows[self.model.total_of(code)]
        if rows is None:
            return slice(None)
        return np.searchsorted(np.arange(len(self.model.months)) if total_rows is None else total_rows, rows)

    def draw(self, d: int, truths=None) -> np.ndarray:
        """The next ``d`` draws; ``truths`` (d,) picks the truth of each draw (default: the next ``d``
        truths in order, or the one truth)."""
        m = self.model
        drawn = self.draw_chunk(d, truths)
        out = np.empty((len(m.measures), d, len(m.months), len(m.units)))  # measure-major: each measure contiguous
        for k, code in enumerate(m.measures):  # every cell written once: drawn, or NaN
            rows = self.rows.get(code, ()) if code in drawn else ()
            if rows is None:
                out[k] = drawn[code]
                continue
            if not len(rows):
                out[k] = np.nan
                continue
            undrawn = np.ones(out.shape[2], dtype=bool)
            undrawn[rows] = False
            out[k][:, undrawn] = np.nan
            out[k][:, rows] = drawn[code]
        return np.moveaxis(out, 0, -1)

    def draw_chunk(self, d: int, truths=None) -> dict[str, np.ndarray]:
        """The next ``d`` draws as :meth:`draw` makes them, as cells: measure -> (d, months drawn of it
        (:meth:`months_of`), units), without the dense array (what :class:`qyb.engine.draws.CellInputs`
        scores)."""
        m = self.model
        sizes = self._rows(m.size, d, 1, truths)  # (d, K)
        sds = self._rows(m.rate_sd, d, 1, truths)
        if m.expected.ndim > 3 and truths is not None:  # each measure's cells of the chosen truths, one copy each
            flat = m.expected.reshape(-1, *m.expected.shape[-3:])
            picked = np.asarray(truths)[:, None]
            means = {code: flat[picked, self._month_rows(code)[None, :], :, m.measure_pos[code]] for code in self.codes}
        else:
            mu = self._rows(m.expected, d, 3, truths)
            means = {code: np.ascontiguousarray(mu[..., m.measure_pos[code]][:, self._sel(code)])
                     for code in self.codes}
        drawn = self.draw_cells(means, sizes, sds)
        self.done += d
        return drawn

    def _month_rows(self, code: str) -> np.ndarray:
        """The rows (months) drawn of ``code``, as positions."""
        rows = self.rows[code]
        return np.arange(len(self.model.months)) if rows is None else np.asarray(rows, dtype=int)

    def _sel(self, code: str):
        rows = self.rows[code]
        return slice(None) if rows is None else rows

    def draw_cells(self, means: dict[str, np.ndarray], sizes: np.ndarray, sds: np.ndarray,
                   run=None) -> dict[str, np.ndarray]:
        """Draw every measure from its expected figures ``means[code]`` (d, months drawn of it
        (:meth:`months_of`), units): code -> drawn figures of that shape.

        ``sizes`` / ``sds`` (d, measures): the month noise of each draw. Every measure consumes only
        its own streams, so ``run`` (a map over tasks, e.g. :func:`qyb.parallel.run_tasks`)
        may draw the measures at the same time: counts and fixed figures first, then each handled
        measure from its drawn total; the numbers are those of drawing one measure after another.
        """
        m = self.model
        run = run or (lambda tasks: [task() for task in tasks])
        first = [c for c in self.codes if m.kind[m.measure_pos[c]] != "handled"]  # totals before handled
        then = [c for c in self.codes if m.kind[m.measure_pos[c]] == "handled"]
        drawn: dict[str, np.ndarray] = {}
        for wave in (first, then):
            wave = sorted(wave, key=lambda code: -means[code][..., 0].size * means[code].shape[-1])  # longest first
            results = run([lambda code=code: self._draw_one(code, means, sizes, sds, drawn) for code in wave])
            drawn.update(zip(wave, results))
        return drawn

    def _draw_one(self, code: str, means: dict, sizes: np.ndarray, sds: np.ndarray, drawn: dict) -> np.ndarray:
        m = self.model
        k = m.measure_pos[code]
        kind = m.kind[k]
        mean = means[code]
        if kind == "fixed":
            return mean
        if kind == "count":
            return self.streams[code, "poisson"].poisson(self._noisy(code, mean, sizes[:, k]))
        total_code = m.total_of(code)
        within = self._within_total(code)
        mt = means[total_code][:, within]
        some = mt > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            p = mean / np.where(some, mt, 1.0)
        np.copyto(p, 0.0, where=~some)  # p = mu / mu_total, 0 where nothing is expected
        sd = sds[:, k]
        if (sd > 0).any():
            noise = self.streams[code, "normal"].standard_normal(p.shape)
            noise *= sd[0] if np.all(sd == sd[0]) else sd[:, None, None]
            p += noise
        total = drawn[total_code][:, within].astype(np.int64)
        return self.streams[code, "binomial"].binomial(total, np.clip(p, 0.0, 1.0, out=p))
