"""The 预警 list: units that stay at low stars or fall sharply, from the published history.

Rules come from the office's settings (``qyb/report/office.yaml``, or a file given with
``qyb run --office``), in the manner of schemes that escalate a unit which stays red
(预警 → 约谈 → 督办)::

    alerts:
      - {level: 约谈, kind: streak, max_stars: 2, months: 5}   # 连续 5 个月 ★★ 及以下
      - {level: 预警, kind: streak, max_stars: 2, months: 3}   # 连续 3 个月 ★★ 及以下
      - {level: 关注, kind: drop, stars: 2}                    # 星级单月下降 2 星及以上

A **streak** rule fires when the unit's published stars were at most ``max_stars`` in each of the
last ``months`` published months up to and including the month of the report (a month without a
published figure breaks the streak). Of the streak rules a unit meets, only the first listed (the
most severe) is reported. A **drop** rule fires when this month's stars are at least ``stars``
below last month's. Each alert lists the months that triggered it. Vectorised over units: the run
length of every (unit, month) comes from one cumulative maximum.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from qyb.errors import InputError, Problem
from qyb.vocab import month_zh, stars_text

__all__ = ["AlertRule", "Office", "OFFICE_FILE", "ALERT_COLUMNS", "load_office", "run_lengths", "alert_table",
           "alert_span"]

OFFICE_FILE = Path(__file__).with_name("office.yaml")
ALERT_COLUMNS = ["unit_id", "unit_name", "level", "rule", "streak", "first_month", "last_month", "months",
                 "stars_now", "rank_now"]
_KINDS = {"streak": ("max_stars", "months"), "drop": ("stars",)}


@dataclass(frozen=True)
class AlertRule:
    """One rule: ``level`` (预警, 约谈, 关注 …), ``kind`` (``streak`` or ``drop``) and its numbers."""

    level: str
    kind: str
    max_stars: int = 2
    months: int = 3
    stars: int = 2

    @property
    def text(self) -> str:
        """The rule as the documents print it: ``连续 3 个月 ★★ 及以下`` / ``星级单月下降 2 星及以上``."""
        if self.kind == "streak":
            return f"连续 {self.months} 个月 {stars_text(self.max_stars)} 及以下"
        return f"星级单月下降 {self.stars} 星及以上"


@dataclass(frozen=True)
class Office:
    """The office's publishing settings: who signs (``issuer``) and the 预警 ``rules`` (most severe first)."""

    issuer: str
    rules: tuple[AlertRule, ...]
    path: Path | None = None


def _bad(path: Path, where: str, rule: str, fix: str) -> InputError:
    return InputError(Problem(str(path), f"{where}: {rule}", fix))


def load_office(path: str | Path | None = None) -> Office:
    """Read the office settings (default :data:`OFFICE_FILE`); a bad file is an InputError naming the key."""
    from qyb.data.yamlfile import read_yaml

    path = Path(path) if path else OFFICE_FILE
    if not path.is_file():
        raise _bad(path, "file", "not found", "Give the path of an office settings YAML (see qyb/report/office.yaml).")
    spec = read_yaml(path, code="bad_office") or {}
    if not isinstance(spec, dict):
        raise _bad(path, "file", "must be a mapping with issuer and alerts", "See qyb/report/office.yaml.")
    unknown = set(spec) - {"issuer", "alerts"}
    if unknown:
        raise _bad(path, ", ".join(sorted(unknown)), "unknown key", "Allowed keys: issuer, alerts.")
    issuer = spec.get("issuer", "")
    if not isinstance(issuer, str) or not issuer.strip():
        raise _bad(path, "issuer", "must be the name of the issuing office", "e.g. issuer: 小榄镇综治办")
    rules = []
    for n, item in enumerate(spec.get("alerts") or []):
        where = f"alerts[{n}]"
        if not isinstance(item, dict):
            raise _bad(path, where, "must be a mapping", "e.g. {level: 预警, kind: streak, max_stars: 2, months: 3}")
        kind = item.get("kind")
        if kind not in _KINDS:
            raise _bad(path, f"{where}.kind", f"must be one of {sorted(_KINDS)}; got {kind!r}",
                       "streak: consecutive months at low stars; drop: a fall of stars in one month.")
        allowed = {"level", "kind", *_KINDS[kind]}
        if set(item) - allowed:
            raise _bad(path, where, f"unknown key(s) {sorted(set(item) - allowed)}", f"Allowed: {sorted(allowed)}.")
        level = item.get("level")
        if not isinstance(level, str) or not level.strip():
            raise _bad(path, f"{where}.level", "must name the level (预警, 约谈, 关注 …)", "e.g. level: 预警")
        numbers = {}
        for key in _KINDS[kind]:
            value = item.get(key)
            lo, hi = {"max_stars": (1, 4), "months": (1, 120), "stars": (1, 4)}[key]
            if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
                raise _bad(path, f"{where}.{key}", f"must be a whole number {lo}–{hi}; got {value!r}",
                           f"Set {key} to a whole number between {lo} and {hi}.")
            numbers[key] = value
        rules.append(AlertRule(level.strip(), kind, **numbers))
    return Office(issuer.strip(), tuple(rules), path)


