"""Smoke run of notebooks/02_movements.ipynb with papermill on the sample data (issue 4, part 3)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from qyb.report.run import run_papermill

pytestmark = pytest.mark.slow  # one kernel start and a full notebook run (~30 s)

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "02_movements.ipynb"


def kernel_name() -> str:
    out = subprocess.run([sys.executable, "-m", "jupyter", "kernelspec", "list", "--json"],
                         capture_output=True, text=True, check=False)
    try:
        specs = json.loads(out.stdout)["kernelspecs"]
    except (ValueError, KeyError):
        return "python3"
    return "qyb" if "qyb" in specs else "python3"


def test_notebook_committed_without_outputs():
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)
    params = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1
    src = "".join(params[0]["source"])
    for name in ("month", "method", "data_dir", "output_dir", "indicator", "baseline", "n_draws", "seed",
                 "focus_unit", "intervention"):
        assert f"{name} = " in src


def test_notebook_runs_and_writes_tables(tmp_path):
    out = tmp_path / "report"
    out.mkdir()
    run_papermill(
        NOTEBOOK, tmp_path / "02_movements.ipynb", kernel=kernel_name(), working_dir=ROOT / "notebooks",
        parameters={"month": "2023-03", "method": "", "data_dir": str(ROOT / "data" / "raw"),
                    "output_dir": str(out), "indicator": "fraud_alerts", "baseline": "yoy",
                    "n_draws": "200", "seed": "11", "focus_unit": "永宁", "intervention": "2023-02"})
    mv_path, ri_path = out / "tables" / "movements.csv", out / "tables" / "rank_intervals.csv"
    assert mv_path.read_bytes()[:3] == b"\xef\xbb\xbf" and ri_path.read_bytes()[:3] == b"\xef\xbb\xbf"
    mv = pd.read_csv(mv_path, encoding="utf-8-sig")
    assert len(mv) == 5 * 3 * 29
    assert set(mv["baseline"]) == {"mom", "yoy", "3m"}
    yn = mv[(mv["unit_id"] == "XL01") & (mv["indicator"] == "fraud_alerts") & (mv["baseline"] == "yoy")].iloc[0]
    assert (yn["count_before"], yn["count_now"], yn["verdict"]) == (13, 0, "显著下降")
    assert yn["q_value"] == pytest.approx(0.00708, abs=1e-5)
    ri = pd.read_csv(ri_path, encoding="utf-8-sig")
    assert list(ri.columns[:7]) == ["unit_id", "rank", "rank_median", "rank_p05", "rank_p95", "p_top3",
                                    "p_same_stars"]
    assert len(ri) == 29 and (ri["n_draws"] == 200).all() and (ri["method"] == "v2").all()
    assert ri.set_index("unit_id").loc["XL01", "rank"] == 2
    figures = {p.name for p in (out / "figures").glob("*.png")}
    assert {"movements_funnel_fraud_alerts.png", "movements_control_fraud_alerts.png",
            "movements_its_fraud_alerts.png", "rank_intervals.png"} <= figures
