"""Run of notebooks/02_movements.ipynb with papermill on the sample data: the tables it writes, and what a
reader sees (Chinese headers, no row numbers or internal codes, plain-Chinese verdicts, a glossary)."""
from __future__ import annotations

import json
import re
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


def _html_tables(nb: dict) -> list[str]:
    return ["".join(o["data"]["text/html"]) for c in nb["cells"] if c["cell_type"] == "code"
            for o in c.get("outputs", []) if "text/html" in o.get("data", {})
            and "text/markdown" not in o["data"]]  # Page.markdown shows its HTML beside the Markdown


def _markdown_outputs(nb: dict) -> str:
    return "\n".join("".join(o["data"]["text/markdown"]) for c in nb["cells"] if c["cell_type"] == "code"
                     for o in c.get("outputs", []) if "text/markdown" in o.get("data", {}))


def _run(tmp_path, **parameters) -> tuple[Path, Path]:
    """Execute the notebook on the shipped sample for 2023-03; returns (output folder, executed notebook)."""
    out = tmp_path / "report"
    out.mkdir()
    executed = tmp_path / "02_movements.ipynb"
    run_papermill(NOTEBOOK, executed, kernel=kernel_name(), working_dir=ROOT / "notebooks",
                  parameters={"month": "2023-03", "method": "", "data_dir": str(ROOT / "data" / "raw"),
                              "output_dir": str(out), **parameters})
    return out, executed


def test_notebook_runs_and_writes_tables(tmp_path):
    out, executed = _run(tmp_path, indicator="fraud_alerts", baseline="yoy", n_draws="200", seed="11",
                         focus_unit="永宁", intervention="2023-02")
    mv_path, ri_path = out / "tables" / "movements.csv", out / "tables" / "rank_intervals.csv"
    assert mv_path.read_bytes()[:3] == b"\xef\xbb\xbf" and ri_path.read_bytes()[:3] == b"\xef\xbb\xbf"
    mv = pd.read_csv(mv_path, encoding="utf-8-sig")
    assert len(mv) == 5 * 3 * 29
    assert set(mv["baseline"]) == {"mom", "yoy", "3m"} and (mv["family_size"] == 435).all()
    yn = mv[(mv["unit_id"] == "XL01") & (mv["indicator"] == "fraud_alerts") & (mv["baseline"] == "yoy")].iloc[0]
    assert (yn["count_before"], yn["count_now"], yn["verdict"]) == (13, 0, "下降但不显著")
    assert yn["expected_ratio"] == pytest.approx(64 / 12 / 13) and yn["q_value"] > 0.05
    ri = pd.read_csv(ri_path, encoding="utf-8-sig")
    assert list(ri.columns[:7]) == ["unit_id", "rank", "rank_median", "rank_p05", "rank_p95", "p_top3",
                                    "p_same_stars"]
    assert len(ri) == 29 and (ri["n_draws"] == 200).all() and (ri["method"] == "v2").all()
    assert ri.set_index("unit_id").loc["XL01", "rank"] == 2
    figures = {p.name for p in (out / "figures").glob("*.png")}
    assert {"movements_funnel_fraud_alerts.png", "movements_control_fraud_alerts.png",
            "movements_its_fraud_alerts.png", "rank_intervals.png"} <= figures
    # what a reader sees: Chinese-headed tables without row numbers or internal codes
    nb = json.loads(executed.read_text(encoding="utf-8"))
    tables = _html_tables(nb)
    assert len(tables) == 5  # changes, verdict counts, funnel flags, time series, rank intervals
    for html in tables:
        headers = re.findall(r'<th [^>]*class="col_heading[^"]*"[^>]*>(.*?)</th>', html)
        assert headers and all(not h.isascii() for h in headers), headers
        assert "row_heading" not in html and "unit_id" not in html and not re.search(r">XL\d\d<|>DS\d\d<", html)
    text = _markdown_outputs(nb)
    assert "永宁社区（13 → 0 起" in text and "近12月月均 5.3 起，无变化时预期率比 0.41" in text
    assert "不能排除偶然" in text and "435" in text
    assert "未画控制图" in text and "太平村" in text  # rare units are named, not charted
    assert "模型已扣除季节波动" in text
    glossary = [c for c in nb["cells"] if c["cell_type"] == "markdown" and "".join(c["source"]).startswith("### 术语表")]
    assert glossary and all(term in "".join(glossary[0]["source"]) for term in ("p 值", "q 值", "BH", "E 检验"))
    verdicts = [c for c in nb["cells"] if c["cell_type"] == "markdown" and "每种判断是什么意思" in "".join(c["source"])]
    assert verdicts and all(v in "".join(verdicts[0]["source"]) for v in ("显著下降", "下降但不显著", "基本持平"))


def test_notebook_with_a_rare_indicator(tmp_path):
    """Fires: no unit expects 5 a month, so the page says why there is no control chart instead of drawing one."""
    out, executed = _run(tmp_path, indicator="fires", baseline="mom", n_draws="50", seed="11", focus_unit="",
                         intervention="")
    figures = {p.name for p in (out / "figures").glob("*.png")}
    assert "movements_control_fires.png" not in figures and "movements_funnel_fires.png" in figures
    text = _markdown_outputs(json.loads(executed.read_text(encoding="utf-8")))
    assert "本月无法给出控制图" in text and "不足 5 起" in text
