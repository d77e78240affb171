"""The monthly job behind ``qyb run``: validate, execute the report notebooks, publish ``reports/YYYY-MM/``.

Steps (one progress line each, with its duration; ``--quiet`` silences them):

1. **validate**: score the month through the same path as ``qyb score``
   (:func:`qyb.scorecard.scorecard_for`); bad input raises
   :class:`qyb.errors.InputError` (exit 2) before any notebook starts and before
   anything is written under ``reports/``.
2. **notebooks**: every entry of :data:`REGISTRY` is executed with the papermill
   Python API (explicit kernel, working directory, per-cell timeout, log
   output) into a build folder ``reports/.build-YYYY-MM-xxxx``; notebooks whose
   ``after`` entries are done run concurrently in threads (each kernel is its
   own process). Each executed notebook is converted to HTML in-process
   (nbconvert ``HTMLExporter``, no code, no prompts, no parameter cells) as soon
   as it finishes.
3. **documents**: in the main thread while the notebooks run, from one
   :class:`~qyb.report.month.MonthReport` (nothing is scored twice): the published history, the 预警
   list and this month's record (``published.csv``), ``history.xlsx`` and the 体检表 PDFs (each unit
   and the combined file); then, with the rank intervals of this month and the last (with the
   processed store a notebook's kernel draws and stores them and this process reads them; without
   it they are drawn before the notebooks start, which read ``tables/rank_intervals*.csv``), the
   榜单 as CSV, XLSX, PDF and WeChat image and ``通报.docx`` (:mod:`qyb.report.documents`; about
   2 s of CPU, the PDFs written directly by :mod:`qyb.report.pdfdoc`). A month whose record would
   change is refused before anything is written unless ``--republish``
   (:func:`qyb.report.published.check_republish`).
4. **publish**: the leader summary ``index.html`` and ``run.json`` are written, then the build folder
   replaces ``reports/YYYY-MM`` in one atomic switch (:mod:`qyb.report.publish`: at every instant the
   published folder is the complete previous report or the complete new one, whatever is killed when).
   The run holds the month's lock throughout (a second run of the month exits 2) and first cleans up
   what killed runs left. If any notebook fails, its error notebook is kept under
   ``reports/_failed/YYYY-MM/``, the failing cell and error are printed, the build folder is removed and
   the previous ``reports/YYYY-MM`` stays as it was; a full or read-only reports folder is said as such
   (exit 1), never hidden behind a failed notebook.

To add a notebook to the run (issues 4 and 5), append a :class:`NotebookSpec`
to :data:`REGISTRY`.
"""
from __future__ import annotations

import datetime as _dt
import errno
import json
import logging
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from qyb.errors import InputError, OutputError, Problem
from qyb.report.htmlsafe import sanitise_page
from qyb.vocab import pad_text

#: what papermill logs of a kernel's output (a warning a cell printed) belongs to the notebook, not the terminal:
#: without a handler of its own, Python's last-resort handler would print it on stderr
logging.getLogger("papermill").addHandler(logging.NullHandler())

KERNEL_NAME = "qyb"
CELL_TIMEOUT = 600  # seconds per cell
PARAMETER_NAMES = ("month", "method", "data_dir", "output_dir", "unit")


@dataclass(frozen=True)
class NotebookSpec:
    """One notebook of the monthly run.

    ``name``: file stem in ``notebooks/`` (``01_ranking`` -> ``notebooks/01_ranking.ipynb``);
    ``title``: the Chinese title on index.html; ``params``: which of
    :data:`PARAMETER_NAMES` are injected (all plain strings); ``per_month``: True
    when its content belongs to the month being run (it receives ``month``),
    False for a notebook about the whole history (it may still list ``month``
    to know where the history ends); ``after``: names of notebooks that must
    finish first (their outputs are read); ``path``: another notebook file
    (tests use it for a broken copy); ``ahead``: tables the notebook will read that the run starts
    building in helper processes as soon as the month is validated (:mod:`qyb.report.prepare`).
    """

    name: str
    title: str
    params: tuple[str, ...] = ("month", "method", "data_dir", "output_dir")
    per_month: bool = True
    after: tuple[str, ...] = ()
    path: Path | None = None
    timeout: int = CELL_TIMEOUT
    ahead: tuple[str, ...] = ()

    def source(self) -> Path:
        from qyb.paths import NOTEBOOKS

        return Path(self.path) if self.path else NOTEBOOKS / f"{self.name}.ipynb"


