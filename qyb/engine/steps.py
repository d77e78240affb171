"""The data steps between indicator values and normalisation: impute -> screen -> treat.

COINr builds an index as a chain of data sets (``Raw`` -> ``Denominated`` ->
``Imputed`` -> ``Screened`` -> ``Treated`` -> ``Normalised`` -> ``Aggregated``).
In qyb denomination is an indicator transform (``rate`` with a unit-attribute
denominator and ``per: 1`` is COINr's ``x / (denominator / 1)``); this module
runs the three optional steps a method spec names (``impute``, ``screen``,
``treat``), always in that order, on engine arrays of shape
``(..., units, indicators)`` with a ``present`` mask (False = padding or a
screened-out unit). The step functions are the tested COINr reproductions in
:mod:`qyb.reference.impute`, :mod:`qyb.reference.screen` and :mod:`qyb.engine.treat`; this module only
wires them to the spec and records, for each step, its method, arguments,
summary and details (a list of dicts kept on :class:`qyb.score.Scores`).

No loop over units or draws: imputation and screening are array operations;
treatment is iterative per column, so it loops over indicators (and, inside
:func:`qyb.treat.treat_array`, over blocks).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from qyb.engine.impute import impute_block_mean, impute_group_mean_array
from qyb.engine.screen import screen_mask
from qyb.engine.treat import DETAIL_COLUMNS, treat_array
from qyb.errors import InputError, Problem
from qyb.method import Method


@dataclass
class PipelineResult:
    """Values after each step, the final present mask and the step records."""

    values: np.ndarray  # (..., U, I) after the last step
    imputed: np.ndarray  # (..., U, I) bool: cells filled by imputation
    present: np.ndarray  # (..., U) bool: units kept (padding and screened-out units are False)
    stages: dict[str, np.ndarray] = field(default_factory=dict)  # step name -> values after it
    steps: list[dict] = field(default_factory=list)
    treated_points: np.ndarray | None = None  # (..., U, I) "winhi"/"winlo"/"log_CT"/""


# ---------------------------------------------------------------- imputation
def impute_step(spec: dict, values: np.ndarray, present: np.ndarray,
           attributes: Mapping[str, np.ndarray] | None) -> tuple[np.ndarray, np.ndarray, dict]:
    """Run the spec's imputation: ``mean`` (COINr ``i_mean``) or ``group_mean`` (``i_mean_grp``).

    ``group_mean`` needs the unit attribute named by ``spec['group']`` in
    ``attributes`` (labels shaped (units,) or (..., units)). Returns
    ``(values, imputed_mask, record)``.
    """
    if spec["method"] == "mean":
        out, mask = impute_block_mean(values, present)
        method, args = "i_mean", {"impute_by": "column"}
    elif spec["method"] == "group_mean":
        group = spec["group"]
        if attributes is None or group not in attributes:
            raise InputError(Problem("method spec", f"impute.group '{group}' is not a unit attribute of the data",
                                     "Name a column of the unit register (e.g. town) or pass it in attributes."))
        out, mask = impute_group_mean_array(values, attributes[group], present)
        method, args = "i_mean_grp", {"impute_by": "column", "use_group": group}
    else:  # pragma: no cover - validated by the spec
        raise ValueError(f"unknown imputation {spec['method']!r}")
    record = {"step": "impute", "method": method, "args": args,
              "summary": {"n_missing": int((np.isnan(values) & present[..., None]).sum()),
                          "n_imputed": int((mask & ~np.isnan(out)).sum()),
                          "n_still_missing": int((np.isnan(out) & present[..., None]).sum())}}
    return out, mask, record


# ---------------------------------------------------------------- screening
def screen_step(spec: dict, values: np.ndarray, present: np.ndarray,
           unit_ids: np.ndarray | None = None) -> tuple[np.ndarray, dict]:
    """Run the spec's screening; units screened out leave ``present`` (their values become NaN)."""
    kept, dat_avail, non_zero = screen_mask(values, present, spec)
    removed = present & ~kept
    summary = {"n_units": int(present.sum()), "n_removed": int(removed.sum())}
    if unit_ids is not None and removed.ndim == 1:
        summary["removed"] = [str(u) for u in np.asarray(unit_ids)[removed]]
    record = {"step": "screen", "method": "coinr_screen",
              "args": {"unit_screen": spec["method"], "dat_thresh": float(spec["dat_thresh"]),
                       "nonzero_thresh": float(spec["nonzero_thresh"])},
              "summary": summary,
              "details": {"Dat_Avail": dat_avail, "Non_Zero": non_zero, "Included": kept}}
    return kept, record


