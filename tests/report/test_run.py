"""The monthly run (`qyb run`): smoke run on small data, failure paths, determinism.

Notebook executions are slow (a kernel each), so the smoke run happens once
per test session, whatever the xdist scheduling (``smoke`` fixture, built under
a file lock by :func:`tests.helpers.shared_once`), and its outputs are checked
by several tests.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pandas as pd
import pytest

from qyb.cli import main
from qyb.paths import DATA_RAW, NOTEBOOKS
from qyb.report.run import REGISTRY, NotebookSpec, run_month
from tests.helpers import shared_once, tree

pytestmark = pytest.mark.slow

UNITS = ["XL01", "XL02", "XL07", "DS01", "DS09", "DS13"]  # 永宁社区 and five others
MONTH = "2023-03"


def make_small_data(folder: Path, months=("2022-01", "2023-03")) -> Path:
    """6 units x 15 months (2022-01..2023-03) trimmed from the shipped sample."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ["units.csv", "SYNTHETIC.md"] + [f"{y}-{m:02d}.csv" for y in (2022, 2023) for m in range(1, 13)]:
        src = DATA_RAW / name
        if not src.exists() or (name[:7] > months[1] and name[0].isdigit()):
            continue
        if name.endswith(".csv"):
            lines = src.read_text(encoding="utf-8-sig").splitlines()
            keep = [lines[0]] + [ln for ln in lines[1:] if ln.split(",")[0] in UNITS or ln.split(",")[1] in UNITS]
            (folder / name).write_text("\ufeff" + "\n".join(keep) + "\n", encoding="utf-8")
        else:
            shutil.copyfile(src, folder / name)
    return folder


def run_cli(*argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(argv))
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def small_data(tmp_path_factory) -> Path:
    return make_small_data(tmp_path_factory.mktemp("data") / "raw")


@pytest.fixture
def smoke(tmp_path_factory):
    """The smoke run, shared by every test that reads it (and by any worker); checked unchanged after each."""
    def build(folder: Path) -> dict:
        data = make_small_data(folder / "raw")
        status, out, err = run_cli("run", "--month", MONTH, "--data", str(data), "--reports",
                                   str(folder / "reports"), "--quiet")
        return {"status": status, "out": out, "err": err}

    result, folder = shared_once(tmp_path_factory, "qyb-run-smoke", build)
    reports = folder / "reports"
    yield SimpleNamespace(**result, reports=reports, folder=reports / MONTH, data=folder / "raw")
    shared_once(tmp_path_factory, "qyb-run-smoke", build)  # fails the test that wrote into it


def test_smoke_run_publishes_everything(smoke):
    assert smoke.status == 0, smoke.err
    assert smoke.out == "", "--quiet prints nothing"
    f = smoke.folder
    for name in ["index.html", "ranking.xlsx", "ranking.csv", "run.json", "榜单.pdf", "榜单（微信）.png", "通报.docx",
                 "history.xlsx", "published.csv", "tables/alerts.csv", "tables/published_history.csv",
                 "体检表/体检表（全部）.pdf"]:
        assert (f / name).is_file(), name
    assert sorted(p.stem for p in (f / "体检表").glob("*.pdf")) == sorted(
        [*pd.read_csv(f / "published.csv", encoding="utf-8-sig")["unit_name"], "体检表（全部）"])
    record = json.loads((f / "run.json").read_text(encoding="utf-8"))
    assert record["artefacts"]["榜单.pdf"]["pages"] == 1
    assert record["artefacts"]["体检表/体检表（全部）.pdf"]["pages"] == len(UNITS)
    for spec in REGISTRY:
        assert (f / f"{spec.name}.html").is_file()
        assert (f / "notebooks" / f"{spec.name}.ipynb").is_file()
    for fig in ["ranking_bar", "rank_bump", "category_heatmap", "star_distribution", "weather_calendar"]:
        assert (f / "figures" / f"{fig}.png").is_file(), fig
    # every unit's 体检表 is in the HTML (tables with in-cell bars); per-unit charts only in single-unit runs
    assert not list((f / "figures").glob("profile_*.png"))
    profiles = (f / "04_unit_profiles.html").read_text(encoding="utf-8")
    names = pd.read_csv(f / "published.csv", encoding="utf-8-sig")["unit_name"]
    assert len(names) == len(UNITS) and all(u in profiles for u in names)
    assert not list(smoke.reports.glob(".build-*")), "the build folder is renamed into place"
    index = (f / "index.html").read_text(encoding="utf-8")
    assert "示例数据" in index
    for spec in REGISTRY:
        assert f'href="{spec.name}.html"' in index