#: The notebooks of the monthly run, in the order index.html lists them.
REGISTRY: list[NotebookSpec] = [
    NotebookSpec("01_ranking", "榜单（完整）与晴雨日历", ahead=("rank_intervals",)),
    NotebookSpec("02_movements", "指标变动与排名区间", ahead=("rank_intervals",)),
    NotebookSpec("03_method_review", "评分方法评估", ahead=("fairness",)),
    NotebookSpec("04_unit_profiles", "各村（社区）体检表",
                 params=("month", "method", "data_dir", "output_dir", "unit"), ahead=("rank_intervals",)),
]


class NotebookFailed(Exception):
    """A notebook raised: which one, the failing cell's source, the error, and where the notebook was kept."""

    def __init__(self, name: str, cell_source: str, error: str, kept: Path | None):
        self.name, self.cell_source, self.error, self.kept = name, cell_source, error, kept
        super().__init__(f"notebook {name} failed: {error}")

    def report(self) -> str:
        cell = "\n".join(f"    {line}" for line in self.cell_source.strip().splitlines())
        kept = f"\n  出错的笔记本已保存 (error notebook kept): {self.kept}" if self.kept else ""
        return (f"错误 (error): 笔记本 {self.name} 执行失败 (notebook failed)\n"
                f"  出错的单元格 (failing cell):\n{cell}\n  {self.error}{kept}")


# ---------------------------------------------------------------- progress
#: terminal columns of a step's name in the progress lines (the longest, "last month's intervals (notebook)")
STEP_WIDTH = 34


class Progress:
    """One line per step with its duration, the durations in one column whatever the script of the step's
    name (:func:`qyb.vocab.pad_text`); silent when quiet. Thread-safe."""

    def __init__(self, quiet: bool = False, stream=None):
        self.quiet = quiet
        self.stream = stream or sys.stdout
        self.steps: dict[str, float] = {}
        self._lock = threading.Lock()

    def done(self, step: str, seconds: float, detail: str = "") -> None:
        with self._lock:
            self.steps[step] = seconds
            if not self.quiet:
                extra = f"  {detail}" if detail else ""
                print(f"[qyb run] {pad_text(step, STEP_WIDTH)} {seconds:6.2f} s{extra}", file=self.stream, flush=True)


class _Timer:
    def __init__(self, progress: Progress, step: str):
        self.progress, self.step = progress, step

    def __enter__(self):
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, exc_type, *rest):
        if exc_type is None:
            self.progress.done(self.step, time.perf_counter() - self.t0, getattr(self, "detail", ""))
        return False


# ---------------------------------------------------------------- kernel, execution, HTML
KERNEL_LOG_FLAG = "--IPKernelApp.log_level=CRITICAL"  # batch runs: no TCP-encryption warning per kernel


def ensure_kernel(name: str = KERNEL_NAME) -> str:
    """Make sure the Jupyter kernel ``name`` exists in this environment (install it if not).

    The spec runs this interpreter (``sys.executable``) with ipykernel, logging
    errors only. ``make install`` calls this too (``python -m qyb.report.run --install-kernel``).
    """
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    manager = KernelSpecManager()
    try:
        spec = manager.get_kernel_spec(name)
        if KERNEL_LOG_FLAG in spec.argv and Path(spec.argv[0]).exists():
            return name
    except NoSuchKernel:
        pass
    with tempfile.TemporaryDirectory() as tmp:
        spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}", KERNEL_LOG_FLAG],
                "display_name": f"{name} (Python 3)", "language": "python",
                "metadata": {"debugger": True}}
        (Path(tmp) / "kernel.json").write_text(json.dumps(spec, indent=1), encoding="utf-8")
        manager.install_kernel_spec(tmp, kernel_name=name, prefix=sys.prefix)
    return name


#: added to every converted page: figures never wider than the page, tables readable, printable
PAGE_CSS = """<style>
.jp-RenderedImage img, .jp-OutputArea-output img {max-width:100% !important; height:auto !important}
.jp-RenderedHTMLCommon table {font-size:12px} .jp-RenderedHTMLCommon td, .jp-RenderedHTMLCommon th {white-space:nowrap}
.jp-OutputArea-output {overflow-x:auto}
@media print {.jp-Cell {break-inside:avoid-page} .jp-RenderedImage img {max-width:100% !important}}
</style>"""