def run_lengths(flags: np.ndarray) -> np.ndarray:
    """Length of the run of True ending at each position along the last axis (0 where False).

    ``[F, T, T, F, T] -> [0, 1, 2, 0, 1]``: position minus the last False at or before it, by one
    cumulative maximum (no loop over units or months).
    """
    flags = np.asarray(flags, dtype=bool)
    pos = np.arange(flags.shape[-1])
    last_false = np.maximum.accumulate(np.where(flags, -1, pos), axis=-1)
    return pos - last_false


def alert_table(history: pd.DataFrame, rules, month: str | None = None) -> pd.DataFrame:
    """The 预警 list of ``month`` (default: the history's last month) under ``rules``.

    ``history``: the published history (``month, unit_id, unit_name, stars, rank``; one row per unit
    and month). Columns :data:`ALERT_COLUMNS`: ``streak`` the number of months that triggered it,
    ``months`` those months joined by "、", ``first_month``/``last_month`` their span, ``stars_now`` the
    stars this month (★ text). Ordered by the rules' order (most severe first), then rank.
    """
    rules = tuple(rules)
    months = sorted(history["month"].astype(str).unique())
    if month is not None:
        months = [m for m in months if m <= month]
    if not months or not rules:
        return pd.DataFrame(columns=ALERT_COLUMNS)
    h = history[history["month"].astype(str).isin(months)]
    stars = (h.assign(_s=pd.to_numeric(h["stars"], errors="coerce"))
             .pivot_table(index="unit_id", columns="month", values="_s", aggfunc="last")
             .reindex(columns=months))
    units = stars.index.to_numpy()
    grid = stars.to_numpy(dtype=float)  # (units, months), NaN where nothing was published
    last = h[h["month"].astype(str) == months[-1]].set_index("unit_id")
    names = h.drop_duplicates("unit_id", keep="last").set_index("unit_id")["unit_name"]
    rows = []
    streak_done = np.zeros(len(units), dtype=bool)
    for order, rule in enumerate(rules):
        if rule.kind == "streak":
            length = run_lengths(grid <= rule.max_stars)[:, -1]  # NaN <= x is False: a gap breaks the run
            hit = (length >= rule.months) & ~streak_done
            streak_done |= hit
            for u, n in zip(units[hit], length[hit]):
                span = months[len(months) - n:]
                rows.append((order, u, rule, n, span))
        elif len(months) >= 2:
            fall = grid[:, -2] - grid[:, -1]
            hit = np.nan_to_num(fall, nan=0) >= rule.stars
            for u in units[hit]:
                rows.append((order, u, rule, 1, months[-2:]))
    out = pd.DataFrame([{
        "unit_id": u, "unit_name": names.get(u, u), "level": rule.level, "rule": rule.text, "streak": int(n),
        "first_month": span[0], "last_month": span[-1], "months": "、".join(span),
        "stars_now": stars_text(last["stars"].get(u)) if u in last.index else "",
        "rank_now": last["rank"].get(u) if u in last.index else pd.NA, "_order": order,
    } for order, u, rule, n, span in rows], columns=[*ALERT_COLUMNS, "_order"])
    out["rank_now"] = pd.array(pd.to_numeric(out["rank_now"], errors="coerce"), dtype="Int64")
    out = out.sort_values(["_order", "rank_now", "unit_id"], kind="stable")
    return out[ALERT_COLUMNS].reset_index(drop=True)


def alert_span(first: str, last: str, streak: int) -> str:
    """The months that triggered an alert as the documents print them:
    ``2023年4月至2023年12月（连续 9 个月）``, or one month ``2023年12月``."""
    if first == last:
        return month_zh(first)
    return f"{month_zh(first)}至{month_zh(last)}" + (f"（连续 {streak} 个月）" if streak > 1 else "")
