"""qyb.data.store: the processed store gives the same results as the raw files, is keyed by every input,
and never trusts a damaged file."""
from __future__ import annotations

import json
import os
import shutil
import time

import numpy as np
import pandas as pd
import pytest

import qyb
from qyb.data.store import (
    MANIFEST,
    STORE_ENV,
    ProcessedStore,
    _fingerprint,
    _ordered,
    code_fingerprint,
    default_store,
    key_files,
    panel_key,
    register_runs,
    resolve_store,
)
from qyb.edition import read_panel, scorecard_blocks
from qyb.errors import InputError
from qyb.method import load_method
from qyb.sample.replicate import replicate, write_raw
from tests.helpers import copy_sample, run_cli

MONTH = "2023-03"


def exact_csv(frame: pd.DataFrame) -> bytes:
    """Every digit of every float (the report's CSV rounds to 10 significant digits)."""
    return frame.to_csv(index=False, float_format="%.17g").encode()


def assert_same_edition(a, b) -> None:
    pd.testing.assert_frame_equal(a.scorecard, b.scorecard, check_exact=True)
    assert exact_csv(a.scorecard) == exact_csv(b.scorecard)
    pd.testing.assert_frame_equal(a.panel.units, b.panel.units, check_exact=True)
    assert a.panel.months == b.panel.months and a.panel.measures == b.panel.measures
    np.testing.assert_array_equal(a.panel.array, b.panel.array)
    assert a.panel.files == b.panel.files
    assert a.panel.catalogue == b.panel.catalogue  # what the files were read under
    assert _ordered(a.panel.intake) == _ordered(b.panel.intake)  # what was noticed, in order
    if a.panel.renames is None:
        assert b.panel.renames is None
    else:
        pd.testing.assert_frame_equal(a.panel.renames, b.panel.renames, check_exact=True)


def tables(store: ProcessedStore) -> list[str]:
    """The tables stored beside the panels (scorecards, rank intervals): not the panels' own files."""
    return sorted(p.name for p in store.root.glob("*/*.parquet")
                  if p.name not in ("panel.parquet", "units.parquet", "renames.parquet"))


@pytest.fixture
def raw(tmp_path):
    return copy_sample(tmp_path)


@pytest.fixture(scope="module")
def towns(tmp_path_factory):
    """The sample replicated into 5 towns of 29 units whose figures differ (raw files)."""
    folder = tmp_path_factory.mktemp("towns") / "raw"
    write_raw(replicate(read_panel(MONTH), 5, jitter=0.4, seed=7), folder)
    return folder


# ---------------------------------------------------------------- same results
def test_store_gives_byte_identical_scorecards_for_the_town(raw, tmp_path):
    plain = qyb.load(MONTH, data=raw, store=False)
    store = ProcessedStore(tmp_path / "store")
    cold = qyb.load(MONTH, data=raw, store=store)
    assert store.writes == ["panel", "scorecard"] and store.hits == []
    warm_store = ProcessedStore(tmp_path / "store")
    warm = qyb.load(MONTH, data=raw, store=warm_store)
    assert warm_store.hits == ["panel", "scorecard"] and warm_store.writes == []
    assert warm._table is None  # the scorecard came from the store: nothing was scored
    for ed in (cold, warm):
        assert_same_edition(plain, ed)
    # what needs more than the scorecard is computed from the stored panel, and agrees
    assert exact_csv(warm.history) == exact_csv(plain.history)
    assert exact_csv(warm.indicators) == exact_csv(plain.indicators)
    assert warm.scorecard.set_index("unit_id").loc["XL01", "rank"] == 2  # the article's 永宁社区, 2nd in March


def test_store_gives_byte_identical_scorecards_for_many_towns(towns, tmp_path):
    plain = qyb.load(MONTH, data=towns, store=False)
    assert plain.scorecard["group"].nunique() == 5 and len(plain.scorecard) == 145
    assert plain.scorecard.groupby("group")["rank"].min().eq(1).all()  # ranked within each town
    store = ProcessedStore(tmp_path / "store")
    qyb.load(MONTH, data=towns, store=store)
    assert_same_edition(plain, qyb.load(MONTH, data=towns, store=store))
    for method in ("v1", "v2"):  # and any method scored from the stored panel
        assert exact_csv(qyb.load(MONTH, method, towns, store=store).scorecard) == \
            exact_csv(qyb.load(MONTH, method, towns, store=False).scorecard)


