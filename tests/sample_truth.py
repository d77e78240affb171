"""The sample generator's documented noise model, as a truth to simulate from (qyb/sample/build.py).

Counts of a count indicator in unit u and month t are Poisson(mu_ut * G_ut) with
G_ut ~ Gamma(shape 25, mean 1) (month-to-month noise, coefficient of variation 0.2) and
mu_ut = base rate x population / 10,000 x risk_u x season_t x trend_t, risk_u ~ Gamma(8, mean 1).
The season is 1 + 0.08 cos(2 pi (month_of_year - 0.5) / 12); the trend is 1 before the
mechanism starts (2023-02) and exp(level + slope t) from then on (``DECLINE``).

"No change" (the null of a movement verdict): mu_ut = mu_u for every month (no season, no trend).
Everything is vectorised over replicates: arrays are (replicates, months, units).
"""
from __future__ import annotations

import numpy as np

from qyb.data.catalogue import COUNT_INDICATORS
from qyb.data.months import month_number, month_range
from qyb.data.panel import Panel
from qyb.sample.build import BASE_RATES, DECLINE, DISPERSION, MECHANISM_START, units_frame

__all__ = ["UNITS", "POPULATION", "unit_means", "null_counts", "null_panels", "season", "trend", "sample_counts"]

UNITS = units_frame().set_index("unit_id")
POPULATION = UNITS["population"].to_numpy(float)


def unit_means(rng: np.random.Generator, indicator: str, reps: int) -> np.ndarray:
    """(reps, units) expected monthly counts before any change: base x population x a fresh unit risk."""
    risk = rng.gamma(8.0, 1 / 8.0, size=(reps, POPULATION.size))
    return BASE_RATES[indicator] * POPULATION / 10000 * risk


def noisy_counts(rng: np.random.Generator, mean: np.ndarray) -> np.ndarray:
    """Poisson(mean x Gamma(DISPERSION, 1/DISPERSION)): the sample's month noise on a Poisson mean."""
    return rng.poisson(mean * rng.gamma(DISPERSION, 1 / DISPERSION, size=mean.shape)).astype(float)


def null_counts(rng: np.random.Generator, indicator: str, reps: int, months: int) -> np.ndarray:
    """(reps, months, units) counts with no change at all: every month has the unit's own mean."""
    mu = unit_means(rng, indicator, reps)[:, None, :]
    return noisy_counts(rng, np.broadcast_to(mu, (reps, months, POPULATION.size)))


def null_panels(rng: np.random.Generator, reps: int, first: str = "2022-01", last: str = "2023-03",
                indicators=COUNT_INDICATORS) -> list[Panel]:
    """``reps`` panels of the count indicators over ``first``..``last`` with no change anywhere."""
    months = month_range(first, last)
    cubes = np.stack([null_counts(rng, ind, reps, len(months)) for ind in indicators], axis=-1)
    return [Panel(".", UNITS, months, cubes[r], tuple(indicators)) for r in range(reps)]


def season(months: list[str]) -> np.ndarray:
    """The sample's seasonal factor of each month."""
    moy = np.array([month_number(m) % 12 for m in months], dtype=float)
    return 1 + 0.08 * np.cos(2 * np.pi * (moy - 0.5) / 12)


def trend(months: list[str], indicator: str) -> np.ndarray:
    """The sample's decline after the mechanism starts: exp(level + slope t) from 2023-02 on, else 1."""
    t = np.array([month_number(m) for m in months]) - month_number(MECHANISM_START)
    level, slope = DECLINE.get(indicator, (0.0, 0.0))
    return np.exp(np.where(t >= 0, level + slope * t, 0.0))


def sample_counts(rng: np.random.Generator, indicator: str, reps: int, months: list[str]) -> np.ndarray:
    """(reps, months, units) counts from the sample's full model (fresh unit risks, season, decline)."""
    mu = unit_means(rng, indicator, reps)[:, None, :] * (season(months) * trend(months, indicator))[None, :, None]
    return noisy_counts(rng, mu)
