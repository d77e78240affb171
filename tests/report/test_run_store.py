"""The monthly run and the processed store: the notebooks' kernels read what the run validated and drew,
nothing is validated or drawn twice, the report is the same without the store, and a later look at the
month builds nothing."""
from __future__ import annotations

import multiprocessing
import os
from collections import Counter
from types import SimpleNamespace

import pytest

import qyb
from qyb.data.store import STORE_ENV, ProcessedStore
from qyb.report.run import REGISTRY, run_month
from tests.report.test_run import MONTH, make_small_data

pytestmark = pytest.mark.slow


def test_the_notebooks_of_a_run_share_one_validation_and_one_draw(tmp_path, monkeypatch):
    data = make_small_data(tmp_path / "raw")
    store = ProcessedStore(tmp_path / "store")
    monkeypatch.setenv(STORE_ENV, str(store.root))  # the run's kernels inherit it
    args = SimpleNamespace(month=MONTH, latest=False, method=None, data=str(data), reports=str(tmp_path / "reports"),
                           quiet=True)
    assert run_month(args) == 0
    events = store.log()
    me = os.getpid()
    writes = [e for e in events if e["event"] == "write"]
    # the run validated and scored the month, and drew the intervals of the month and the month before
    assert {(e["pid"], e["name"]) for e in writes if e["name"] == "panel"} == {(me, "panel")}
    assert Counter((e["name"], e["key"]) for e in writes).most_common(1)[0][1] == 1  # nothing built twice
    assert Counter(e["name"] for e in writes)["rank_intervals"] == 2
    # every notebook's kernel read the validated panel instead of validating the raw files again
    kernels = {e["pid"] for e in events if e["event"] == "hit" and e["name"] == "panel"} - {me}
    assert len(kernels) == len(REGISTRY)
    assert not [e for e in writes if e["pid"] in kernels and e["name"] in ("panel", "scorecard", "rank_intervals")
                and e["key"] in {w["key"] for w in writes if w["pid"] == me}]
    assert (tmp_path / "reports" / MONTH / "tables" / "rank_intervals.csv").is_file()
    if "fork" in multiprocessing.get_all_start_methods():  # started ahead (qyb.report.prepare): built by helpers
        for name in ("fairness", "rank_intervals"):
            assert {e["pid"] for e in writes if e["name"] == name}.isdisjoint(kernels | {me}), name
        assert any(e["event"] == "hit" and e["name"] == "fairness" and e["pid"] in kernels for e in events)

    # the same report without the store: every table, figure and 榜单 file the same bytes
    monkeypatch.setenv(STORE_ENV, "off")
    plain = SimpleNamespace(**{**vars(args), "reports": str(tmp_path / "plain")})
    assert run_month(plain) == 0
    published = [tmp_path / "reports" / MONTH, tmp_path / "plain" / MONTH]
    outputs = [sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                      if p.suffix in (".csv", ".xlsx", ".png")) for root in published]
    assert outputs[0] == outputs[1] and "ranking.xlsx" in outputs[0] and "tables/rank_intervals.csv" in outputs[0]
    for name in outputs[0]:
        assert (published[0] / name).read_bytes() == (published[1] / name).read_bytes(), name
    monkeypatch.setenv(STORE_ENV, str(store.root))

    # a later look at the month (an analyst, the next run) finds everything: nothing is built again
    later = ProcessedStore(store.root)
    ed = qyb.load(MONTH, data=data, store=later)
    ed.rank_intervals()
    assert later.writes == [] and later.hits == ["panel", "scorecard", "rank_intervals"]