def test_a_process_in_another_folder_reads_what_it_would_have_read_itself(raw, tmp_path, monkeypatch):
    """The kernels of a run work in the build folder: the intake report names files as they would."""
    store = ProcessedStore(tmp_path / "store")
    qyb.load(MONTH, data=raw, store=store)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    fresh = qyb.load(MONTH, data=raw, store=False)
    again = ProcessedStore(store.root)
    assert_same_edition(fresh, qyb.load(MONTH, data=raw, store=again))
    assert again.hits == ["panel", "scorecard"]


def test_rank_intervals_are_stored_and_read_back_identical(raw, tmp_path):
    store = ProcessedStore(tmp_path / "store")
    first = qyb.load(MONTH, data=raw, store=store).rank_intervals(draws=100, seed=3)
    again_store = ProcessedStore(tmp_path / "store")
    again = qyb.load(MONTH, data=raw, store=again_store).rank_intervals(draws=100, seed=3)
    assert "rank_intervals" in again_store.hits
    pd.testing.assert_frame_equal(first, again, check_exact=True)
    pd.testing.assert_frame_equal(first, qyb.load(MONTH, data=raw, store=False).rank_intervals(100, 3),
                                  check_exact=True)
    other = qyb.load(MONTH, data=raw, store=again_store).rank_intervals(draws=100, seed=4)  # another seed: drawn
    assert not other.equals(first)


def test_the_month_movements_are_computed_once_and_read_back_identical(raw, tmp_path):
    from qyb.movements.tables import movements_all, movements_table

    plain = qyb.load(MONTH, data=raw, store=False)
    expected = {"all": movements_all(plain.panel, MONTH), "mom": movements_all(plain.panel, MONTH, None, ["mom"]),
                "one": movements_table(plain.panel, MONTH, "fraud_alerts", "yoy")}
    for store in (ProcessedStore(tmp_path / "store"), ProcessedStore(tmp_path / "store")):
        ed = qyb.load(MONTH, data=raw, store=store)
        got = {"all": ed.movements(), "mom": ed.movements("all", "mom"), "one": ed.movements_table("fraud_alerts", "yoy")}
        for name, frame in expected.items():
            pd.testing.assert_frame_equal(got[name], frame, check_exact=True)
            assert exact_csv(got[name]) == exact_csv(frame), name
    assert store.hits.count("movements") == 1 and "movements" not in store.writes  # the second look: read



def test_a_movement_baseline_without_data_is_still_refused(tmp_path):
    short = copy_sample(tmp_path, months=["2023-02", "2023-03"])  # no 2022-03: no year-on-year baseline
    ed = qyb.load(MONTH, "v1", data=short, store=ProcessedStore(tmp_path / "store"))
    with pytest.raises(InputError, match="2022-03"):
        ed.movements_table("fraud_alerts", "yoy")
    assert len(ed.movements_table("fraud_alerts", "mom")) == len(ed.units)


def test_deleting_the_store_changes_no_result(raw, tmp_path):
    store = ProcessedStore(tmp_path / "store")
    before = qyb.load(MONTH, data=raw, store=store)
    shutil.rmtree(store.root)
    fresh = ProcessedStore(store.root)
    after = qyb.load(MONTH, data=raw, store=fresh)
    assert fresh.writes == ["panel", "scorecard"]
    assert_same_edition(before, after)