_HTML_LOCK = threading.Lock()
_HTML_EXPORTER = None


def notebook_html(nb, title: str = "") -> str:
    """Executed notebook -> standalone HTML without code, prompts or the parameter cells, scrubbed of
    anything that could run or fetch and carrying the Content-Security-Policy
    (:func:`qyb.report.htmlsafe.sanitise_page`; warnings a kernel printed on stderr are not published).

    ``title`` is the browser tab's title (nbconvert's default is "Notebook"). A cell's *return
    value* (``execute_result``: a DataFrame echoed with its row numbers, a file path) is not
    published: a page shows what its cells display on purpose (:class:`qyb.report.notebook.Page`).
    Figures are kept within the page width (:data:`PAGE_CSS`). One exporter serves every notebook
    of the process (its templates are compiled once, not per page); conversions take turns, as an
    exporter keeps per-call state.
    """
    import copy

    global _HTML_EXPORTER
    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells
                if not {"injected-parameters", "parameters"} & set(c.get("metadata", {}).get("tags", []))]
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell.outputs = [o for o in cell.get("outputs", []) if o.get("output_type") != "execute_result"
                            and not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
    resources = {"metadata": {"name": title}} if title else None
    with _HTML_LOCK:
        if _HTML_EXPORTER is None:
            _HTML_EXPORTER = _page_exporter()
        body, _ = _HTML_EXPORTER.from_notebook_node(nb, resources=resources)
    return sanitise_page(body.replace("</head>", PAGE_CSS + "\n</head>", 1))


def _page_exporter():
    """nbconvert's ``HTMLExporter`` (no code, no prompts) without the BeautifulSoup pass it makes over every
    finished page, about two thirds of a page's conversion time: that pass gives images an English
    placeholder as alternative text and makes outputs focusable, which :func:`qyb.report.htmlsafe.sanitise_page`
    does in the scrub every page goes through anyway (with the figure's Chinese title as the text)."""
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class PageExporter(HTMLExporter):
        def from_notebook_node(self, nb, resources=None, **kw):
            # HTMLExporter.from_notebook_node up to its soup (nbconvert 7)
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            highlight_code = self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
            resources = self._init_resources(resources)
            filter_data_type = WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self,
                                                     resources=resources)
            self.register_filter("highlight_code", highlight_code)
            self.register_filter("filter_data_type", filter_data_type)
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    return PageExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)


KERNEL_START_ATTEMPTS = 3
#: the folder of a build that holds its kernels' connection files (removed before publishing)
KERNELS_DIR = ".kernels"


def kernel_manager_in(folder: Path, forker=None):
    """A kernel manager class that writes its kernels' connection files into ``folder`` (a run's build
    folder), not as ``/tmp/tmpXXXX.json``: a killed run's files go with its build folder; with ``forker``
    (a :class:`qyb.report.kernels.KernelForker`) its kernels are forked from the run's template process."""
    import uuid

    from jupyter_client.manager import AsyncKernelManager

    from qyb.report.kernels import launch_in

    class RunKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            if not self.connection_file:
                Path(folder).mkdir(parents=True, exist_ok=True)
                self.connection_file = str(Path(folder) / f"kernel-{uuid.uuid4().hex}.json")

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            if not await launch_in(forker, self, kernel_cmd, kw):
                await super()._async_launch_kernel(kernel_cmd, **kw)

    return RunKernelManager


