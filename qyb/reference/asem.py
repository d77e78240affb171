"""COINr's ASEM Sustainable Connectivity example, rebuilt with qyb's own engine.

The reference: COINr (v1.1.14) ``build_example_coin()`` -- 51 countries, 49
indicators, Indicator -> Pillar -> Sub-index -> Index. Its steps, as a qyb
method spec built from ``ASEM_iMeta`` (:func:`asem_spec`):

=============  ==========================================  =====================================
COINr step     COINr call                                  qyb spec
=============  ==========================================  =====================================
Denominate     ``Denominate(dset = "Raw")``                indicator ``transform: {type: rate,
                                                           denominator: <iMeta Denominator>,
                                                           per: 1}``
Impute         ``f_i = "i_mean_grp"``, EurAsia_group       ``impute: {method: group_mean,
                                                           group: EurAsia_group}``
Screen         ``dat_thresh = 0.9, unit_screen = "byNA"``  ``screen: {method: byNA,
                                                           dat_thresh: 0.9}``
Treat          winsorise (winmax 5), log_CT fallback       ``treat: {method: winsorise,
                                                           winmax: 5, ...}``
Normalise      ``n_minmax`` to 0-100, x * Direction        ``normalise: {method: minmax}``,
                                                           ``direction``
Aggregate      ``a_amean``, iMeta weights                  arithmetic, ``weight``,
                                                           ``missing: skip``
=============  ==========================================  =====================================

Command line::

    python -m qyb.reference.asem [--data DIR] [--out FILE] [--normalise percentile]
                                [--drop LPI,Forest] [--no-impute] [--compare]
                                [--remove-elements LEVEL]

writes FILE (one row per country: ``uCode``, ``Rank``, every aggregate at full
precision) and beside it ``<stem>_denominated.csv``, ``_imputed.csv``,
``_treated.csv``, ``_normalised.csv``, ``_treat_details.csv``, ``_steps.json``
and ``_method.yaml``. Variants as in COINr's adjustments/sensitivity articles:
``--normalise percentile`` (``n_prank``), ``--drop`` (``change_ind(drop=)``),
``--no-impute`` (screen the denominated data at 0.9 instead of imputing), with
``--compare`` writing the rank comparison against the nominal build
(``compare_coins``); ``--remove-elements 2`` writes the mean absolute rank
change when each level-2 aggregate is removed (``remove_elements``).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from qyb.engine import Scores, score_values
from qyb.engine.transforms import indicator_values
from qyb.errors import InputError, Problem
from qyb.method import Method
from qyb.reference.results import compare_ranks, mean_abs_rank_diff, strengths_weaknesses, unit_summary

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA = PROJECT_ROOT.parent / "shared" / "oracles" / "asem"
LEVEL_NAMES = ("Indicator", "Pillar", "Sub-index", "Index")
NOMINAL = {"normalise": "minmax", "impute": True, "drop": ()}


# ---------------------------------------------------------------- data
@dataclass
class AsemData:
    """ASEM_iData sorted by uCode (as COINr's ``new_coin``) and ASEM_iMeta."""

    idata: pd.DataFrame  # index uCode
    imeta: pd.DataFrame
    source: str = ""

    @property
    def indicators(self) -> pd.DataFrame:
        return self.imeta[self.imeta["Type"] == "Indicator"]

    @property
    def aggregates(self) -> pd.DataFrame:
        return self.imeta[self.imeta["Type"] == "Aggregate"]

    def raw(self) -> pd.DataFrame:
        """COINr's ``Raw`` data set: the 49 indicator columns in iMeta order."""
        return self.idata[list(self.indicators["iCode"])].astype(float)


def read_asem(data_dir: str | Path | None = None) -> AsemData:
    """Read ``ASEM_iData.csv`` and ``ASEM_iMeta.csv`` (empty cell = NA); InputError if absent."""
    data_dir = Path(data_dir) if data_dir is not None else DEFAULT_DATA
    files = {name: data_dir / f"ASEM_{name}.csv" for name in ("iData", "iMeta")}
    for path in files.values():
        if not path.is_file():
            raise InputError(Problem(str(path), "ASEM input file not found",
                                     "Pass --data DIR with ASEM_iData.csv and ASEM_iMeta.csv "
                                     "(COINr's example data, e.g. ../shared/oracles/asem)."))
    idata = pd.read_csv(files["iData"], keep_default_na=False, na_values=[""])
    imeta = pd.read_csv(files["iMeta"], keep_default_na=False, na_values=[""])
    need = {"iCode", "iName", "Level", "Parent", "Type", "Direction", "Weight", "Denominator"}
    if need - set(imeta.columns) or "uCode" not in idata.columns:
        raise InputError(Problem(str(files["iMeta"]), f"missing columns {sorted(need - set(imeta.columns))}",
                                 "Use COINr's ASEM_iMeta / ASEM_iData layout."))
    idata = idata.sort_values("uCode", kind="stable").set_index("uCode")
    return AsemData(idata, imeta, str(data_dir))


# ---------------------------------------------------------------- the spec
def asem_spec(imeta: pd.DataFrame, normalise: str = "minmax", impute: bool = True) -> dict:
    """The method spec of COINr's example build, from iMeta (hierarchy, Direction, Weight, Denominator).

    ``normalise``: ``minmax`` (COINr ``n_minmax`` to 0-100) or ``percentile``
    (``n_prank``, here on 0-100). ``impute=False`` is the adjustments article's
    ``coin90``: no imputation, the denominated data screened at 90 %.
    """
    ind = imeta[imeta["Type"] == "Indicator"]
    agg = imeta[imeta["Type"] == "Aggregate"]
    top = agg[agg["Level"] == agg["Level"].max()].iloc[0]
    norm = {"method": "minmax", "low": 0, "high": 100} if normalise == "minmax" else {"method": normalise}
    indicators = []
    for _, r in ind.iterrows():
        item = {"code": r.iCode, "name": r.iName, "parent": r.Parent, "measures": {"value": r.iCode},
                "direction": int(r.Direction), "weight": float(r.Weight), "normalise": dict(norm)}
        if isinstance(r.Denominator, str) and r.Denominator:
            item["transform"] = {"type": "rate", "denominator": r.Denominator, "per": 1}
        else:
            item["transform"] = {"type": "value"}
        indicators.append(item)
    groups = [{"code": r.iCode, "name": r.iName, "parent": r.Parent, "weight": float(r.Weight)}
              for _, r in agg[agg["iCode"] != top.iCode].sort_values("Level", kind="stable").iterrows()]
    spec = {
        "name": "asem" if (normalise, impute) == ("minmax", True) else f"asem-{normalise}{'' if impute else '-noimpute'}",
        "title": "COINr ASEM Sustainable Connectivity example (reference build)",
        "effective_from": "2018-01",
        "reference": "COINr 1.1.14 build_example_coin(); levels " + " -> ".join(LEVEL_NAMES),
        "measures": list(ind["iCode"]),
        "missing": "skip",
        "index": {"code": top.iCode, "name": top.iName, "scale": "identity", "aggregation": "arithmetic"},
        "stars": {"rule": "none"},
        "screen": {"method": "byNA", "dat_thresh": 0.9},
        "treat": {"method": "winsorise", "winmax": 5, "skew_thresh": 2, "kurt_thresh": 3.5, "log_fallback": True},
        "groups": groups,
        "indicators": indicators,
    }
    if impute:
        spec["impute"] = {"method": "group_mean", "group": "EurAsia_group"}
    return spec


def asem_method(data: AsemData, normalise: str = "minmax", impute: bool = True, drop=()) -> Method:
    """The validated :class:`Method` of the example (with ``drop``: those indicators/groups removed)."""
    method = Method(asem_spec(data.imeta, normalise, impute), source=f"{data.source}/ASEM_iMeta.csv")
    return method.without(drop) if drop else method


class _Inputs:
    """ASEM_iData as transform inputs: measures and unit attributes are its columns."""

    def __init__(self, idata: pd.DataFrame):
        self.idata = idata

    def measure(self, code: str, lag: int = 0) -> np.ndarray:
        return self.idata[code].to_numpy(dtype=float)

    def attribute(self, code: str) -> np.ndarray:
        return self.idata[code].to_numpy(dtype=float)


# ---------------------------------------------------------------- running
@dataclass
class AsemBuild:
    """One build: the method, the engine's Scores and tidy frames of every stage."""

    data: AsemData
    method: Method
    scores: Scores
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def units(self) -> pd.Index:
        return self.data.idata.index

    def aggregate_codes(self) -> list[str]:
        """Aggregates from the top level down, parents alphabetical within a level (COINr get_results)."""
        m = self.method
        level = {m.root.code: 0}
        for g in reversed(m.aggregation_order()[:-1]):
            level[g.code] = level[g.parent] + 1
        parent = {g.code: g.parent for g in m.groups}
        position = {g.code: n for n, g in enumerate(m.groups)}
        return sorted(level, key=lambda c: (level[c], parent.get(c) or "", position.get(c, -1)))

    def aggregated(self) -> pd.DataFrame:
        """uCode, Rank, then every aggregate (Index, sub-indices, pillars), sorted by rank."""
        codes = self.aggregate_codes()
        out = pd.DataFrame({c: self.scores.nodes[c] for c in codes}, index=self.units)
        out.insert(0, "Rank", self.scores.rank)
        out.index.name = "uCode"
        out = out.sort_values("Rank", kind="stable", na_position="last")
        return out.reset_index()

    def index_ranks(self) -> pd.Series:
        r = pd.Series(self.scores.rank, index=self.units, name="Rank")
        return r[r.notna()]

    def node_scores(self) -> pd.DataFrame:
        """Every aggregate and indicator score (normalised), one column each; units screened out dropped."""
        frame = pd.DataFrame({c: self.scores.nodes[c] for c in self.aggregate_codes()}, index=self.units)
        norm = self.frames["normalised"]
        frame = pd.concat([frame, norm], axis=1)
        return frame[self.scores.present] if self.scores.present is not None else frame

    def treat_details(self) -> pd.DataFrame:
        rec = self.scores.step("treat")
        return rec["details"].drop(columns=["block", "indicator"]) if rec else pd.DataFrame()


def build(data: AsemData, normalise: str = "minmax", impute: bool = True, drop=()) -> AsemBuild:
    """Run the regular engine on the ASEM data under the example's spec (or a variant)."""
    method = asem_method(data, normalise, impute, drop)
    values = indicator_values(method, _Inputs(data.idata))  # (U, I): Raw -> Denominated
    attributes = {c: data.idata[c].to_numpy(dtype=object) for c in ("EurAsia_group",)}
    scores = score_values(method, values, attributes=attributes, unit_ids=data.idata.index.to_numpy())
    codes = [i.code for i in method.indicators]

    def frame(a: np.ndarray) -> pd.DataFrame:
        f = pd.DataFrame(a, index=data.idata.index, columns=codes)
        f.index.name = "uCode"
        return f

    frames = {"raw": data.raw()[codes], "denominated": frame(scores.stages["values"])}
    for stage in ("imputed", "screened", "treated"):
        if stage in scores.stages:
            frames[stage] = frame(scores.stages[stage])
    frames["normalised"] = frame(scores.indicator_scores)
    return AsemBuild(data, method, scores, frames)


def remove_elements(data: AsemData, level: int = 2, **variant) -> pd.Series:
    """Mean absolute change of Index ranks when each aggregate of ``level`` is removed in turn.

    Source: COINr ``remove_elements(coin, Level, iCode = "Index")$MeanAbsDiff``.
    """
    nominal = build(data, **variant)
    codes = list(data.aggregates.loc[data.aggregates["Level"] == level, "iCode"])
    alt = {c: build(data, **{**variant, "drop": tuple(variant.get("drop", ())) + (c,)}).index_ranks()
           for c in codes}
    return mean_abs_rank_diff(nominal.index_ranks(), alt)


def unit_profile(b: AsemBuild, unit: str, levels=(4, 3, 2)) -> pd.DataFrame:
    """COINr ``get_unit_summary(coin, usel, Levels, dset = "Aggregated")``."""
    agg = b.data.aggregates
    meta = b.data.imeta[b.data.imeta["Type"].isin(["Indicator", "Aggregate"])]
    meta = meta.sort_values(["Level", "Parent"], kind="stable", na_position="last")
    meta = meta.sort_values("Level", ascending=False, kind="stable")
    meta = meta[meta["Level"].isin(levels)]
    codes = list(meta["iCode"])
    names = dict(zip(agg["iCode"], agg["iName"])) | dict(zip(b.data.indicators["iCode"], b.data.indicators["iName"]))
    return unit_summary(b.node_scores(), unit, codes, names)


def unit_strengths(b: AsemBuild, unit: str, dset: str = "raw") -> tuple[pd.DataFrame, pd.DataFrame]:
    """COINr ``get_str_weak(coin, dset = "Raw", usel)``: indicators in Meta order (Level, Parent)."""
    ind = b.data.indicators.sort_values("Parent", kind="stable")
    codes = [c for c in ind["iCode"] if c in b.frames[dset].columns]
    adjust = dset == "raw"
    s, w = strengths_weaknesses(
        b.frames[dset][codes], unit,
        directions=dict(zip(ind["iCode"], ind["Direction"].astype(int))) if adjust else None,
        names=dict(zip(ind["iCode"], ind["iName"])), parents=dict(zip(ind["iCode"], ind["Parent"])),
        units_of_measure=dict(zip(ind["iCode"], ind["Unit"])))
    return s.rename(columns={"Parent": "Pillar"}), w.rename(columns={"Parent": "Pillar"})


# ---------------------------------------------------------------- output
def _jsonable(obj):
    if isinstance(obj, pd.DataFrame):
        return obj.to_dict(orient="records")
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        return None if math.isnan(obj) else float(obj)
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return obj if obj is None or isinstance(obj, (str, int, bool)) else str(obj)


def _write_csv(frame: pd.DataFrame, path: Path, index: bool = False) -> None:
    """Write atomically (temp file + rename); floats at full precision (repr)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        frame.to_csv(tmp, index=index, float_format=None)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_outputs(b: AsemBuild, out: Path, nominal: AsemBuild | None = None,
                  removed: pd.Series | None = None) -> list[Path]:
    """FILE = the aggregated table; beside it the stages, treatment details, step records and spec."""
    out.parent.mkdir(parents=True, exist_ok=True)
    stem = out.with_suffix("")
    paths = [out]
    _write_csv(b.aggregated(), out)
    for stage in ("denominated", "imputed", "screened", "treated", "normalised"):
        if stage in b.frames:
            p = Path(f"{stem}_{stage}.csv")
            _write_csv(b.frames[stage], p, index=True)
            paths.append(p)
    p = Path(f"{stem}_treat_details.csv")
    _write_csv(b.treat_details(), p)
    paths.append(p)
    p = Path(f"{stem}_steps.json")
    p.write_text(json.dumps(_jsonable(b.scores.steps), ensure_ascii=False, indent=1), encoding="utf-8")
    paths.append(p)
    p = Path(f"{stem}_method.yaml")
    p.write_text(yaml.safe_dump(b.method.spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    paths.append(p)
    if nominal is not None:
        p = Path(f"{stem}_compare.csv")
        _write_csv(compare_ranks(nominal.index_ranks(), b.index_ranks()), p)
        paths.append(p)
    if removed is not None:
        p = Path(f"{stem}_remove_elements.csv")
        _write_csv(removed.rename_axis("name").rename("value").reset_index(), p)
        paths.append(p)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qyb.reference.asem",
                                     description="Rebuild COINr's ASEM example index with qyb's engine.")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help="folder with ASEM_iData.csv and ASEM_iMeta.csv (default ../shared/oracles/asem)")
    parser.add_argument("--out", type=Path, default=Path("asem_results.csv"), help="results CSV to write")
    parser.add_argument("--normalise", choices=("minmax", "percentile"), default="minmax",
                        help="percentile = COINr n_prank (adjustments article)")
    parser.add_argument("--drop", default="", help="comma-separated indicator/aggregate codes to remove")
    parser.add_argument("--no-impute", action="store_true",
                        help="screen the denominated data (90%% availability) instead of imputing")
    parser.add_argument("--compare", action="store_true", help="also write rank changes against the nominal build")
    parser.add_argument("--remove-elements", type=int, metavar="LEVEL",
                        help="also write mean absolute rank change removing each aggregate of LEVEL")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        data = read_asem(args.data)
        variant = {"normalise": args.normalise, "impute": not args.no_impute,
                   "drop": tuple(c for c in args.drop.split(",") if c)}
        b = build(data, **variant)
        nominal = build(data) if args.compare else None
        removed = remove_elements(data, args.remove_elements, **variant) if args.remove_elements else None
        paths = write_outputs(b, args.out, nominal, removed)
    except InputError as exc:
        print(exc.message(), file=sys.stderr)
        return 2
    top = b.aggregated().head(6)
    print(f"ASEM ({b.method.name}): {int(b.scores.present.sum())} units -> {args.out}")
    print("top six: " + ", ".join(f"{u} {v:.2f}" for u, v in zip(top["uCode"], top[b.method.root.code])))
    print("also wrote: " + ", ".join(p.name for p in paths[1:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
