"""qyb.report.prepare: what the run starts ahead is exactly what the notebooks will ask for, and work spread
over forked processes gives the same results as work done in one."""
from __future__ import annotations

import io
import os

import pandas as pd
import pytest

import qyb
from qyb.data.store import ProcessedStore
from qyb.report import prepare
from qyb.report.run import REGISTRY, NotebookSpec
from qyb.review.fairness import Settings, fairness_review
from qyb.sample.truth import truth_for
from qyb.vocab import RANK_INTERVAL_SEED
from tests.report.test_run import make_small_data

MONTH = "2023-03"
TINY = Settings(n_draws=40, n_truths=4, truth_draws=10, coverage_panels=4, coverage_draws=30, response_draws=6,
                horizon=3)

needs_fork = pytest.mark.skipif("fork" not in __import__("multiprocessing").get_all_start_methods(),
                                reason="no fork on this platform: nothing is prepared ahead")


def test_notebook_parameters_are_the_parameters_cell_defaults():
    spec = next(s for s in REGISTRY if s.name == "03_method_review")
    params = prepare.notebook_parameters(spec.source())
    assert params["fairness"] == "v1,v2,v3" and params["fairness_size"] == "standard" and params["seed"] == 0
    assert params["focus_unit"] == "" and params["n_draws"] == 10000


def test_the_tasks_are_those_the_notebooks_will_ask_for(march):
    parameters = {"month": MONTH, "method": march.method.name, "data_dir": "", "output_dir": "/tmp/x", "unit": ""}
    tasks = prepare.planned(REGISTRY, parameters, march)
    # 01 and 04 read the default intervals (Page.report), 02 its n_draws/seed: the same table, planned once
    assert tasks == [("rank_intervals", 2000, RANK_INTERVAL_SEED),
                     ("fairness", "v1,v2,v3", "standard", 0, march.focus_unit())]
    assert march.focus_unit() == "XL01"  # 永宁社区, 27th -> 2nd: the story notebook 03 tells
    # a notebook's parameters as the run injects them win over its defaults
    named = NotebookSpec("03_method_review", "x", params=("month", "focus_unit"), ahead=("fairness",))
    assert prepare.planned([named], {"month": MONTH, "focus_unit": "永宁"}, march)[0][-1] == "XL01"


def _digest(review) -> str:
    out = io.StringIO()
    for part, frame in review.to_frames().items():
        out.write(part + frame.to_csv(float_format="%.17g") + repr(frame.dtypes))
    return out.getvalue()


@needs_fork
def test_fairness_pieces_run_in_forked_processes_give_the_same_review(march):
    truth = truth_for(march.panel)
    alone = fairness_review(march.panel, MONTH, "v2,v3", truth, TINY, "XL01")
    spread = fairness_review(march.panel, MONTH, "v2,v3", truth, TINY, "XL01",
                             run=lambda tasks: prepare.run_forked(tasks, workers=2))
    assert _digest(spread) == _digest(alone)
    pd.testing.assert_frame_equal(spread.table, alone.table, check_exact=True)


@needs_fork
def test_a_failing_piece_fails_the_forked_run():
    def broken():
        raise ValueError("no such figure")

    assert prepare.run_forked({"a": lambda: os.getpid(), "b": lambda: 2}, workers=2)["b"] == 2
    with pytest.raises(RuntimeError, match="no such figure"):
        prepare.run_forked({"a": lambda: 1, "b": broken})


@needs_fork
def test_a_helper_builds_into_the_store_and_the_notebook_reads_it(tmp_path):
    raw = make_small_data(tmp_path / "raw")  # 6 units: quick
    store = ProcessedStore(tmp_path / "store")
    ed = qyb.load(MONTH, data=raw, store=store)
    spec = NotebookSpec("03_method_review", "x", params=("month", "fairness_size"), ahead=("fairness",))
    task = prepare.planned([spec], {"month": MONTH, "fairness_size": "quick"}, ed)[0]
    assert task == ("fairness", "v1,v2,v3", "quick", 0, "XL01")
    helpers = prepare.start([spec], {"month": MONTH, "fairness_size": "quick"}, ed)
    steps = {}
    prepare.finish(helpers, type("P", (), {"done": lambda self, step, s, detail="": steps.update({step: s})})(), wait=True)
    assert list(steps) == ["ahead: fairness"] and helpers == []
    assert prepare.built_before(ed, task) and prepare.start([spec], {"month": MONTH, "fairness_size": "quick"}, ed) == []
    log = store.log()
    assert [e["name"] for e in log if e["event"] == "write" and e["pid"] != os.getpid()][-2:] == ["fairness", "ahead"]
    reader = ProcessedStore(store.root)
    review = qyb.load(MONTH, data=raw, store=reader).review("v1,v2", draws=64, fairness_size="quick", unit="XL01")
    assert "fairness" in reader.hits and "fairness" not in reader.writes  # read, not drawn again
    assert set(review.fairness.table["method"]) == {"v1", "v2", "v3"}


@needs_fork
def test_stopping_the_helper_ends_every_process_it_forked(tmp_path):
    """A run that fails (or ends) while the helper still works stops the helper's whole process group."""
    import time

    raw = make_small_data(tmp_path / "raw")
    ed = qyb.load(MONTH, data=raw, store=ProcessedStore(tmp_path / "store"))
    spec = NotebookSpec("03_method_review", "x", params=("month",), ahead=("fairness", "rank_intervals"))
    helpers = prepare.start([spec], {"month": MONTH}, ed)  # standard size: seconds of work
    group = helpers[0].process.pid
    time.sleep(1.5)  # the tasks and the fairness pieces have forked
    steps = {}
    prepare.finish(helpers, type("P", (), {"done": lambda self, step, s, detail="": steps.update({step: detail})})())
    assert "ahead: fairness (stopped)" in steps  # seconds of work left
    assert {"ahead: rank_intervals", "ahead: rank_intervals (stopped)"} & set(steps)  # 6 units: may be done
    with pytest.raises(ProcessLookupError):
        os.killpg(group, 0)  # no process of the group is left