def run_papermill(source: Path, out: Path, parameters: dict, kernel: str = KERNEL_NAME,
                  working_dir: Path | None = None, timeout: int = CELL_TIMEOUT, log_output: bool = False,
                  connection_dir: Path | None = None, shutdown: str = "graceful", forker=None):
    """``papermill.execute_notebook`` with a retry when the *kernel fails to start*.

    Kernels started at the same moment by several processes can race for the same free
    TCP port (jupyter_client picks ports by binding to port 0 and releasing them), and the
    loser dies before replying to kernel_info. That is not the notebook's fault, so the
    start is retried (up to :data:`KERNEL_START_ATTEMPTS`); an error raised by a cell
    (``PapermillExecutionError``) is never retried. The kernel's working directory is
    ``working_dir``, set through nbclient's ``resources['metadata']['path']``, not papermill's
    ``cwd=``, which chdir()s the whole process (unsafe with notebooks in threads). ``connection_dir``:
    where the kernel's connection file goes (:func:`kernel_manager_in`). ``shutdown``: how the kernel is
    ended once every cell has run (nbclient's ``shutdown_kernel``): ``graceful`` (papermill's default:
    a shutdown request, then a wait while the kernel's interpreter tears itself down) or ``immediate``
    (the kernel process is ended at once: the notebook is complete, its outputs received and its files
    written by then, so the run does not wait seconds per kernel for a teardown nothing needs).
    ``forker``: the run's :class:`~qyb.report.kernels.KernelForker` (with ``connection_dir``): the kernel is
    forked from its template process instead of started afresh.
    """
    import random

    import papermill as pm

    resources = {"metadata": {"path": str(working_dir)}} if working_dir else {}
    extra = {"kernel_manager_class": kernel_manager_in(connection_dir, forker)} if connection_dir else {}
    for attempt in range(1, KERNEL_START_ATTEMPTS + 1):
        try:
            return pm.execute_notebook(str(source), str(out), parameters=parameters, kernel_name=kernel,
                                       cwd=None, resources=resources, execution_timeout=timeout,
                                       log_output=log_output, progress_bar=False,
                                       request_save_on_cell_execute=False, shutdown_kernel=shutdown, **extra)
        except pm.PapermillExecutionError:
            raise
        except Exception as exc:
            start_failed = "kernel_info" in str(exc) or type(exc).__name__ in ("ZMQError", "DeadKernelError")
            if not start_failed or attempt == KERNEL_START_ATTEMPTS:
                raise
            time.sleep(0.2 + random.random())  # spread the retries of racing processes


def execute_one(spec: NotebookSpec, parameters: dict, build: Path, kernel: str, log_output: bool = True,
                html: bool = True, forker=None):
    """Execute one notebook into ``build/notebooks/NAME.ipynb`` (and ``build/NAME.html``).

    Returns (seconds executing, seconds converting). Raises papermill's
    PapermillExecutionError when a cell fails (the output notebook holds the error). ``forker``: see
    :func:`run_papermill`.
    """
    import nbformat

    out = build / "notebooks" / f"{spec.name}.ipynb"
    out.parent.mkdir(parents=True, exist_ok=True)
    params = {k: str(parameters.get(k, "")) for k in spec.params}
    t0 = time.perf_counter()
    nb = run_papermill(spec.source(), out, params, kernel, working_dir=build, timeout=spec.timeout,
                       log_output=log_output, connection_dir=build / KERNELS_DIR, shutdown="immediate",
                       forker=forker)
    t1 = time.perf_counter()
    if html:
        nb = nbformat.from_dict(nb)
        title = f"{spec.title} · {parameters.get('month', '')} · 小榄镇平安“晴雨表”".replace(" ·  · ", " · ")
        (build / f"{spec.name}.html").write_text(notebook_html(nb, title), encoding="utf-8")
    return t1 - t0, time.perf_counter() - t1


def close_thread_event_loop() -> None:
    """Close the asyncio event loop of the calling thread, if it has one that is not running.

    papermill drives the kernel through jupyter_core's ``run_sync``, which gives every thread its
    own event loop and never closes it. When a worker thread of :func:`execute_all` ends, that
    loop (and the socket pair it wakes itself with) is left to the garbage collector, whose
    ``ResourceWarning: unclosed event loop`` then surfaces in whatever code runs at that moment
    (in the test suite: another test, possibly one that turns warnings into errors). A later
    notebook in the same thread gets a fresh loop (``run_sync`` replaces a closed one).
    """
    import asyncio
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # "no current event loop" (3.12+)
        try:
            loop = asyncio.get_event_loop()
        except RuntimeError:  # this thread never had one
            return
    if not loop.is_running():
        loop.close()
        asyncio.set_event_loop(None)


def _execute_in_worker(*args):
    """:func:`execute_one` in a worker thread of :func:`execute_all`, closing the thread's event loop after."""
    try:
        return execute_one(*args)
    finally:
        close_thread_event_loop()


def _failed_cell(path: Path) -> str:
    """Source of the first cell whose output is an error, from an executed notebook file."""
    import nbformat

    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception:
        return ""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return cell.source
    return ""


