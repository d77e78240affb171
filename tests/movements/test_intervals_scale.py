"""Rank intervals at scale (issues 9 and 13): the speed work changes no figure.

``rank_intervals_reference.csv`` holds figures computed by qyb before the rank intervals were made
fast (main at a8e7e3b, with ``%.17g``): every case here must give them to the last bit. Threads,
chunks, scoring blocks and the town layout are checked the same way against each other.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from qyb import parallel
from qyb.edition import read_panel
from qyb.engine.aggregate import pairwise_sum, weighted_arithmetic, weighted_arithmetic_of
from qyb.engine.draws import (
    CellInputs,
    RankTally,
    TownLayout,
    draw_blocks,
    score_grouped,
    town_layout,
    unit_groups,
)
from qyb.method import load_method
from qyb.movements.intervals import chunk_size, rank_intervals
from qyb.sample.model import cells_read
from qyb.sample.posterior import fit_posterior, posterior_chunks
from qyb.sample.replicate import replicate

REFERENCE = Path(__file__).with_name("rank_intervals_reference.csv")
COLUMNS = ["unit_id", "rank", "rank_median", "rank_p05", "rank_p95", "p_top3", "p_same_stars", "index",
           "index_p05", "index_p95"]
#: case -> (panel: 1 town or 3 jittered towns, method, model, draws, seed), as recorded
CASES = {
    "v2-posterior-29": ("one", "v2", "posterior", 400, 7),
    "v2-bootstrap-29": ("one", "v2", "bootstrap", 400, 7),
    "v3-posterior-29": ("one", "v3", "posterior", 300, 5),
    "v1-bootstrap-29": ("one", "v1", "bootstrap", 300, 5),
    "v2-posterior-3towns": ("three", "v2", "posterior", 200, 3),
    "v2-bootstrap-3towns": ("three", "v2", "bootstrap", 200, 3),
}


@pytest.fixture(scope="module")
def panels():
    one = read_panel("2023-03", store=False)
    return {"one": one, "three": replicate(one, 3, jitter=0.3, seed=1)}


def figures(panel, method: str, model: str, draws: int, seed: int, **kwargs) -> pd.DataFrame:
    ri = rank_intervals(panel, "2023-03", load_method(method), n_draws=draws, seed=seed, model=model, **kwargs)
    return ri[COLUMNS].reset_index(drop=True)


@pytest.mark.parametrize("case", list(CASES))
def test_figures_equal_those_before_the_speed_work(case, panels):
    where, method, model, draws, seed = CASES[case]
    ref = pd.read_csv(REFERENCE, dtype={"unit_id": str})
    ref = ref[ref["case"] == case].drop(columns="case").reset_index(drop=True)
    got = figures(panels[where], method, model, draws, seed)
    assert len(ref) == len(got) > 0
    pd.testing.assert_frame_equal(got, ref, check_exact=True, check_dtype=False)


@pytest.mark.parametrize("model", ["posterior", "bootstrap"])
def test_threads_chunks_and_blocks_change_no_figure(model, panels, monkeypatch):
    panel = panels["three"]
    monkeypatch.setenv("QYB_THREADS", "1")
    alone = figures(panel, "v2", model, 150, 9)
    monkeypatch.setenv("QYB_THREADS", "3")
    assert parallel.threads() == 3
    pd.testing.assert_frame_equal(figures(panel, "v2", model, 150, 9), alone, check_exact=True)
    pd.testing.assert_frame_equal(figures(panel, "v2", model, 150, 9, chunk=37), alone, check_exact=True)


def test_posterior_blocks_of_any_size_give_the_same_draws(panels):
    panel, method = panels["three"], load_method("v2")
    post = fit_posterior(panel, "2023-03", method)
    one = list(posterior_chunks(post, method, "2023-03", 60, seed=2, chunk=60, block=60))
    many = list(posterior_chunks(post, method, "2023-03", 60, seed=2, chunk=25, block=7))
    for name in ("true_index", "true_rank", "true_stars", "fresh_stars"):
        whole = getattr(one[0], name)
        parts = np.concatenate([getattr(c, name) for c in many])
        assert whole.tobytes() == parts.tobytes(), name


def test_town_layout_reshape_and_gather_give_the_same_scores(panels):
    """Units listed town by town in equal towns are blocked by a reshape; any other register by a gather
    with padding: the same scores, unit by unit."""
    panel, method = panels["three"], load_method("v2")
    groups = unit_groups(panel.units)
    assert TownLayout(groups).reshape and not TownLayout(groups[:-1]).reshape
    rng = np.random.default_rng(4)
    values = rng.gamma(2.0, 10.0, (5, len(groups), len(method.indicators)))
    ded = {d["measure"]: rng.poisson(0.2, (5, len(groups))) for d in method.deductions}
    plain = score_grouped(method, values, ded, town_layout(groups))
    order = rng.permutation(len(groups))
    shuffled_layout = TownLayout(groups[order])
    assert not shuffled_layout.reshape and not shuffled_layout.single and shuffled_layout.town_size == 29
    shuffled = score_grouped(method, values[:, order], {k: v[:, order] for k, v in ded.items()}, shuffled_layout)
    for name in ("index", "rank", "stars"):
        assert getattr(plain, name)[:, order].tobytes() == getattr(shuffled, name).tobytes(), name
    # a layout passed in equals labels passed in
    assert score_grouped(method, values, ded, groups).index.tobytes() == plain.index.tobytes()


@pytest.mark.parametrize("n", [1, 2, 3, 7, 8, 9, 15, 16, 17, 40, 129, 300])
def test_pairwise_sum_is_numpy_sum_to_the_bit(n):
    rng = np.random.default_rng(n)
    x = rng.random((500, n)) * rng.choice([1e-9, 1.0, 1e9], size=(500, n))
    assert pairwise_sum([x[:, i] for i in range(n)]).tobytes() == np.sum(x, axis=-1).tobytes()
    zeros = np.full((2, n), -0.0)
    assert pairwise_sum([zeros[:, i] for i in range(n)]).tobytes() == np.sum(zeros, axis=-1).tobytes()


def test_weighted_mean_of_children_apart_equals_stacked_with_gaps():
    rng = np.random.default_rng(0)
    x = rng.random((300, 29, 9)) * 100
    x[rng.random(x.shape) < 0.2] = np.nan
    x[0, 0] = np.nan  # a parent with no child present is NaN
    w = np.array([22, 18, 10, 10, 10, 10, 10, 6, 4.0])
    stacked = weighted_arithmetic(x, w)
    assert np.isnan(stacked[0, 0])
    present = ~np.isnan(x)
    with np.errstate(invalid="ignore"):
        expect = np.nansum(x * w, axis=-1) / np.sum(np.where(present, w, 0), axis=-1)
    np.testing.assert_allclose(stacked[1:], expect[1:], rtol=1e-13)
    assert weighted_arithmetic_of([x[..., i] for i in range(9)], w).tobytes() == stacked.tobytes()


def test_run_tasks_keeps_order_raises_and_does_not_nest(monkeypatch):
    monkeypatch.setenv("QYB_THREADS", "2")
    seen = []

    def inner(i):
        return parallel.run_tasks([lambda k=k: (i, k) for k in range(3)])  # from a task: run in place

    assert parallel.run_tasks([lambda i=i: inner(i) for i in range(5)]) == [[(i, k) for k in range(3)]
                                                                           for i in range(5)]

    def boom():
        seen.append(1)
        raise RuntimeError("task failed")

    with pytest.raises(RuntimeError, match="task failed"):
        parallel.run_tasks([lambda: 1, boom])
    monkeypatch.setenv("QYB_THREADS", "two")
    with pytest.raises(ValueError, match="QYB_THREADS"):
        parallel.threads()
    monkeypatch.setenv("QYB_THREADS", "0")
    assert parallel.threads() == 1


def test_cell_inputs_read_only_the_cells_drawn():
    units = pd.DataFrame({"population": [100.0, 200.0]}, index=["a", "b"])
    cells = {"fires": np.arange(12.0).reshape(3, 2, 2)}  # (draws, months, units)
    inputs = CellInputs(cells, {"fires": ["2022-03", "2023-03"]}, units, "2023-03")
    np.testing.assert_array_equal(inputs.measure("fires"), [[2, 3], [6, 7], [10, 11]])
    np.testing.assert_array_equal(inputs.measure("fires", 12), [[0, 1], [4, 5], [8, 9]])
    with pytest.raises(KeyError, match="2023-02"):
        inputs.measure("fires", 1)
    np.testing.assert_array_equal(inputs.take_draws(slice(1, 2)).measure("fires"), [[6, 7]])
    np.testing.assert_array_equal(inputs.attribute("population"), [100, 200])


def test_rank_tally_allocated_once_and_quantiles_by_blocks(monkeypatch):
    from qyb.engine import draws

    rng = np.random.default_rng(5)
    index = rng.random((230, 40)).astype(np.float32) * 100
    rank = np.argsort(np.argsort(-index, axis=1), axis=1) + 1.0
    listed, allocated = RankTally(40, 40, np.ones(40)), RankTally(40, 40, np.ones(40), n_draws=230)
    for part in (slice(0, 100), slice(100, 230)):
        listed.add(rank[part], index[part], np.ones((part.stop - part.start, 40)))
        allocated.add(rank[part], index[part], np.ones((part.stop - part.start, 40)))
    levels = [0.05, 0.5, 0.95]
    expect = np.quantile(index.astype(float), levels, axis=0)
    assert listed.index_quantiles(levels).tobytes() == expect.tobytes()
    monkeypatch.setattr(draws, "QUANTILE_CELLS", 700)  # 3 units a block
    assert allocated.index_quantiles(levels).tobytes() == expect.tobytes()
    assert allocated.stored.nbytes == 230 * 40 * 4 and not allocated.index


def test_chunks_and_blocks_follow_memory_and_cache():
    method = load_method("v2")
    cells = sum(len(m) for m in cells_read(method, "2023-03").values())
    assert chunk_size(29, cells) > 10_000  # the town's 10,000 draws: one chunk
    assert 2 <= chunk_size(29_000, cells) <= 20  # 29,000 units: chunks of a few draws (about 200 MB)
    assert chunk_size(29_000, cells, requested=64) == 64
    assert [b.stop - b.start for b in draw_blocks(2500, 29)] == [1129, 1129, 242]
    assert all(b.stop - b.start == 1 for b in draw_blocks(3, 100_000))