def test_ranking_page_says_where_each_measure_came_from(smoke):
    """01_ranking ends with 数据来源: each measure's file, and run.json keeps the same provenance."""
    import pandas as pd

    sources = pd.read_csv(smoke.folder / "tables" / "data_sources.csv", encoding="utf-8-sig")
    assert list(sources.columns) == ["指标代码", "指标名称", "计量单位", "报送部门", "来源文件"]
    assert len(sources) == 20 and set(sources["来源文件"]) == {f"{MONTH}.csv"}
    assert sources.set_index("指标代码").loc["fires", "计量单位"] == "起"
    page = (smoke.folder / "01_ranking.html").read_text(encoding="utf-8")
    assert "数据来源" in page and "读取时无需识别或略过任何内容" in page
    record = json.loads((smoke.folder / "run.json").read_text(encoding="utf-8"))
    assert record["measure_sources"] == {f"{MONTH}.csv": list(sources["指标代码"])}
    assert record["intake_notes"] == []


def test_html_has_no_code(smoke):
    for spec in REGISTRY:
        page = (smoke.folder / f"{spec.name}.html").read_text(encoding="utf-8")
        assert 'class="jp-InputPrompt' not in page and "In&nbsp;[" not in page
        assert 'class="jp-CodeMirrorEditor' not in page and 'class="highlight' not in page
        assert "load_month_data(" not in page and "injected-parameters" not in page
        cells = re.findall(r'class="(jp-Cell jp-CodeCell[^"]*)"', page)
        assert cells and all("jp-mod-noInput" in c for c in cells), "every code cell hides its input"
        assert "示例数据" in page


def test_page_figures_carry_their_chinese_titles_as_alternative_text(smoke):
    """Every image of every page has alternative text: the figure's title (its Chinese caption), never
    nbconvert's English placeholder; outputs and Markdown cells are reachable by keyboard."""
    for spec in REGISTRY:
        page = (smoke.folder / f"{spec.name}.html").read_text(encoding="utf-8")
        images = re.findall(r"<img [^>]*>", page)
        assert all(' alt="' in tag for tag in images), spec.name
        assert "No description has been provided" not in page
        alts = re.findall(r' alt="([^"]*)"', page)
        assert all(re.search(r"[\u4e00-\u9fff]", a) for a in alts), alts
        outputs = re.findall(r'<div class="[^"]*jp-OutputArea-output[^"]*"[^>]*>', page)
        assert outputs and all('tabindex="0"' in tag for tag in outputs)
    ranking = (smoke.folder / "01_ranking.html").read_text(encoding="utf-8")
    assert 'alt="平安形势指数排名 (index ranking)"' in ranking


def test_xlsx_one_row_per_unit_with_chinese_headers(smoke):
    import openpyxl

    book = openpyxl.load_workbook(smoke.folder / "ranking.xlsx")
    sheet = book["榜单"]
    assert "2023年3月" in sheet["A1"].value and "v2" in sheet["A1"].value  # month and method in the title row
    headers = [c.value for c in sheet[2]]
    assert headers[:9] == ["排名", "村(社区)", "单位编码", "平安形势指数", "星级", "星数", "上期排名", "升降", "扣分"]
    assert "社会治安" in headers and "反电诈" in headers and "扣分事由" in headers
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert len(rows) == len(UNITS)
    assert sorted(r[2] for r in rows) == sorted(UNITS)
    assert all(set(r[4]) == {"★"} and len(r[4]) == r[5] for r in rows)
    assert sheet.freeze_panes == "C3"
    assert sheet["A3"].fill.fill_type == "solid"


