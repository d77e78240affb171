"""Rate ratio of two periods when counts vary more than Poisson: the conditional beta-binomial.

A count now x1 (exposure E1, pooled over m1 months) is compared with a count before x0 (E0,
m0 months). Each unit-month count is Poisson-gamma: Poisson(mu G), G ~ Gamma(shape k, mean 1),
k = 1/alpha (alpha from :func:`qyb.stats.nb_dispersion`). Given the total n = x0 + x1 and no
change, the share of the total that falls in "now" is a Poisson thinning of a Beta(k m1, k m0)
share, so x1 | n ~ BetaBinomial(n, k m1, k m0) exactly, whatever the unit's own level
(Gamma-Beta algebra; the exposures per month being equal). For a rate ratio r the mean share is
pi(r) = r E1 / (r E1 + E0), and qyb uses the beta-binomial with that mean and the same precision
K = k (m0 + m1) (mean-precision form; exact at r = 1, where the test is made). alpha = 0 gives
the binomial of the exact Poisson conditional test (Breslow & Day 1987).

* p-value: two-sided mid-p, 2 min(P(X < x1) + P(X = x1)/2, P(X > x1) + P(X = x1)/2) at pi(1);
* interval: the mid-p test inverted (Clopper-Pearson's construction with mid-p tails), so the
  test and the interval always agree (p < 1 - level exactly when the interval excludes 1);
  mid-p keeps coverage near the nominal level instead of far above it at small counts
  (Berry & Armitage 1995; Agresti & Gottard 2007);
* median-unbiased estimate (Hirji, Tsiatis & Mehta 1989): the mean of the limits where
  P(X >= x1) = 1/2 and P(X <= x1) = 1/2, a finite ratio where the crude one is 0 or infinity.
"""
from __future__ import annotations

import numpy as np
from scipy import special as _sp
from scipy import stats as _st

from ._util import as_float_array, normalise_level

__all__ = ["betabinom_tails", "rate_ratio_midp", "RATIO_METHOD_BB", "RATIO_METHOD_POISSON_MIDP"]

RATIO_METHOD_BB = "mid-p conditional, Poisson-gamma (beta-binomial)"
RATIO_METHOD_POISSON_MIDP = "mid-p conditional, Poisson (binomial)"

_LOGIT_RANGE = 40.0  # roots are searched for on logit(pi) in [-40, 40]
_TOL = 1e-9  # on logit(pi)


class _Support:
    """The support 0..n of a block of rows, with what does not depend on pi precomputed."""

    def __init__(self, x, n, K):
        self.x, self.n, self.K = x, n, K
        L = int(n.max()) + 1 if n.size else 1
        self.j = np.arange(L, dtype=float)[None, :]
        nn = n[:, None]
        self.inside = self.j <= nn
        jj = np.where(self.inside, self.j, 0.0)
        self.jj, self.rest = jj, np.maximum(nn - jj, 0.0)
        self.logc = _sp.gammaln(nn + 1) - _sp.gammaln(jj + 1) - _sp.gammaln(self.rest + 1)
        self.binom = ~np.isfinite(K)
        self.rest_idx = self.rest.astype(int)
        self.n_idx = n.astype(int)[:, None]
        self.lt, self.eq, self.gt = self.j < x[:, None], self.j == x[:, None], self.j > x[:, None]

    def take(self, rows):
        """The sub-support of some rows (for the rows still being solved)."""
        sub = object.__new__(_Support)
        for name in ("x", "n", "K", "inside", "jj", "rest", "logc", "binom", "rest_idx", "n_idx", "lt", "eq",
                     "gt"):
            setattr(sub, name, getattr(self, name)[rows])
        sub.j = self.j
        return sub

    def tails(self, pi):
        """(below, at, above) = P(X < x), P(X = x), P(X > x) at share ``pi`` (one per row)."""
        p = pi[:, None]
        logp = self.logc + _sp.xlogy(self.jj, p) + _sp.xlog1py(self.rest, -p)  # binomial
        if not self.binom.all():
            Kf = np.where(self.binom, 1.0, self.K)[:, None]
            a, b = p * Kf, (1 - p) * Kf
            j = self.j[:, :-1]
            zero = np.zeros((len(pi), 1))
            # rising factorials (a)_j as cumulative sums of logs: stable for any K (no betaln of huge numbers)
            la = np.concatenate([zero, np.cumsum(np.log(a + j), axis=1)], axis=1)
            lb = np.concatenate([zero, np.cumsum(np.log(b + j), axis=1)], axis=1)
            lab = np.concatenate([zero, np.cumsum(np.log(a + b + j), axis=1)], axis=1)
            logbb = (self.logc + la + np.take_along_axis(lb, self.rest_idx, axis=1)
                     - np.take_along_axis(lab, self.n_idx, axis=1))
            logp = np.where(self.binom[:, None], logp, logbb)
        pmf = np.exp(np.where(self.inside, logp, -np.inf))
        return ((pmf * self.lt).sum(axis=1), (pmf * self.eq).sum(axis=1), (pmf * self.gt).sum(axis=1))


