"""``python -m qyb.examples.hdi``: UNDP's Human Development Index scored by qyb from the published inputs.

:data:`PUBLISHED` holds rows of Table 1 of the Human Development Report 2015
(HDI and its components, 2014 values: life expectancy at birth, expected and
mean years of schooling, GNI per capita in 2011 PPP$), whose goalposts are the
ones of the technical note (20-85, 0-18, 0-15, 100-75,000). The table prints
inputs rounded to one decimal (income to the dollar) and the HDI to three; the
HDI recomputed from the rounded inputs can therefore differ from the published
value by at most :data:`ROUNDING_BOUND`. :data:`TECHNICAL_NOTE_EXAMPLE` is the
worked example of the HDR 2020 technical notes (dimension indices and HDI).

:func:`write_data` writes a qyb data folder (units.csv with one row per country,
``2014-12.csv`` with the four inputs, and a ``catalogue.yaml`` declaring
countries as the unit type); :func:`scores` scores it under ``hdi.yaml``.
"""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

__all__ = ["SPEC", "PUBLISHED", "TECHNICAL_NOTE_EXAMPLE", "ROUNDING_BOUND", "MONTH", "write_data", "scores"]

SPEC = Path(__file__).with_name("hdi.yaml")
MONTH = "2014-12"  # one value a year: the year's figures filed under its last month

#: country, HDI, life expectancy, expected years of schooling, mean years of schooling, GNI per capita
#: (HDR 2015, Table 1, very high human development, 2014; hdr.undp.org/en/composite/HDI)
PUBLISHED = (
    ("Norway", 0.944, 81.6, 17.5, 12.6, 64992), ("Australia", 0.935, 82.4, 20.2, 13.0, 42261),
    ("Switzerland", 0.930, 83.0, 15.8, 12.8, 56431), ("Denmark", 0.923, 80.2, 18.7, 12.7, 44025),
    ("Netherlands", 0.922, 81.6, 17.9, 11.9, 45435), ("Germany", 0.916, 80.9, 16.5, 13.1, 43919),
    ("Ireland", 0.916, 80.9, 18.6, 12.2, 39568), ("United States", 0.915, 79.1, 16.5, 12.9, 52947),
    ("Canada", 0.913, 82.0, 15.9, 13.0, 42155), ("New Zealand", 0.913, 81.8, 19.2, 12.5, 32689),
    ("Singapore", 0.912, 83.0, 15.4, 10.6, 76628), ("Hong Kong, China (SAR)", 0.910, 84.0, 15.6, 11.2, 53959),
    ("Liechtenstein", 0.908, 80.0, 15.0, 11.8, 79851), ("Sweden", 0.907, 82.2, 15.8, 12.1, 45636),
    ("United Kingdom", 0.907, 80.7, 16.2, 13.1, 39267), ("Iceland", 0.899, 82.6, 19.0, 10.6, 35182),
    ("Korea (Republic of)", 0.898, 81.9, 16.9, 11.9, 33890), ("Israel", 0.894, 82.4, 16.0, 12.5, 30676),
    ("Luxembourg", 0.892, 81.7, 13.9, 11.7, 58711), ("Japan", 0.891, 83.5, 15.3, 11.5, 36927),
    ("Belgium", 0.890, 80.8, 16.3, 11.3, 41187), ("France", 0.888, 82.2, 16.0, 11.1, 38056),
    ("Austria", 0.885, 81.4, 15.7, 10.8, 43869), ("Finland", 0.883, 80.8, 17.1, 10.3, 38695),
)
#: HDR 2020 technical notes, worked example: GNI per capita 3,829 -> income index 0.5506; dimension
#: indices 0.6971 (health), 0.3447 (education), 0.5506 (income) -> HDI 0.510
TECHNICAL_NOTE_EXAMPLE = {"gni_per_capita": 3829, "income_index": 0.5506,
                          "indices": (0.6971, 0.3447, 0.5506), "hdi": 0.510}
#: the most the HDI of rounded inputs can differ from the published one: half a unit of the third decimal
#: plus the effect of rounding life expectancy and both schooling figures to 0.05 (HDI <= 1, each
#: dimension index >= 0.8 here, d HDI = HDI/3 * d I / I)
ROUNDING_BOUND = 0.0005 + (0.05 / 65 + 0.5 * 0.05 / 18 + 0.5 * 0.05 / 15) / 3 / 0.8


def write_data(folder: Path) -> Path:
    """A qyb data folder of the countries of :data:`PUBLISHED`; returns it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ids = [f"C{i + 1:02d}" for i in range(len(PUBLISHED))]
    pd.DataFrame({"unit_id": ids, "unit_name": [r[0] for r in PUBLISHED], "unit_type": "国家", "town": "world",
                  "population": 1_000_000}).to_csv(folder / "units.csv", index=False, encoding="utf-8-sig")
    pd.DataFrame({"month": MONTH, "unit_id": ids, "Life expectancy at birth": [r[2] for r in PUBLISHED],
                  "Expected years of schooling": [r[3] for r in PUBLISHED],
                  "Mean years of schooling": [r[4] for r in PUBLISHED],
                  "GNI per capita": [r[5] for r in PUBLISHED]}).to_csv(folder / f"{MONTH}.csv", index=False,
                                                                      encoding="utf-8-sig")
    # countries, not 村/社区; and none of the town's 20 measures is collected here
    lines = ["register: {unit_types: [国家]}", "measures:"]
    from qyb.data.catalogue import MEASURE_CODES

    lines += [f"  - {{code: {c}, until: 1900-01}}" for c in MEASURE_CODES]
    (folder / "catalogue.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def scores(folder: Path) -> pd.DataFrame:
    """Country, published HDI and the HDI qyb computes (index / 100) for the folder of :func:`write_data`."""
    import qyb

    ed = qyb.load(MONTH, SPEC, folder)
    card = ed.scorecard.set_index("unit_id")
    published = {r[0]: r[1] for r in PUBLISHED}
    return pd.DataFrame({"country": card["unit_name"], "published": card["unit_name"].map(published),
                         "qyb": card["index"] / 100}).reset_index(drop=True)


def main() -> int:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        table = scores(write_data(Path(tmp) / "hdi"))
    table["difference"] = table["qyb"] - table["published"]
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    exact = int((table["qyb"].round(3) == table["published"]).sum())
    print(f"{exact}/{len(table)} equal at three decimals; largest difference {table['difference'].abs().max():.5f} "
          f"(bound from the table's rounding {ROUNDING_BOUND:.5f})")
    ni = (math.log(TECHNICAL_NOTE_EXAMPLE["gni_per_capita"]) - math.log(100)) / (math.log(75000) - math.log(100))
    print(f"technical note example: income index {ni:.4f} (published {TECHNICAL_NOTE_EXAMPLE['income_index']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
