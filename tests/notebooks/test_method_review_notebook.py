"""Smoke run of notebooks/03_method_review.ipynb with papermill on the sample data (small n_draws),
asserting on the CSV tables it writes (issues 5 and 9), on what it shows, and on its committed form."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.helpers import shared_once

from qyb.review import TABLE_COLUMNS

pytestmark = pytest.mark.slow

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "03_method_review.ipynb"


def test_notebook_committed_without_outputs_and_with_parameters():
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)
    params = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1
    src = "".join(params[0]["source"])
    for name in ("month", "methods", "schemes", "n_draws", "seed", "method", "data_dir", "output_dir", "focus_unit",
                 "fairness", "fairness_size"):
        assert f"\n{name} = " in f"\n{src}"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    from qyb.report.run import ensure_kernel, run_papermill

    def build(out: Path) -> dict:
        # no cwd=: papermill would chdir this process; the notebook needs none (absolute output_dir,
        # data_dir empty = the shipped sample)
        run_papermill(NOTEBOOK, out / "03_method_review.ipynb", kernel=ensure_kernel(),
                      parameters={"month": "2023-03", "methods": "v1,v2", "schemes": "equal,entropy,critic,pca",
                                  "n_draws": 300, "seed": 7, "data_dir": "", "output_dir": str(out),
                                  "focus_unit": "永宁",  # a short name, as an analyst types it
                                  "fairness": "v1,v2,v3", "fairness_size": "quick"})
        return {}

    return shared_once(tmp_path_factory, "method-review-notebook", build)[1]


def read(out: Path, name: str) -> pd.DataFrame:
    raw = (out / "tables" / f"{name}.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), f"{name}.csv must be UTF-8 with BOM"
    return pd.read_csv(out / "tables" / f"{name}.csv", encoding="utf-8-sig", dtype={"month_from": str,
                                                                                      "month_to": str})


def test_notebook_writes_the_tables(executed):
    for name, cols in TABLE_COLUMNS.items():
        assert list(read(executed, name).columns) == cols, name

    unc = read(executed, "method_uncertainty")
    assert len(unc) == 29 and unc["unit_id"].is_unique
    np.testing.assert_allclose(unc[[f"p_star_{k}" for k in range(1, 6)]].sum(axis=1), 1.0, atol=1e-5)
    assert unc.loc[unc.unit_id == "XL01", "rank_nominal"].item() == 2
    assert ((unc.rank_p05 <= unc.rank_median) & (unc.rank_median <= unc.rank_p95)).all()

    sens = read(executed, "sensitivity")
    assert sens["factor"].tolist() == ["weights", "normalisation", "aggregation", "star_rule"]
    assert sens["interval_method"].str.contains("percentile bootstrap").all()
    assert unc["interval_method"].str.contains("inverted empirical CDF").all()

    rel = read(executed, "reliability")
    assert set(rel["method"]) == {"v1", "v2", "v3"} and rel["truth"].notna().all()
    idx = rel[rel["figure"] == "index_reliability"].set_index("method")["truth"]
    assert idx["v2"] < 0.3 < idx["v1"] < 0.5 < 0.65 < idx["v3"]
    post = rel[(rel["figure"] == "coverage_extreme") & (rel["detail"] == "posterior")].set_index("method")["truth"]
    boot = rel[(rel["figure"] == "coverage_extreme") & (rel["detail"] == "bootstrap")].set_index("method")["truth"]
    assert (post > boot).all()
    assert sens.set_index("factor").loc["star_rule", "ST"] == 0.0

    dec = read(executed, "method_decomposition")
    assert len(dec) == 29
    assert (dec["method_effect"] + dec["data_effect"] == dec["rank_from"] - dec["rank_to"]).all()
    y = dec.set_index("unit_id").loc["XL01"]
    assert (y.month_from, y.method_from, y.rank_from, y.month_to, y.method_to, y.rank_to) == \
        ("2023-02", "v1", 27, "2023-03", "v2", 2)
    assert (y.method_effect, y.data_effect) == (1, 24)

    w = read(executed, "weights")
    assert set(w["scheme"]) == {"nominal", "effective_r2", "effective_eta2", "equal", "entropy", "critic", "pca"}
    np.testing.assert_allclose(w.groupby("scheme")["weight"].sum(), 1.0, atol=1e-5)
    assert (w.groupby("scheme").size() == 9).all()


def test_notebook_draws_figures_and_readings(executed):
    figures = {p.name for p in (executed / "figures").glob("*.png")}
    assert {"rank_uncertainty.png", "sobol.png", "weights_effective.png", "decomposition.png",
            "interval_coverage.png", "frontier.png"} <= figures
    nb = json.loads((executed / "03_method_review.ipynb").read_text(encoding="utf-8"))
    text = json.dumps(nb, ensure_ascii=False)
    assert "方法效应 +1 名" in text and "数据效应 +24 名" in text
    assert "指数信度" in text and "永宁社区" in text and "术语说明" in text and "Sobol 指数" in text


def test_notebook_tables_are_for_people(executed):
    """Every table the notebook shows has Chinese headers, no row numbers and no internal codes."""
    import re

    nb = json.loads((executed / "03_method_review.ipynb").read_text(encoding="utf-8"))
    tables = [o["data"]["text/html"] for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])
              if "text/html" in o.get("data", {}) and "<table" in "".join(o["data"]["text/html"])
              and "text/markdown" not in o["data"]]  # Page.markdown shows its HTML beside the Markdown
    assert len(tables) >= 15
    for html in ("".join(t) for t in tables):
        headers = re.findall(r"<th[^>]*>(.*?)</th>", html, flags=re.S)
        assert headers and all(re.search(r"[\u4e00-\u9fff]", h) or re.fullmatch(r"v\d|[A-Za-z ]*[τα]|S1|ST|\s*", h)
                               for h in headers), headers
        assert "row_heading" not in html  # no row numbers
        for code in ("unit_id", "rank_nominal", "p_star_1", "category_name", "XL01", "public_order", "crime_rate"):
            assert code not in html, code