def _blocks(n, max_cells: int):
    """Index blocks of rows, sorted by n, each of similar n (the widest at most twice the narrowest
    plus 16, so that little of the padded grid is wasted) and at most ``max_cells`` support points."""
    ok = np.flatnonzero(~np.isnan(n))
    order = ok[np.argsort(n[ok], kind="stable")]
    start = 0
    while start < order.size:
        width = int(n[order[start]]) + 1
        stop = start + 1
        while (stop < order.size and int(n[order[stop]]) + 1 <= 2 * width + 16
               and (stop - start + 1) * (int(n[order[stop]]) + 1) <= max(max_cells, width)):
            stop += 1
        yield order[start:stop]
        start = stop


def betabinom_tails(x, n, pi, K=np.inf, max_cells: int = 2_000_000):
    """P(X < x), P(X = x), P(X > x) for X ~ BetaBinomial(n, pi K, (1 - pi) K), element-wise.

    ``K`` is the beta's precision (a + b); ``K = inf`` gives the binomial(n, pi). The pmf is
    C(n, j) (a)_j (b)_{n-j} / (a + b)_n with rising factorials (a)_j = a (a + 1) ... (a + j - 1)
    summed as logs (stable for any K). Matches ``scipy.stats.betabinom`` / ``binom``.
    Rows are processed in blocks of at most ``max_cells`` support points. Returns three arrays.

    References
    ----------
    Skellam JG (1948). A probability distribution derived from the binomial distribution by regarding
        the probability of success as variable between the sets of trials. *JRSS B* 10:257-261.
    """
    x, n, pi, K = (np.array(a, dtype=float) for a in np.broadcast_arrays(*(as_float_array(v) for v in (x, n, pi, K))))
    shape = x.shape
    x, n, pi, K = (a.ravel() for a in (x, n, pi, K))
    below, at, above = (np.full(x.shape, np.nan) for _ in range(3))
    n_ok = np.where(np.isnan(x) | np.isnan(pi) | np.isnan(K), np.nan, n)
    for b in _blocks(n_ok, max_cells):
        below[b], at[b], above[b] = _Support(x[b], n[b], K[b]).tails(pi[b])
    return below.reshape(shape), at.reshape(shape), above.reshape(shape)


def _share(r, e1, e0):
    return r * e1 / (r * e1 + e0)


_SIDES = {  # tail as a function of (below, at, above), and whether it increases with pi
    "low_mid": (lambda b, a, c: b + a / 2, False), "high_mid": (lambda b, a, c: c + a / 2, True),
    "low_exact": (lambda b, a, c: b + a, False), "high_exact": (lambda b, a, c: c + a, True),
}


def _solve_share(support: _Support, target: float, side: str) -> np.ndarray:
    """pi in (0, 1) where the ``side`` tail equals ``target``, one per row of ``support``.

    Illinois (modified regula falsi) on logit(pi) with g = log(tail) - log(target), g increasing.
    The first bracket surrounds the normal approximation's root, logit((x + 1/2)/(n + 1)) -/+ z se
    (se: the beta-binomial share's standard error on the logit scale); rows whose root lies
    outside it are widened, at last to [-40, 40]. Rows stop when the bracket is narrower than 1e-9. The tails are monotone in pi
    (the beta-binomial is stochastically increasing in its mean at fixed precision).
    """
    tail_of, increasing = _SIDES[side]
    sign = 1.0 if increasing else -1.0
    x, n, K = support.x, support.n, support.K
    m = x.size

    def g(theta, sup):
        with np.errstate(divide="ignore"):
            return sign * (np.log(np.maximum(tail_of(*sup.tails(_sp.expit(theta))), 1e-300)) - np.log(target))

    centre = _sp.logit((x + 0.5) / (n + 1))
    p_hat = _sp.expit(centre)
    with np.errstate(divide="ignore", invalid="ignore"):
        inflate = np.where(np.isfinite(K), 1 + (n - 1) / (K + 1), 1.0)
    se = np.sqrt(inflate / (n * p_hat * (1 - p_hat)))
    z = _st.norm.isf(target)
    guess = centre + (z if side.startswith("low") else -z) * se  # the normal approximation's root
    lo, hi = guess - (0.25 * abs(z) + 0.25) * se - 0.02, guess + (0.25 * abs(z) + 0.25) * se + 0.02
    g_lo, g_hi = g(lo, support), g(hi, support)
    for wide in (8 * se + 1 + abs(z) * se, np.full(m, 2 * _LOGIT_RANGE)):  # widen where not bracketed
        bad = ~((g_lo <= 0) & (g_hi >= 0))
        if not bad.any():
            break
        lo[bad] = np.maximum(guess[bad] - wide[bad], -_LOGIT_RANGE)
        hi[bad] = np.minimum(guess[bad] + wide[bad], _LOGIT_RANGE)
        sub = support.take(np.flatnonzero(bad))
        g_lo[bad], g_hi[bad] = g(lo[bad], sub), g(hi[bad], sub)
    kept = np.zeros(m, int)  # Illinois: which end was replaced last time (1 low, -1 high)
    active = np.flatnonzero((hi - lo) > _TOL)
    for _ in range(200):
        if not active.size:
            break
        sup = support.take(active)
        l, h, gl, gh = lo[active], hi[active], g_lo[active], g_hi[active]
        denom = gh - gl
        with np.errstate(divide="ignore", invalid="ignore"):
            theta = l - gl * (h - l) / denom
        theta = np.where(~np.isfinite(theta) | (theta <= l) | (theta >= h), (l + h) / 2, theta)
        gt = g(theta, sup)
        right = gt < 0  # the root lies right of theta
        last = kept[active]
        new_lo, new_hi = np.where(right, theta, l), np.where(right, h, theta)
        new_gl, new_gh = np.where(right, gt, gl), np.where(right, gh, gt)
        new_gh = np.where(right & (last == 1), new_gh / 2, new_gh)  # the same end moved twice: halve
        new_gl = np.where(~right & (last == -1), new_gl / 2, new_gl)  # the stale end's g
        exact = gt == 0
        new_lo, new_hi = np.where(exact, theta, new_lo), np.where(exact, theta, new_hi)
        lo[active], hi[active], g_lo[active], g_hi[active] = new_lo, new_hi, new_gl, new_gh
        kept[active] = np.where(right, 1, -1)
        active = active[(new_hi - new_lo) > _TOL]
    return _sp.expit((lo + hi) / 2)