def execute_all(specs: list[NotebookSpec], parameters: dict, build: Path, progress: Progress,
                kernel: str = KERNEL_NAME, failed_dir: Path | None = None, html: bool = True,
                max_workers: int | None = None, forker=None) -> None:
    """Execute ``specs`` concurrently where their ``after`` lists allow; HTML as each finishes; kernels
    forked from ``forker``'s template when given (:mod:`qyb.report.kernels`).

    On the first failure: waits for the running notebooks, starts no new ones,
    copies the failed notebook to ``failed_dir`` and raises :class:`NotebookFailed`.
    """
    names = {s.name for s in specs}
    for s in specs:
        missing = [a for a in s.after if a not in names]
        if missing:
            raise ValueError(f"notebook {s.name} runs after unknown notebook(s) {missing}")
    pending = list(specs)
    done: set[str] = set()
    running: dict[Future, NotebookSpec] = {}
    failure: tuple[NotebookSpec, BaseException] | None = None
    with ThreadPoolExecutor(max_workers=max_workers or len(specs) or 1, thread_name_prefix="qyb-nb") as pool:
        while pending or running:
            if failure is None:
                ready = [s for s in pending if set(s.after) <= done]
                for s in ready:
                    pending.remove(s)
                    running[pool.submit(_execute_in_worker, s, parameters, build, kernel, True, html, forker)] = s
            if not running:
                break
            finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for fut in finished:
                s = running.pop(fut)
                exc = fut.exception()
                if exc is not None:
                    failure = failure or (s, exc)
                    continue
                run_s, html_s = fut.result()
                done.add(s.name)
                progress.done(f"notebook {s.name}", run_s)
                if html:
                    progress.done(f"html {s.name}", html_s)
            if failure is not None:
                pending.clear()
    if failure is not None:
        spec, exc = failure
        environment = output_failure(exc, build)
        if environment is not None:  # a full or read-only disk, not the notebook's fault: say so
            raise environment from exc
        out = build / "notebooks" / f"{spec.name}.ipynb"
        kept = None
        if out.exists() and out.stat().st_size > 0 and failed_dir is not None:
            try:
                failed_dir.mkdir(parents=True, exist_ok=True)
                kept = failed_dir / f"{spec.name}.ipynb"
                shutil.copyfile(out, kept)
            except OSError:  # keeping it is a courtesy: the error below is what matters
                if kept is not None and kept.exists() and kept.stat().st_size == 0:
                    kept.unlink()
                kept = None
        source = getattr(exc, "source", None) or (_failed_cell(out) if out.exists() else "")
        ename, evalue = getattr(exc, "ename", None), getattr(exc, "evalue", None)
        error = f"{ename}: {evalue}" if ename else f"{type(exc).__name__}: {exc}"
        raise NotebookFailed(spec.name, source, error, kept) from exc


#: errno values that mean the output location, not the notebook, failed
_LOCATION_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)


def output_failure(exc: BaseException, where: Path):
    """An :class:`~qyb.errors.OutputError` when ``exc`` (or what caused it, or the error a notebook's cell
    raised) is the output location failing (disk full, quota, read-only); None otherwise."""
    import re

    from qyb.data.files import output_error

    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OutputError):
            return exc
        if isinstance(exc, OSError) and exc.errno in _LOCATION_ERRNOS:
            return output_error(exc, exc.filename or where)
        m = re.search(r"\[Errno (\d+)\] ([^:'\n]*)(?::\s*'([^']*)')?",
                      f"{getattr(exc, 'evalue', '') or ''} {exc}")  # a cell's OSError, as papermill reports it
        if m and int(m.group(1)) in _LOCATION_ERRNOS:
            return output_error(OSError(int(m.group(1)), m.group(2).strip()), m.group(3) or where)
        exc = exc.__cause__ or exc.__context__
    return None


def _when_stored(read, worker: threading.Thread, poll: float = 0.1):
    """``read()`` once it returns something, polling while ``worker`` (the notebooks) runs; None if the
    notebooks ended without storing it."""
    while True:
        alive = worker.is_alive()
        found = read()
        if found is not None or not alive:
            return found
        time.sleep(poll)