def test_pages_have_chinese_titles_headers_and_no_row_numbers(smoke):
    """Leader-facing pages (the summary, the 榜单 and the 体检表): a Chinese title in the browser tab,
    Chinese column headers, no row numbers, no internal codes, no echoed return values."""
    from qyb.report.notebook import english_headers

    for name in ["index.html", "01_ranking.html", "04_unit_profiles.html"]:
        page = (smoke.folder / name).read_text(encoding="utf-8")
        title = re.search(r"<title>(.*?)</title>", page).group(1)
        assert re.search(r"[\u4e00-\u9fff]", title) and title != "Notebook", name
        headers = [re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r"<th[^>]*>(.*?)</th>", page, flags=re.S)]
        headers = [h for h in headers if h]
        assert headers and not english_headers(headers), (name, english_headers(headers))
        assert "row_heading" not in page and "PosixPath" not in page, name
        assert "单位编码" not in headers and "code" not in headers, name
    for spec in REGISTRY:
        page = (smoke.folder / f"{spec.name}.html").read_text(encoding="utf-8")
        assert f"<title>{spec.title}" in page


def test_run_json_hashes_match_inputs(smoke):
    record = json.loads((smoke.folder / "run.json").read_text(encoding="utf-8"))
    files = record["inputs"]["files"]
    on_disk = sorted(p.name for p in smoke.data.iterdir() if p.suffix == ".csv")
    assert sorted(files) == on_disk
    for name, digest in files.items():
        assert digest == hashlib.sha256((smoke.data / name).read_bytes()).hexdigest()
    spec = record["inputs"]["method_spec"]
    assert spec["sha256"] == hashlib.sha256(Path(spec["path"]).read_bytes()).hexdigest()
    assert record["method"] == "v2" and record["month"] == MONTH
    assert {"qyb", "papermill", "pandas", "numpy", "scipy", "matplotlib"} <= set(record["versions"])
    assert "validate" in record["steps_seconds"] and record["started"]


def test_every_png_is_a_valid_image(smoke):
    from PIL import Image

    pngs = list(smoke.folder.rglob("*.png"))
    assert pngs
    for png in pngs:
        with Image.open(png) as im:
            im.verify()
            assert im.format == "PNG"