def test_streamed_town_blocks_give_the_whole_scorecard(towns, tmp_path):
    whole = qyb.load(MONTH, data=towns, store=False).scorecard
    store = ProcessedStore(tmp_path / "store")
    qyb.load(MONTH, data=towns, store=store)
    stored = list(scorecard_blocks(MONTH, data=towns, store=store, block_units=60))
    assert len(stored) == 1  # the stored scorecard, read whole
    for sidecar in store.root.glob("*/*.json"):  # the panel alone: scored block by block
        if sidecar.name != MANIFEST:
            sidecar.unlink()
    pieces = list(scorecard_blocks(MONTH, data=towns, store=store, block_units=60))
    assert [len(p) for p in pieces] == [58, 58, 29]  # two towns of 29 per block, whole towns only
    assert exact_csv(pd.concat(pieces, ignore_index=True)) == exact_csv(whole)
    pd.testing.assert_frame_equal(pd.concat(pieces, ignore_index=True), whole, check_exact=True)


def test_register_runs_are_whole_towns_in_register_order():
    towns = pd.Series(list("aaabbbbcdd"))
    assert register_runs(towns, 4) == [slice(0, 3), slice(3, 7), slice(7, 10)]
    assert register_runs(towns, 100) == [slice(0, 10)]
    assert register_runs(towns, 1) == [slice(0, 3), slice(3, 7), slice(7, 8), slice(8, 10)]  # a town is never cut
    assert register_runs(pd.Series(list("aabba")), 2) is None  # town a listed twice: no streaming


