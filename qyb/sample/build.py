"""The synthetic sample data set (示例数据): 29 real unit names, invented figures.

Run ``python -m qyb.sample --out data/raw`` (``make sample``). The same seed
gives byte-identical files. What is built in, so that reports have something
real to show (see data/raw/SYNTHETIC.md):

* magnitudes from public figures: ~790,000 residents in 29 units (永宁社区
  ~29,000 with 2,540 rental rooms and ~27,000 migrants), ~25 刑事治安警情 and a
  handful of 电诈警情 per unit per month; counts are Poisson-gamma (overdispersed);
* a town-wide decline after the mechanism starts in 2023-02 (a level drop and a
  monthly slope on the log scale, stronger for fraud);
* 永宁社区 ranks 27th in 2023-02 under method v1 and 2nd in 2023-03 under v2, with
  the town's best fraud-alert reduction (电诈警情压降率) score: its February is a
  bad month (a spike of alerts and slack follow-up), its March a very good one,
  so part of its jump is a regression to the mean;
* small units (太平村, 胜龙村) whose small counts make their ranks jumpy.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from qyb.data.catalogue import MEASURE_BY_CODE, MEASURE_CODES
from qyb.data.files import csv_bytes, write_bytes_atomic
from qyb.data.months import month_number, month_range
from qyb.data.panel import SYNTHETIC_MARKER, Panel
from qyb.data.register import UNITS_FILE
from qyb.engine import score_panel
from qyb.method import load_method

SEED = 20230315
FIRST_MONTH, LAST_MONTH = "2022-01", "2023-12"
MECHANISM_START = "2023-02"
HEADLINE_UNIT = "XL01"  # 永宁社区

# (id, name, type, former town, population, floating population, rental rooms, area km2)
UNITS = [
    ("XL01", "永宁社区", "社区", "小榄", 29000, 27000, 2540, 5.2),
    ("XL02", "新市社区", "社区", "小榄", 31000, 19000, 1810, 3.1),
    ("XL03", "绩东一社区", "社区", "小榄", 33000, 24000, 2260, 4.0),
    ("XL04", "绩东二社区", "社区", "小榄", 30000, 21000, 1990, 3.8),
    ("XL05", "绩西社区", "社区", "小榄", 34000, 26000, 2410, 4.6),
    ("XL06", "东区社区", "社区", "小榄", 36000, 22000, 2080, 3.3),
    ("XL07", "西区社区", "社区", "小榄", 28000, 15000, 1420, 2.9),
    ("XL08", "北区社区", "社区", "小榄", 32000, 20000, 1880, 4.4),
    ("XL09", "竹源社区", "社区", "小榄", 22000, 14000, 1300, 5.8),
    ("XL10", "沙口社区", "社区", "小榄", 21000, 13000, 1210, 6.1),
    ("XL11", "九洲基社区", "社区", "小榄", 24000, 16000, 1500, 5.5),
    ("XL12", "盛丰社区", "社区", "小榄", 38000, 30000, 2800, 6.7),
    ("XL13", "宝丰社区", "社区", "小榄", 27000, 18000, 1690, 4.9),
    ("XL14", "埒西一社区", "社区", "小榄", 26000, 17000, 1600, 4.2),
    ("XL15", "联丰社区", "社区", "小榄", 35000, 27000, 2500, 6.3),
    ("DS01", "高沙社区", "社区", "东升", 30000, 19000, 1770, 7.4),
    ("DS02", "裕民社区", "社区", "东升", 33000, 23000, 2150, 6.8),
    ("DS03", "同乐社区", "社区", "东升", 34000, 25000, 2330, 7.9),
    ("DS04", "东升社区", "社区", "东升", 32000, 21000, 1960, 5.6),
    ("DS05", "兆龙社区", "社区", "东升", 28000, 18000, 1680, 6.2),
    ("DS06", "利生社区", "社区", "东升", 26000, 16000, 1490, 5.1),
    ("DS07", "同茂社区", "社区", "东升", 29000, 20000, 1850, 6.0),
    ("DS08", "东城社区", "社区", "东升", 31000, 22000, 2040, 5.3),
    ("DS09", "新胜村", "村", "东升", 15000, 7000, 640, 8.8),
    ("DS10", "益隆村", "村", "东升", 14000, 6000, 560, 9.3),
    ("DS11", "坦背村", "村", "东升", 16000, 8000, 730, 8.1),
    ("DS12", "白鲤村", "村", "东升", 13000, 5000, 470, 7.6),
    ("DS13", "太平村", "村", "东升", 6000, 2000, 190, 4.7),
    ("DS14", "胜龙村", "村", "东升", 7000, 2500, 240, 5.0),
]

# Expected events per 10,000 residents per month before the mechanism (about 25
# crime alerts and 4 fraud alerts in a unit of 27,000).
BASE_RATES = {"crime_alerts": 9.3, "fraud_alerts": 1.5, "traffic_accidents": 2.2, "fires": 0.3,
              "work_accidents": 0.15, "fraud_warnings": 9.0, "hazards_found": 4.5, "disputes_received": 5.5}
# After 2023-02: log-scale level change and monthly slope.
DECLINE = {"crime_alerts": (-0.08, -0.012), "fraud_alerts": (-0.12, -0.02), "traffic_accidents": (-0.04, -0.006)}
DISPERSION = 25.0  # gamma shape of month-to-month noise (coefficient of variation 0.2)
# Rare events, expected per unit per month whatever its size (Poisson, no month noise).
RARE_RATES = {"traffic_deaths": 0.03, "work_deaths": 0.008, "major_cases": 0.02}
HOTSPOTS_LISTED = 1.2  # expected 乱点挂牌 per unit per month (Poisson)
RATE_NOISE_SD = 0.02  # month-to-month noise (sd) of an attainment rate around the unit's own


def units_frame() -> pd.DataFrame:
    cols = ["unit_id", "unit_name", "unit_type", "former_town", "population", "floating_population",
            "rental_rooms", "area_km2"]
    frame = pd.DataFrame(UNITS, columns=cols)
    frame.insert(3, "town", "小榄镇")
    return frame


def _simulate(rng: np.random.Generator, units: pd.DataFrame, months: list[str],
              truth: dict | None = None) -> dict[str, np.ndarray]:
    """Months x units arrays of every raw measure.

    ``truth``, when given, receives what chance acts on (:mod:`qyb.sample.truth`): per measure the
    expected figure before Poisson and month noise (``"expected"``), the gamma shape of the
    month noise of a count (``"size"``, inf for Poisson) and the month-noise sd of an attainment
    rate (``"rate_sd"``). Recording draws nothing, so the files stay byte-identical.
    """
    truth = {} if truth is None else truth
    expected, size, rate_sd = truth.setdefault("expected", {}), truth.setdefault("size", {}), \
        truth.setdefault("rate_sd", {})
    T, U = len(months), len(units)
    pop = units["population"].to_numpy(float)
    t = np.array([month_number(m) for m in months]) - month_number(MECHANISM_START)
    season = 1 + 0.08 * np.cos(2 * np.pi * (np.array([month_number(m) % 12 for m in months]) - 0.5) / 12)
    out: dict[str, np.ndarray] = {}
    for measure, base in BASE_RATES.items():
        risk = rng.gamma(8.0, 1 / 8.0, size=U)
        level, slope = DECLINE.get(measure, (0.0, 0.0))
        trend = np.exp(np.where(t >= 0, level + slope * t, 0.0))
        mean = base * pop / 10000 * risk[None, :] * (season * trend)[:, None]
        noise = rng.gamma(DISPERSION, 1 / DISPERSION, size=(T, U))
        out[measure] = rng.poisson(mean * noise).astype(float)
        expected[measure], size[measure] = mean, DISPERSION
    for measure, mean in RARE_RATES.items():
        out[measure] = rng.poisson(mean, size=(T, U)).astype(float)
        expected[measure], size[measure] = np.full((T, U), mean), np.inf
    out["rental_due"] = np.round(units["rental_rooms"].to_numpy(float) / 4)[None, :].repeat(T, axis=0)
    out["hotspots_listed"] = rng.poisson(HOTSPOTS_LISTED, size=(T, U)).astype(float)
    expected["hotspots_listed"], size["hotspots_listed"] = np.full((T, U), HOTSPOTS_LISTED), np.inf
    out["patrols_planned"] = np.round(100 + pop / 500)[None, :].repeat(T, axis=0)
    for fixed in ("rental_due", "patrols_planned"):
        expected[fixed] = out[fixed].copy()
    shares = {"fraud_warnings_handled": ("fraud_warnings", 40, 1.6), "rental_inspected": ("rental_due", 30, 2.5),
              "hazards_rectified": ("hazards_found", 12, 2.0), "disputes_resolved": ("disputes_received", 20, 2.0),
              "hotspots_rectified": ("hotspots_listed", 3, 1.5), "patrols_done": ("patrols_planned", 40, 1.5)}
    for handled, (total, a, b) in shares.items():
        p_unit = rng.beta(a, b, size=U)
        p = np.clip(p_unit[None, :] + rng.normal(0, RATE_NOISE_SD, size=(T, U)), 0.0, 1.0)
        out[handled] = rng.binomial(out[total].astype(int), p).astype(float)
        expected[handled], rate_sd[handled] = expected[total] * p_unit[None, :], RATE_NOISE_SD
    return out


def _panel(units: pd.DataFrame, months: list[str], data: dict[str, np.ndarray]) -> Panel:
    array = np.stack([data[m] for m in MEASURE_CODES], axis=-1)  # (months, units, measures)
    return Panel(Path("."), units.set_index("unit_id"), months, array, MEASURE_CODES)


def _rank_of(panel: Panel, method: str, month: str, unit: str) -> int:
    card = score_panel(panel, load_method(method), [month]).scorecard(month).set_index("unit_id")
    return int(card.at[unit, "rank"])


def _set(data, months, month, unit_pos, **values) -> None:
    t = months.index(month)
    for measure, value in values.items():
        data[measure][t, unit_pos] = value


def _stage_headline(data: dict[str, np.ndarray], units: pd.DataFrame, months: list[str]) -> None:
    """Give 永宁社区 a bad 2023-02 (27th under v1) and a very good 2023-03 (2nd under v2)."""
    u = units.index[units["unit_id"] == HEADLINE_UNIT][0]
    feb, mar, mar_ly = "2023-02", "2023-03", "2022-03"
    # a bad March last year: the baseline its March 2023 reduction is measured against
    _set(data, months, mar_ly, u, fraud_alerts=13, crime_alerts=38)
    # March 2023: no fraud alert (the only unit with none), full follow-up
    t_mar = months.index(mar)
    others_zero = (data["fraud_alerts"][t_mar] == 0)
    others_zero[u] = False
    data["fraud_alerts"][t_mar, others_zero] = 1
    _set(data, months, mar, u, fraud_alerts=0, fraud_warnings_handled=data["fraud_warnings"][t_mar, u],
         patrols_done=data["patrols_planned"][t_mar, u], traffic_deaths=0, work_deaths=0, major_cases=0)
    # February 2023: worse and worse until 27th under v1
    t_feb = months.index(feb)
    _set(data, months, feb, u, traffic_deaths=0, work_deaths=0, major_cases=0)
    for step in range(60):
        bad = 1 + 0.05 * step
        _set(data, months, feb, u, crime_alerts=round(24 * bad), fraud_alerts=round(4 * bad),
             disputes_resolved=np.floor(data["disputes_received"][t_feb, u] * max(0.95 - 0.01 * step, 0.7)),
             patrols_done=np.floor(data["patrols_planned"][t_feb, u] * max(0.99 - 0.005 * step, 0.85)))
        if _rank_of(_panel(units, months, data), "v1", feb, HEADLINE_UNIT) >= 27:
            break
    # March 2023: fewer crime alerts until 2nd under v2
    for step in range(80):
        crime = max(round(30 - 0.5 * step), 0)
        _set(data, months, mar, u, crime_alerts=crime,
             disputes_resolved=data["disputes_received"][t_mar, u],
             rental_inspected=data["rental_due"][t_mar, u])
        if _rank_of(_panel(units, months, data), "v2", mar, HEADLINE_UNIT) <= 2:
            break


def build(seed: int = SEED) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The unit register and one frame per month (Chinese headers, as an office exports them)."""
    rng = np.random.default_rng(seed)
    units = units_frame()
    months = month_range(FIRST_MONTH, LAST_MONTH)
    data = _simulate(rng, units, months)
    _stage_headline(data, units, months)
    frames = {}
    for t, month in enumerate(months):
        frame = pd.DataFrame({"月份": month, "单位编码": units["unit_id"], "村(社区)名称": units["unit_name"]})
        for code in MEASURE_CODES:
            frame[MEASURE_BY_CODE[code].name] = data[code][t].astype(int)
        frames[month] = frame
    return units, frames