# ---------------------------------------------------------------- treatment
def treat_step(method: Method, values: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict]:
    """COINr ``Treat`` per indicator with its (global or individual) spec; loops over indicators only.

    Each indicator column is treated across the present units of its block
    (month x town; the whole data set for COINr) by :func:`qyb.treat.treat_array`:
    skew/kurtosis check, iterative winsorisation up to ``winmax`` points on the
    side the skew points to, log_CT of the original column as fallback. Returns
    ``(values, points, record)``; the record's ``details`` is one row per
    (block, indicator) with COINr's ``Dets_Table`` columns.
    """
    out = values.copy()
    points = np.full(values.shape, "", dtype=object)
    tables, indiv = [], {}
    for j, ind in enumerate(method.indicators):
        spec = ind.treat
        if spec is None:
            continue
        if spec != method.treat:
            indiv[ind.code] = {k: v for k, v in spec.items() if k != "method"}
        kw = {k: v for k, v in spec.items() if k != "method"}
        res = treat_array(values[..., [j]], present, **kw)
        out[..., j] = res.values[..., 0]
        points[..., j] = res.points[..., 0]
        tables.append(res.details.assign(indicator=j, iCode=ind.code))
    details = (pd.concat(tables, ignore_index=True) if tables
               else pd.DataFrame(columns=["block", "indicator", *DETAIL_COLUMNS]))
    details = details[["block", "indicator", *DETAIL_COLUMNS]].reset_index(drop=True)
    for k in range(3):  # the dtypes of qyb.treat.treat's table: nullable booleans and counts
        details[f"check_SkewKurt{k}.Pass"] = details[f"check_SkewKurt{k}.Pass"].astype("boolean")
    details["winsorise.nwin"] = details["winsorise.nwin"].astype("Int64")
    nwin = pd.to_numeric(details.loc[details["treatment"] == "winsorise", "winsorise.nwin"])
    record = {"step": "treat", "method": "coinr_treat",
              "args": {"f_pass": "check_SkewKurt", "f1": "winsorise", "combine_treat": False,
                       "global": method.treat, "indiv": indiv},
              "summary": {"n_checked": int(len(details)),
                          "n_winsorised": int((details["treatment"] == "winsorise").sum()),
                          "n_log": int((details["treatment"] == "log_CT").sum()),
                          "n_points_winsorised": int(nwin.sum())},
              "details": details}
    return out, points, record


# ---------------------------------------------------------------- the chain
def has_steps(method: Method) -> bool:
    """Does the method run any data step (impute, screen or treat)?"""
    return method.impute is not None or method.screen is not None or any(ind.treat is not None
                                                                          for ind in method.indicators)


def run_pipeline(method: Method, values: np.ndarray, present: np.ndarray,
                 attributes: Mapping[str, np.ndarray] | None = None,
                 unit_ids: np.ndarray | None = None) -> PipelineResult:
    """Impute -> screen -> treat as the method says; each absent step is skipped.

    ``values`` (..., U, I) are the indicator values (after transforms and
    denomination), NaN = missing; ``present`` (..., U). Stages are recorded under
    ``values`` (input), ``imputed``, ``screened`` and ``treated`` when run.
    """
    present = np.asarray(present, dtype=bool)
    if not present.all():
        values = np.where(present[..., None], values, np.nan)
    elif has_steps(method):  # the steps reduce over units: in C order, as they always have (same bits)
        values = np.ascontiguousarray(values)
    result = PipelineResult(values, np.zeros(values.shape, dtype=bool), present, {"values": values})
    if method.impute is not None:
        result.values, result.imputed, record = impute_step(method.impute, result.values, present, attributes)
        result.stages["imputed"] = result.values
        result.steps.append(record)
    if method.screen is not None:
        result.present, record = screen_step(method.screen, result.values, present, unit_ids)
        result.values = np.where(result.present[..., None], result.values, np.nan)
        result.stages["screened"] = result.values
        result.steps.append(record)
    if any(ind.treat is not None for ind in method.indicators):
        result.values, result.treated_points, record = treat_step(method, result.values, result.present)
        result.stages["treated"] = result.values
        result.steps.append(record)
    return result


# ---------------------------------------------------------------- records of blocks scored apart
_SUMMED = {"impute": ("n_missing", "n_imputed", "n_still_missing"), "screen": ("n_units", "n_removed"),
           "treat": ("n_checked", "n_winsorised", "n_log", "n_points_winsorised")}


def merge_step_records(parts: list[list[dict]], offsets: list[int], axis: int = 1) -> list[dict]:
    """The step records of one array scored in pieces along leading axis ``axis``, merged into the
    records scoring it whole gives (:func:`qyb.engine.table.score_panel` scores towns in blocks).

    ``parts[b]`` are the records of piece ``b``, which starts at position ``offsets[b]`` of that
    axis. Counts in the summaries add up, lists of units removed join, per-unit details
    (screening) join along ``axis``, and the treatment table's ``block`` tuples are shifted by
    the offset and put back in the whole array's order (indicator, then block).
    """
    merged = []
    for k, record in enumerate(parts[0]):
        records = [p[k] for p in parts]
        step = record["step"]
        if step not in _SUMMED:
            merged.append(record)  # transform / normalise / aggregate: the method's, the same for every piece
            continue
        out = {**record, "summary": dict(record["summary"])}
        for key in _SUMMED[step]:
            out["summary"][key] = sum(r["summary"][key] for r in records)
        if "removed" in record["summary"]:
            out["summary"]["removed"] = [u for r in records for u in r["summary"]["removed"]]
        if step == "screen":
            out["details"] = {key: np.concatenate([r["details"][key] for r in records], axis=axis)
                              for key in record["details"]}
        elif step == "treat":
            out["details"] = _merge_treat_details([r["details"] for r in records], offsets, axis)
        merged.append(out)
    return merged


def _merge_treat_details(tables: list[pd.DataFrame], offsets: list[int], axis: int) -> pd.DataFrame:
    shifted = []
    for table, offset in zip(tables, offsets):
        table = table.copy()
        table["block"] = [b[:axis] + (b[axis] + offset,) + b[axis + 1:] for b in table["block"]]
        shifted.append(table)
    whole = pd.concat(shifted, ignore_index=True)
    blocks = np.array(whole["block"].tolist(), dtype=int).reshape(len(whole), -1)
    keys = [blocks[:, i] for i in reversed(range(blocks.shape[1]))] + [whole["indicator"].to_numpy()]
    return whole.iloc[np.lexsort(keys)].reset_index(drop=True)