def test_qyb_score_streams_and_writes_what_it_wrote_before(towns, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(STORE_ENV, str(tmp_path / "store"))
    whole = qyb.load(MONTH, data=towns, store=False)
    out = tmp_path / "card.csv"
    from qyb.data.files import csv_bytes
    code, printed, _ = run_cli(capsys, "score", "--month", MONTH, "--data", towns, "--out", out)
    assert code == 0 and "145 units" in printed
    assert out.read_bytes() == csv_bytes(whole.scorecard)
    for sidecar in (tmp_path / "store").glob("*/*.json"):
        if sidecar.name != MANIFEST:
            sidecar.unlink()
    import qyb.edition as edition
    monkeypatch.setattr(edition, "BLOCK_UNITS", 30)  # one town per block
    pieces = []
    real = edition.Edition
    monkeypatch.setattr(edition, "Edition", lambda panel, *a, **k: pieces.append(len(panel.units)) or real(panel, *a, **k))
    code, _, _ = run_cli(capsys, "score", "--month", MONTH, "--data", towns, "--out", out)
    assert code == 0 and pieces == [29] * 5 and out.read_bytes() == csv_bytes(whole.scorecard)


# ---------------------------------------------------------------- keys: a changed input is a new entry
def _change_a_byte(path):
    """One digit of the last unit's 刑事治安警情 (the 4th column of the last row), as a clerk's typo."""
    data = bytearray(path.read_bytes())
    row = data.rstrip(b"\n").rindex(b"\n") + 1
    cell = row + [i for i, b in enumerate(data[row:]) if b == ord(",")][2] + 1  # after the 3rd comma
    data[cell] = ord("1") if data[cell] != ord("1") else ord("2")
    path.write_bytes(bytes(data))


def test_a_changed_input_file_rebuilds_the_panel(raw, tmp_path):
    store = ProcessedStore(tmp_path / "store")
    before = qyb.load(MONTH, data=raw, store=store)
    _change_a_byte(raw / "2023-02.csv")  # inside the panel's window
    rebuilt_store = ProcessedStore(store.root)
    after = qyb.load(MONTH, data=raw, store=rebuilt_store)
    assert rebuilt_store.hits == [] and rebuilt_store.writes == ["panel", "scorecard"]
    assert after.panel.store_key != before.panel.store_key
    assert not np.array_equal(after.panel.array, before.panel.array, equal_nan=True)
    assert_same_edition(qyb.load(MONTH, data=raw, store=False), after)  # the new file's figures, not the old
    assert len(list(store.root.glob(f"*/{MANIFEST}"))) == 2


def test_the_register_and_the_markers_are_inputs_but_later_months_are_not(raw, tmp_path):
    months = [m.stem for m in sorted(raw.glob("20*.csv")) if m.stem <= MONTH]
    key, inputs = panel_key(raw, MONTH, months, False)
    assert "units.csv" in inputs and f"{MONTH}.csv" in inputs and "2023-04.csv" not in inputs
    (raw / "2023-12.csv").write_bytes(b"changed later")  # a month after the panel: same key
    assert panel_key(raw, MONTH, months, False)[0] == key
    units = raw / "units.csv"
    units.write_bytes(units.read_bytes().replace(b"29000", b"29001", 1))
    changed = panel_key(raw, MONTH, months, False)[0]
    assert changed != key
    assert panel_key(raw, MONTH, months, True)[0] != changed  # reading options count
    assert panel_key(raw, MONTH, months, False, [{"code": "x", "kind": "count"}])[0] != changed  # a method's measures
    (raw / "catalogue.yaml").write_text("a file the readers may use\n", encoding="utf-8")
    assert raw / "catalogue.yaml" in key_files(raw, months)
    (raw / ".DS_Store").write_bytes(b"noise")
    assert raw / ".DS_Store" not in key_files(raw, months)
    folder = raw / "2024-01"  # another month's department folder is not an input of this panel
    folder.mkdir()
    (folder / "公安.csv").write_text("x\n", encoding="utf-8")
    assert not [p for p in key_files(raw, months) if "2024-01" in p.as_posix()]


def test_a_changed_method_rescores_from_the_stored_panel(raw, tmp_path):
    store = ProcessedStore(tmp_path / "store")
    v2 = load_method("v2")
    qyb.load(MONTH, v2, raw, store=store)
    heavier = v2.with_weights({"fraud": 40})
    again = ProcessedStore(store.root)
    ed = qyb.load(MONTH, heavier, raw, store=again)
    assert again.hits == ["panel"] and again.writes == ["scorecard"]  # same data, new method: rescored
    assert exact_csv(ed.scorecard) == exact_csv(qyb.load(MONTH, heavier, raw, store=False).scorecard)
    assert len(tables(store)) == 2  # one scorecard per method


def test_the_code_fingerprint_covers_methods_and_catalogue_files(tmp_path):
    package = tmp_path / "qyb"
    (package / "methods").mkdir(parents=True)
    (package / "data").mkdir()
    (package / "methods" / "v2.yaml").write_text("name: v2\n", encoding="utf-8")
    (package / "data" / "catalogue.yaml").write_text("measures: []\n", encoding="utf-8")
    parts = ("data", "methods")
    first = _fingerprint(parts, package)
    (package / "methods" / "v2.yaml").write_text("name: v2 \n", encoding="utf-8")
    second = _fingerprint.__wrapped__(parts, package)
    (package / "data" / "catalogue.yaml").write_text("measures: [x]\n", encoding="utf-8")
    third = _fingerprint.__wrapped__(parts, package)
    assert len({first, second, third}) == 3
    assert code_fingerprint() == code_fingerprint() and len(code_fingerprint()) == 64


# ---------------------------------------------------------------- damaged entries are rebuilt, never trusted
@pytest.mark.parametrize("damage", ["flip", "truncate", "delete", "record"])
@pytest.mark.parametrize("target", ["panel.parquet", "units.parquet", "scorecard"])
def test_a_corrupt_or_partial_file_is_rebuilt(raw, tmp_path, damage, target):
    store = ProcessedStore(tmp_path / "store")
    good = qyb.load(MONTH, data=raw, store=store)
    entry = store.entry(good.panel.store_key)
    if target == "scorecard":
        path = entry / tables(store)[0]
        sidecar = path.with_suffix(".json")
    else:
        path, sidecar = entry / target, entry / MANIFEST
    data = path.read_bytes()
    if damage == "flip":
        middle = len(data) // 2
        path.write_bytes(data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1:])
    elif damage == "truncate":  # a write that stopped half-way
        path.write_bytes(data[: len(data) // 2])
    elif damage == "delete":
        path.unlink()
    else:  # the record of the file (manifest or sidecar) is unreadable
        sidecar.write_text("{not json", encoding="utf-8")
    again = ProcessedStore(store.root)
    ed = qyb.load(MONTH, data=raw, store=again)
    rebuilt = "scorecard" if target == "scorecard" else "panel"
    assert rebuilt in again.writes
    assert_same_edition(good, ed)
    healed = ProcessedStore(store.root)  # and the next reader finds a sound entry again
    assert_same_edition(ed, qyb.load(MONTH, data=raw, store=healed))
    assert healed.writes == [] and healed.hits == ["panel", "scorecard"]


def test_a_stored_file_with_another_files_record_is_not_trusted(raw, tmp_path):
    store = ProcessedStore(tmp_path / "store")
    ed = qyb.load(MONTH, data=raw, store=store)
    entry = store.entry(ed.panel.store_key)
    manifest = json.loads((entry / MANIFEST).read_text(encoding="utf-8"))
    manifest["files"]["panel.parquet"]["sha256"] = "0" * 64
    (entry / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    again = ProcessedStore(store.root)
    qyb.load(MONTH, data=raw, store=again)
    assert "panel" in again.writes


# ---------------------------------------------------------------- where the store is, and when it is not
def test_bad_input_writes_nothing_to_the_store(raw, tmp_path):
    store = ProcessedStore(tmp_path / "store")
    path = raw / "2023-03.csv"
    path.write_text(path.read_text(encoding="utf-8-sig").replace(",18,", ",-5,", 1), encoding="utf-8")
    with pytest.raises(InputError):
        qyb.load(MONTH, data=raw, store=store)
    assert not store.root.exists() or not any(store.root.iterdir())


def test_the_default_store_follows_the_environment(monkeypatch, tmp_path):
    from qyb.paths import DATA_PROCESSED

    monkeypatch.delenv(STORE_ENV, raising=False)
    assert default_store().root == DATA_PROCESSED / "store"
    monkeypatch.setenv(STORE_ENV, str(tmp_path / "elsewhere"))
    assert default_store().root == tmp_path / "elsewhere"
    assert resolve_store(None).root == tmp_path / "elsewhere"
    for off in ("off", "0", "none", ""):
        monkeypatch.setenv(STORE_ENV, off)
        assert default_store() is None and resolve_store(None) is None
    assert resolve_store(False) is None and resolve_store(tmp_path).root == tmp_path


def test_an_unwritable_store_is_skipped_with_a_warning(raw, tmp_path):
    if os.geteuid() == 0:
        blocker = tmp_path / "store"
        blocker.write_text("a file where the store folder should be", encoding="utf-8")
    else:
        blocker = tmp_path / "ro"
        blocker.mkdir(mode=0o500)
    store = ProcessedStore(blocker / "store" if os.geteuid() != 0 else blocker)
    with pytest.warns(RuntimeWarning, match="not written"):
        ed = qyb.load(MONTH, data=raw, store=store)
    assert_same_edition(qyb.load(MONTH, data=raw, store=False), ed)


def test_qyb_store_lists_and_clears(raw, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(STORE_ENV, str(tmp_path / "store"))
    qyb.load(MONTH, data=raw)
    code, out, _ = run_cli(capsys, "store")
    assert code == 0 and "1 entries" in out and "29 units x 15 months (2022-01..2023-03)" in out
    entry = next(p for p in (tmp_path / "store").iterdir() if p.is_dir())
    os.utime(entry / ".used", (time.time() - 10 * 86400,) * 2)  # last read ten days ago
    assert "0 entries not read for 30 days deleted" in run_cli(capsys, "store", "--prune", "30")[1]
    assert "1 entries" in run_cli(capsys, "store")[1]
    qyb.load(MONTH, data=raw)  # read again: used today
    assert "0 entries not read for 5 days deleted" in run_cli(capsys, "store", "--prune", "5")[1]
    os.utime(entry / ".used", (time.time() - 10 * 86400,) * 2)
    assert "1 entries not read for 5 days deleted" in run_cli(capsys, "store", "--prune", "5")[1]
    qyb.load(MONTH, data=raw)
    code, out, _ = run_cli(capsys, "store", "--clear")
    assert code == 0 and "1 entries deleted" in out
    assert run_cli(capsys, "store")[1].count("0 entries") == 1
    monkeypatch.setenv(STORE_ENV, "off")
    assert "off" in run_cli(capsys, "store")[1]


# ---------------------------------------------------------------- tables made together
def test_a_bundle_of_tables_is_read_whole_or_rebuilt_whole(raw, tmp_path):
    store = ProcessedStore(tmp_path / "store")
    key = qyb.load(MONTH, data=raw, store=store).panel.store_key
    built = []

    def build() -> dict:
        built.append(1)
        return {"a": pd.DataFrame({"x": [1.5, np.nan], "name": ["甲", "乙"]}), "b": pd.DataFrame({"n": [3]})}

    first = store.frames(key, "pair", {"seed": 1}, build)
    again = ProcessedStore(store.root)
    second = again.frames(key, "pair", {"seed": 1}, build)
    assert len(built) == 1 and sorted(again.hits) == ["pair", "pair.a", "pair.b"]
    for part in ("a", "b"):
        pd.testing.assert_frame_equal(first[part], second[part], check_exact=True)
    store.frames(key, "pair", {"seed": 2}, build)  # other parameters: another entry
    assert len(built) == 2
    part_b = [p for p in store.entry(key).glob("*.json") if json.loads(p.read_text(encoding="utf-8"))
              .get("name") == "pair.b" and json.loads(p.read_text(encoding="utf-8"))["params"] == {"seed": 1}]
    part_b[0].with_suffix(".parquet").write_bytes(b"PAR1 damaged")  # one part damaged: the bundle is rebuilt
    healed = ProcessedStore(store.root).frames(key, "pair", {"seed": 1}, build)
    assert len(built) == 3
    pd.testing.assert_frame_equal(healed["a"], first["a"], check_exact=True)


def test_the_fairness_review_is_stored_and_read_back_identical(raw, tmp_path):
    """The fairness section is a function of the panel, methods, settings and unit: a second look at the
    month reads it (no draws) and gets every figure, reading and dtype of the first."""
    from qyb.review import fairness_readings
    from qyb.review.fairness import Settings

    size = Settings(n_draws=40, n_truths=4, truth_draws=10, coverage_panels=4, coverage_draws=30, response_draws=6,
                    horizon=3)

    def look(store):
        ed = qyb.load(MONTH, data=raw, store=store)
        review = ed.review("v1,v2", draws=64, fairness="v2,v3", fairness_size=size, unit="XL01")
        fair = review.fairness
        curves = [(m, s, r.curve, r.units, r.factor) for m, d in fair.responsiveness.items() for s, r in d.items()]
        return fair, fairness_readings(fair), review.tables()["reliability"], curves

    plain = look(False)
    store = ProcessedStore(tmp_path / "store")
    cold = look(store)
    again = ProcessedStore(store.root)
    warm = look(again)
    assert "fairness" in store.writes and "fairness" in again.hits and "fairness" not in again.writes
    for other in (cold, warm):
        assert other[1] == plain[1]
        pd.testing.assert_frame_equal(other[2], plain[2], check_exact=True)
        for frame in ("table", "story", "frontier"):
            pd.testing.assert_frame_equal(getattr(other[0], frame), getattr(plain[0], frame), check_exact=True)
        assert other[0].truth_known == plain[0].truth_known and other[0].notes == plain[0].notes
        assert [c[:2] + c[4:] for c in other[3]] == [c[:2] + c[4:] for c in plain[3]]
        for mine, theirs in zip(other[3], plain[3]):
            pd.testing.assert_frame_equal(mine[2], theirs[2], check_exact=True)
            pd.testing.assert_frame_equal(mine[3], theirs[3], check_exact=True)
    other_seed = qyb.load(MONTH, data=raw, store=again).review(
        "v1,v2", draws=64, seed=1, fairness="v2,v3", fairness_size=size, unit="XL01")
    assert again.writes.count("fairness") == 1 and not other_seed.fairness.table.equals(plain[0].table)