# ---------------------------------------------------------------- the run
def resolve_month(args, data_dir: Path) -> str:
    """``--month`` (validated) or, with ``--latest``, the latest month file in the data folder."""
    from qyb.data.monthfile import month_files
    from qyb.data.months import parse_month

    if getattr(args, "month", None):
        return parse_month(args.month)
    if getattr(args, "latest", False):
        months = sorted(month_files(data_dir))
        if not months:
            raise InputError(Problem(str(data_dir), "no month files in the data folder",
                                     "Add YYYY-MM.csv files, or pass --data with the right folder."))
        return months[-1]
    raise InputError(Problem("--month", "no month given", "Pass --month YYYY-MM or --latest."))


def reports_location(args) -> Path:
    """The reports folder (``--reports`` or the default), checked before any work: a folder, or one that can
    be made, that can be written. A bad ``--reports`` is caught by the command line (exit 2); the default
    location failing is the environment (:class:`~qyb.errors.OutputError`, exit 1)."""
    from qyb.data.files import check_output_path
    from qyb.paths import REPORTS

    given = getattr(args, "reports", None)
    root = Path(given).resolve() if given else REPORTS
    try:
        check_output_path(root, "--reports", folder=True)
    except InputError as exc:
        if given:
            raise
        raise OutputError(f"报告文件夹不可用 (the reports folder cannot be used): {exc.problems[0].rule}") from None
    return root


def run_month(args, registry: list[NotebookSpec] | None = None, kernel: str = KERNEL_NAME) -> int:
    """The monthly job (``qyb run``). Returns the exit status; raises InputError for bad input.

    Holds the month's lock (:class:`qyb.report.publish.MonthLock`) from before anything is read to the
    end, cleans up what killed runs left (:func:`qyb.report.publish.clean_up`) and publishes with one
    atomic switch (:func:`qyb.report.publish.publish`)."""
    from qyb.data.files import output_error
    from qyb.paths import DATA_RAW
    from qyb.report.publish import MonthLock, clean_up, kill_point

    data_dir = Path(args.data).resolve() if getattr(args, "data", None) else DATA_RAW
    reports_root = reports_location(args)
    month = resolve_month(args, data_dir)
    made = [p for p in (reports_root, *reports_root.parents) if not p.exists()]  # deepest first
    try:
        reports_root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise output_error(exc, reports_root, "make") from None
    try:
        with MonthLock(reports_root, month):
            kill_point("locked")
            for line in clean_up(reports_root, own=month):
                if not getattr(args, "quiet", False):
                    print(f"[qyb run] 清理中断的运行 (cleaned up after an interrupted run): {line}", file=sys.stderr)
            return _run_locked(args, registry, kernel, reports_root)
    except BaseException:
        for folder in made:  # a run that fails leaves no reports folder it made (bad input writes nothing)
            try:
                folder.rmdir()
            except OSError:
                break
        raise