def rate_ratio_midp(count_before, exposure_before, count_now, exposure_now, dispersion=0.0,
                    months_before=1, months_now=1, level: float = 0.95, estimate: bool = True) -> dict:
    """Rate ratio (now / before) under Poisson-gamma noise: mid-p test, interval, median-unbiased estimate.

    ``dispersion``: alpha of :func:`qyb.stats.nb_dispersion` (0 = Poisson); ``months_before`` /
    ``months_now``: months pooled in each period (the beta precision is K = (m0 + m1) / alpha).
    Returns a dict of arrays: ``pvalue`` (two-sided mid-p at r = 1; 1 when n = 0), ``lower``,
    ``upper`` (mid-p interval at ``level``; 0 when x1 = 0, inf when x0 = 0; NaN when n = 0),
    ``mue`` (median-unbiased ratio, finite when n > 0; only when ``estimate``), ``p_low``
    (mid-p P(fall at least this large)) and ``p_high``. See the module docstring for the model.

    References
    ----------
    Hirji KF, Tsiatis AA, Mehta CR (1989). Median unbiased estimation for binary data. *The American
        Statistician* 43:7-11.
    Berry G, Armitage P (1995). Mid-P confidence intervals: a brief review. *The Statistician*
        44:417-423.
    Breslow NE (1984). Extra-Poisson variation in log-linear models. *Applied Statistics* 33:38-44.
    """
    level = normalise_level(level)
    a = 1.0 - level
    x0, e0, x1, e1, alpha, m0, m1 = (
        np.array(v, dtype=float).ravel() for v in np.broadcast_arrays(
            *(as_float_array(v) for v in (count_before, exposure_before, count_now, exposure_now, dispersion,
                                          months_before, months_now))))
    if np.any(alpha[~np.isnan(alpha)] < 0):
        raise ValueError("dispersion must be >= 0")
    with np.errstate(divide="ignore"):
        K = np.where(alpha > 0, (m0 + m1) / alpha, np.inf)
    n = x0 + x1
    below, at, above = betabinom_tails(x1, n, _share(1.0, e1, e0), K)
    p_low, p_high = below + at / 2, above + at / 2
    pvalue = np.where(n > 0, np.minimum(1.0, 2 * np.minimum(p_low, p_high)), 1.0)
    pvalue = np.where(np.isnan(n), np.nan, pvalue)
    lower, upper, mue = (np.full(n.shape, np.nan) for _ in range(3))
    n_pos = np.where(n > 0, n, np.nan)
    for b in _blocks(n_pos, 2_000_000):
        sup = _Support(x1[b], n[b], K[b])
        xs, ns = x1[b], n[b]
        k = e0[b] / e1[b]
        pl = np.where(xs > 0, _solve_share(sup, a / 2, "high_mid"), 0.0)
        pu = np.where(xs < ns, _solve_share(sup, a / 2, "low_mid"), 1.0)
        with np.errstate(divide="ignore"):
            lower[b] = pl / (1 - pl) * k
            upper[b] = np.where(pu < 1, pu / (1 - pu) * k, np.inf)
        if estimate:
            m_lo = np.where(xs > 0, _solve_share(sup, 0.5, "high_exact"), 0.0)
            m_hi = np.where(xs < ns, _solve_share(sup, 0.5, "low_exact"), 1.0)
            mid = (m_lo + m_hi) / 2
            mue[b] = mid / (1 - mid) * k
    out = {"pvalue": pvalue, "lower": lower, "upper": upper, "p_low": p_low, "p_high": p_high}
    if estimate:
        out["mue"] = mue
    return out