def test_bad_data_exits_2_and_changes_nothing(small_data, tmp_path):
    bad = make_small_data(tmp_path / "bad")
    path = bad / f"{MONTH}.csv"
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    cells = lines[1].split(",")
    cells[3] = "abc"
    lines[1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    reports = tmp_path / "reports"
    (reports / MONTH).mkdir(parents=True)
    (reports / MONTH / "index.html").write_text("previous", encoding="utf-8")
    before = tree(reports)
    status, out, err = run_cli("run", "--month", MONTH, "--data", str(bad), "--reports", str(reports))
    assert status == 2
    assert tree(reports) == before and sorted(p.name for p in reports.iterdir()) == [MONTH]
    score_status, _, score_err = run_cli("score", "--month", MONTH, "--data", str(bad), "--out",
                                         str(tmp_path / "x.csv"))
    assert score_status == 2 and err.strip() == score_err.strip() and "abc" in err
    assert "notebook" not in out


def test_notebook_error_exits_1_keeps_error_notebook(small_data, tmp_path):
    nb = nbformat.read(str(NOTEBOOKS / "01_ranking.ipynb"), as_version=4)
    nb.cells.insert(3, nbformat.v4.new_code_cell('raise RuntimeError("注入的错误 injected failure")'))
    broken = tmp_path / "01_ranking.ipynb"
    nbformat.write(nb, str(broken))
    reports = tmp_path / "reports"
    (reports / MONTH).mkdir(parents=True)
    (reports / MONTH / "index.html").write_text("previous report", encoding="utf-8")
    before = tree(reports / MONTH)
    args = SimpleNamespace(month=MONTH, latest=False, method=None, data=str(small_data), reports=str(reports),
                           quiet=True)
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        status = run_month(args, registry=[NotebookSpec("01_ranking", "榜单", path=broken)])
    assert status == 1
    assert "RuntimeError" in err.getvalue() and "注入的错误" in err.getvalue()
    assert 'raise RuntimeError("注入的错误 injected failure")' in err.getvalue(), "prints the failing cell"
    kept = reports / "_failed" / MONTH / "01_ranking.ipynb"
    assert kept.is_file()
    errors = [o for c in nbformat.read(str(kept), as_version=4).cells for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert errors and errors[0]["ename"] == "RuntimeError"
    assert tree(reports / MONTH) == before, "the previous report is untouched"
    assert not list(reports.glob(".build-*"))


def test_rerun_reproduces_ranking_csv(smoke, tmp_path):
    """Same inputs -> byte-identical ranking.csv (and XLSX); an existing month folder is replaced.

    Re-runs into a copy of the smoke run's reports: the shared folder is read by other tests,
    possibly at this moment on another worker."""
    reports = tmp_path / "reports"
    shutil.copytree(smoke.reports, reports)
    folder = reports / MONTH
    first = (folder / "ranking.csv").read_bytes()
    args = SimpleNamespace(month=MONTH, latest=False, method=None, data=str(smoke.data),
                           reports=str(reports), quiet=True)
    assert run_month(args, registry=[]) == 0  # ranking.csv comes from the run itself, not a notebook
    assert (folder / "ranking.csv").read_bytes() == first
    assert first.startswith("\ufeff".encode("utf-8"))
    assert not (folder / "01_ranking.html").exists(), "the folder was replaced as a whole"
    xlsx = (folder / "ranking.xlsx").read_bytes()
    assert run_month(args, registry=[]) == 0
    assert (folder / "ranking.xlsx").read_bytes() == xlsx
    assert (folder / "ranking.xlsx").read_bytes() == (smoke.folder / "ranking.xlsx").read_bytes()


def test_bad_month_and_missing_month_exit_2(small_data, tmp_path):
    status, _, err = run_cli("run", "--month", "2023-13", "--data", str(small_data), "--reports", str(tmp_path))
    assert status == 2 and "2023-13" in err
    status, _, err = run_cli("run", "--data", str(small_data), "--reports", str(tmp_path))
    assert status == 2 and "--latest" in err
    assert not any(tmp_path.iterdir())


def test_single_unit_profile_draws_its_charts(small_data, tmp_path):
    """Analysts run 04_unit_profiles for one unit: its 体检表 with the category and history charts."""
    from qyb.report.run import KERNEL_NAME, ensure_kernel, run_papermill

    ensure_kernel(KERNEL_NAME)
    out = tmp_path / "04.ipynb"
    run_papermill(NOTEBOOKS / "04_unit_profiles.ipynb", out, kernel=KERNEL_NAME,
                  parameters={"month": MONTH, "data_dir": str(small_data), "output_dir": str(tmp_path),
                              "unit": "永宁社区"})
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == ["history_XL01.png", "profile_XL01.png"]
    import pandas as pd

    summary = pd.read_csv(tmp_path / "tables" / "unit_profiles.csv", encoding="utf-8-sig")
    assert len(summary) == 1


def test_worker_threads_close_their_event_loops():
    """papermill (jupyter_core's ``run_sync``) leaves every thread that drove a kernel an open event
    loop; the run's worker threads close theirs, else the garbage collector reports them later,
    in whatever code (or test) runs at that moment."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from jupyter_core.utils import run_sync

    from qyb.report.run import close_thread_event_loop

    async def running_loop():
        return asyncio.get_running_loop()

    def drive_a_kernel_client(close: bool):
        loop = run_sync(running_loop)()
        if close:
            close_thread_event_loop()
            close_thread_event_loop()  # twice, or in a thread that has none: nothing to do
        return loop

    with ThreadPoolExecutor(1) as pool:
        left_open = pool.submit(drive_a_kernel_client, False).result()
    with ThreadPoolExecutor(1) as pool:
        closed = pool.submit(drive_a_kernel_client, True).result()
        again = pool.submit(drive_a_kernel_client, True).result()  # the same thread gets a new loop
    assert not left_open.is_closed()  # control: what run_sync leaves behind
    left_open.close()
    assert closed.is_closed() and again.is_closed() and again is not closed