def _run_locked(args, registry: list[NotebookSpec] | None, kernel: str, reports_root: Path) -> int:
    """:func:`run_month` once the month's lock is held."""
    import dataclasses

    from qyb.data.files import write_csv_atomic
    from qyb.edition import load
    from qyb.paths import DATA_RAW
    from qyb.report import prepare
    from qyb.report.alerts import load_office
    from qyb.report.documents import (
        FILES,
        artefact_list,
        write_month_tables,
        write_ranking_documents,
        write_unit_documents,
    )
    from qyb.report.kernels import kernel_mode, kernels_used, start_forker
    from qyb.report.month import month_report
    from qyb.report.publish import kill_point, new_build, publish
    from qyb.report.published import check_republish
    from qyb.report.ranking import movers_beyond_chance
    from qyb.report.record import run_record
    from qyb.report.summary import summary_html

    started = _dt.datetime.now().astimezone()
    kernels = kernel_mode(getattr(args, "kernels", None))
    progress = Progress(quiet=getattr(args, "quiet", False))
    specs = list(REGISTRY if registry is None else registry)
    data_dir = Path(args.data).resolve() if getattr(args, "data", None) else DATA_RAW

    # 1. validate: the same scoring path as `qyb score`, the office settings, the published record;
    #    nothing written yet
    with _Timer(progress, "validate") as t:
        month = resolve_month(args, data_dir)
        edition = load(month, getattr(args, "method", None) or None, data_dir)  # as `qyb score` does
        office = load_office(getattr(args, "office", None))
        rep = month_report(edition, reports_root, office=office)
        republished = check_republish(reports_root, rep.record, bool(getattr(args, "republish", False)))
        t.detail = f"{month}, method {edition.method.name}, {len(rep.card)} units"

    try:
        build = new_build(reports_root, month)
    except OSError as exc:
        raise (output_failure(exc, reports_root) or exc) from exc
    kill_point("build_created")
    parameters = {"month": month, "method": getattr(args, "method", None) or edition.method.name,
                  "data_dir": str(data_dir), "output_dir": str(build), "unit": ""}
    # with the processed store, the tables the notebooks share are drawn once: in helper processes forked
    # now (qyb.report.prepare), else in the first kernel that asks (the others wait on the store's lock and
    # read them); the notebooks start at once, and this process, whose threads serve the kernels, reads
    # the rank intervals when they are stored
    shared = edition.store is not None and edition.panel.store_key is not None
    helpers: list[prepare.Helper] = []
    forker = None
    try:
        # the kernels' template imports what the notebooks import while the helpers start (qyb.report.kernels)
        forker = start_forker(kernel_imports(specs), kernels)
        helpers += prepare.start(specs, parameters, edition) if shared else []  # forked before any thread starts
        ensure_kernel(kernel)
        import papermill  # noqa: F401 -- imported here, so the notebooks' threads start their kernels at once
        errors: list[BaseException] = []

        def run_notebooks():
            try:
                execute_all(specs, parameters, build, progress, kernel,
                            failed_dir=reports_root / "_failed" / month, forker=forker)
            except BaseException as exc:  # re-raised in the main thread
                errors.append(exc)

        def draw_intervals(ed, name: str):
            """``ed``'s rank intervals, drawn here, also written where the notebooks look first
            (``tables/<name>``)."""
            drawn = ed.rank_intervals()
            write_csv_atomic(drawn, build / "tables" / name)
            return drawn

        def intervals_of(ed, name: str, step: str):
            """``ed``'s rank intervals: with the store, as soon as a notebook has stored them (drawn
            here only if none did); without it, drawn here (before the notebooks start)."""
            if ed is None:
                return None
            with _Timer(progress, step):
                found = _when_stored(lambda: ed.rank_intervals(draw=False), worker) if shared else None
                if found is not None:
                    write_csv_atomic(found, build / "tables" / name)
                    return found
                return draw_intervals(ed, name)

        worker = threading.Thread(target=run_notebooks, name="qyb-notebooks")
        previous = edition.previous()
        if not shared:  # the notebooks read the run's files: drawn before they start
            intervals = intervals_of(edition, "rank_intervals.csv", "rank intervals")
            previous_intervals = intervals_of(previous, "rank_intervals_previous.csv", "rank intervals (previous month)")
        t_nb = time.perf_counter()
        worker.start()
        try:  # 2 + 3. notebooks in worker threads; in this thread meanwhile the month's tables, the documents
            write_month_tables(rep, build)
            write_unit_documents(rep, build, progress)  # need no intervals: written while a kernel draws them
            kill_point("documents")
            if shared:
                intervals = intervals_of(edition, "rank_intervals.csv", "rank intervals (from a notebook)")
                previous_intervals = intervals_of(previous, "rank_intervals_previous.csv",
                                                  "last month's intervals (notebook)")
            rep = dataclasses.replace(rep, intervals=intervals, previous_intervals=previous_intervals,
                                      movers=movers_beyond_chance(rep.card, intervals, previous_intervals))
            write_ranking_documents(rep, build, progress)
        finally:
            worker.join()  # never remove the build folder under running notebooks
            prepare.finish(helpers, progress)
        if errors:
            raise errors[0]
        progress.steps["notebooks (wall)"] = time.perf_counter() - t_nb
        shutil.rmtree(build / KERNELS_DIR, ignore_errors=True)  # connection files of the finished kernels
        kill_point("notebooks_done")

        # 4. publish
        with _Timer(progress, "publish") as t:
            figures = sorted(p.relative_to(build).as_posix() for p in (build / "figures").glob("*.png")) \
                if (build / "figures").is_dir() else []
            pages = [{"title": s.title, "html": f"{s.name}.html", "notebook": f"notebooks/{s.name}.ipynb"}
                     for s in specs]
            files = [{"href": name, "label": label, "note": note} for name, (label, note) in FILES.items()]
            index_figures = [f for f in figures if not Path(f).name.startswith(("profile_", "history_"))]
            (build / "index.html").write_text(summary_html(rep, pages, files, index_figures, build), encoding="utf-8")
            kill_point("index_written")
            record = run_record(month, edition.method, edition.panel, parameters | {"output_dir": f"reports/{month}"},
                                started, dict(progress.steps), [s.name for s in specs])
            record["parameters"]["kernel"] = kernel
            record["parameters"]["kernels"] = kernels_used(forker)
            record["office"] = {"issuer": office.issuer, "alerts": [dataclasses.asdict(r) for r in office.rules]}
            if republished:
                record["republished"] = republished
            record["artefacts"] = artefact_list(build)
            final = reports_root / month
            (build / "run.json").write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n",
                                            encoding="utf-8")
            kill_point("before_switch")
            publish(build, final)
        kill_point("published")
        if not progress.quiet:
            print(f"[qyb run] 报告已发布 (published): {final / 'index.html'}", flush=True)
        return 0
    except NotebookFailed as exc:
        print(exc.report(), file=sys.stderr)
        return 1
    except OSError as exc:  # the reports folder filled up or turned read-only: say so, publish nothing
        raise (output_failure(exc, build) or exc) from exc
    finally:
        prepare.finish(helpers, progress)
        if forker is not None:
            forker.close()
        if build.exists():
            shutil.rmtree(build, ignore_errors=True)