SYNTHETIC_NOTE = """# 示例数据 (synthetic sample data)

本目录中的数据为**合成示例数据**，由 `python -m qyb.sample` 以固定随机种子生成，
单位名称为小榄镇真实的 29 个村（社区），但所有数字均为虚构，不代表任何真实情况。

The figures in this folder are **synthetic**: generated by `python -m qyb.sample`
(seed {seed}); the 29 unit names are real, every number is invented. Reports fed by
this folder carry a 示例数据 banner. Built-in features (see `qyb/sample.py`):

- magnitudes from public figures (≈790,000 residents; ≈25 刑事治安警情 and a handful
  of 电诈警情 per unit per month), overdispersed Poisson-gamma counts;
- a town-wide decline after the mechanism starts in 2023-02;
- 永宁社区 27th in 2023-02 (method v1), 2nd in 2023-03 (method v2), with the town's
  best 电诈警情压降率 score; its bad February makes part of that jump a
  regression to the mean;
- small units (太平村 ≈6,000 and 胜龙村 ≈7,000 residents) whose ranks jump on noise.
"""


def write(out: Path, seed: int = SEED) -> list[Path]:
    """Write units.csv, YYYY-MM.csv and SYNTHETIC.md into ``out``; returns the paths written."""
    out = Path(out)
    units, frames = build(seed)
    written = [out / UNITS_FILE]
    write_bytes_atomic(csv_bytes(units), written[0])
    for month, frame in frames.items():
        path = out / f"{month}.csv"
        write_bytes_atomic(csv_bytes(frame), path)
        written.append(path)
    marker = out / SYNTHETIC_MARKER
    write_bytes_atomic(SYNTHETIC_NOTE.format(seed=seed).encode("utf-8"), marker)
    return written + [marker]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qyb.sample", description="Write the synthetic sample data set.")
    parser.add_argument("--out", default="data/raw", help="folder to write into (default data/raw)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--towns", type=int, default=1,
                        help="copy the sample into this many towns of 29 units (figures jittered by 30 %%)")
    args = parser.parse_args(argv)
    if args.towns > 1:
        import tempfile

        from qyb.data.panel import load_panel
        from qyb.sample.replicate import replicate, write_raw

        with tempfile.TemporaryDirectory() as tmp:
            write(Path(tmp), args.seed)
            paths = write_raw(replicate(load_panel(Path(tmp)), args.towns, jitter=0.3, seed=args.seed),
                              Path(args.out))
    else:
        paths = write(Path(args.out), args.seed)
    print(f"wrote {len(paths)} files to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