def kernel_imports(specs: list[NotebookSpec]) -> str:
    """The import statements of the notebooks ``specs`` (:func:`notebook_imports`), each once."""
    return "\n".join(dict.fromkeys(notebook_imports(spec.source()) for spec in specs))


def notebook_imports(notebook: Path) -> str:
    """The import statements of a notebook (top-level ``import``/``from`` lines of its code cells, a
    statement continued over lines kept whole): what its kernel loads before any work."""
    import nbformat

    nb = nbformat.read(str(notebook), as_version=4)
    lines = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        text = cell.source.splitlines()
        i = 0
        while i < len(text):
            if text[i].startswith(("import ", "from ")):
                block = [text[i]]
                while block[-1].rstrip().endswith(("(", ",", "\\")) and i + 1 < len(text):
                    i += 1
                    block.append(text[i])
                lines.append("\n".join(block))
            i += 1
    return "\n".join(dict.fromkeys(lines))


def warm_caches(kernel: str = KERNEL_NAME) -> dict[str, float]:
    """Do once, at install time, what a first run would otherwise pay for (``make install``).

    * bytecode of the qyb package (``compileall``: a fresh clone has none, and four kernels would
      compile it at the same moment);
    * matplotlib's font list cache and the bundled CJK font, by drawing one labelled figure;
    * the kernel's first start (IPython profile, history database, Jupyter runtime folder) and the
      notebooks' imports, by running a notebook of those imports through papermill once.

    Returns the seconds each step took.
    """
    import compileall
    import io

    steps: dict[str, float] = {}
    t0 = time.perf_counter()
    package = Path(__file__).resolve().parents[1]
    compileall.compile_dir(str(package), quiet=2, workers=1)
    steps["bytecode"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    from matplotlib.figure import Figure

    from qyb.plots.base import use_cjk_font

    use_cjk_font()
    fig = Figure(figsize=(2, 1))
    fig.add_subplot().set_title("平安形势指数 ★★★")
    fig.savefig(io.BytesIO(), format="png")
    steps["fonts"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    ensure_kernel(kernel)
    imports = kernel_imports(REGISTRY)
    with tempfile.TemporaryDirectory() as tmp:
        nb = new_notebook(cells=[new_code_cell(imports)])
        nb.metadata["kernelspec"] = {"name": kernel, "display_name": kernel, "language": "python"}
        source = Path(tmp) / "warm.ipynb"
        nbformat.write(nb, str(source))
        run_papermill(source, Path(tmp) / "warm.out.ipynb", {}, kernel, working_dir=Path(tmp))
    steps["kernel"] = time.perf_counter() - t0
    return steps


if __name__ == "__main__":  # python -m qyb.report.run --install-kernel [--warm]
    flags = set(sys.argv[1:])
    if flags and flags <= {"--install-kernel", "--warm"}:
        print(f"kernel {ensure_kernel()} installed in {sys.prefix}")
        if "--warm" in flags:
            took = warm_caches()
            print("caches warmed: " + ", ".join(f"{k} {v:.1f} s" for k, v in took.items()))
    else:
        print("usage: python -m qyb.report.run --install-kernel [--warm]   (the monthly run itself is `qyb run`)")
