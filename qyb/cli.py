"""The ``qyb`` command: score, validate, methods (and run, the monthly job).

Exit status: 0 success; 2 bad input or bad arguments (one clear message on
stderr, nothing written); 1 anything else.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qyb.errors import InputError, QybError

EXIT_OK, EXIT_ERROR, EXIT_BAD_INPUT = 0, 1, 2


#: the documented ranges of the numeric arguments: Monte Carlo draws (rank intervals need ~100 for a 90 %
#: interval; the method review's Sobol' indices need 1,000, below which their estimates leave [0, 1]) and
#: the random seed (numpy takes any whole number >= 0; 32 bits are what other tools accept too)
DRAWS_RANGE = {"intervals": (100, 100_000), "review": (1_000, 200_000)}
SEED_RANGE = (0, 2 ** 32 - 1)


def _whole_number(lo: int, hi: int, what: str):
    """An argparse type: a whole number within [lo, hi] (full-width digits, ``_`` and ``,`` separators read)."""
    def parse(text: str) -> int:
        import re
        import unicodedata

        clean = unicodedata.normalize("NFKC", text).strip().replace("_", "").replace(",", "")
        if not re.fullmatch(r"[+-]?\d{1,30}", clean):
            raise argparse.ArgumentTypeError(f"'{text}' is not a whole number ({what}: {lo:,} to {hi:,})")
        value = int(clean)
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{value:,} is outside the range of {what} ({lo:,} to {hi:,})")
        return value
    parse.__name__ = what  # argparse names the type in its message
    return parse


def _draws(command: str):
    lo, hi = DRAWS_RANGE[command]
    return _whole_number(lo, hi, "draws")


_seed = _whole_number(*SEED_RANGE, "seed")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse prints usage + message and exits 2
        self.print_usage(sys.stderr)
        print(f"参数错误 (bad arguments): {message}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def _out_path(given: str | None, default: Path) -> Path:
    return Path(given) if given else default


def _check_outputs(args) -> None:
    """Before any work: ``--out`` (a file, or a folder for ``review`` and ``template --department all``) and
    ``--reports`` can be written (:func:`qyb.data.files.check_output_path`); exit 2 otherwise."""
    from qyb.data.files import check_output_path

    folder_out = args.command == "review" or (args.command == "template" and getattr(args, "department", None) == "all")
    if getattr(args, "out", None):
        check_output_path(args.out, "--out", folder=folder_out or (args.command == "template" and Path(args.out).is_dir()))
    if getattr(args, "reports", None):
        check_output_path(args.reports, "--reports", folder=True)


def cmd_score(args) -> int:
    from qyb.data.files import write_csv_pieces_atomic
    from qyb.data.months import parse_month
    from qyb.edition import scorecard_blocks
    from qyb.method import resolve_method
    from qyb.paths import DATA_PROCESSED

    month = parse_month(args.month)
    method = resolve_method(month, args.method)
    out = _out_path(args.out, DATA_PROCESSED / month / f"scorecard_{method.name}.csv")
    stream = scorecard_blocks(month, method, args.data)  # validates first: bad input raises, nothing written
    rows = write_csv_pieces_atomic(stream, out)  # town blocks one at a time (bounded memory at national scale)
    _print_intake_notes(stream.intake, month)
    print(f"scorecard {month} ({method.name}, {rows} units) -> {out}")
    return EXIT_OK


def _print_intake_notes(intake, month: str) -> None:
    """What the reader recognised or ignored in the month's own files (nothing is accepted silently);
    ``intake``: the panel's :class:`~qyb.data.intake.IntakeReport`."""
    lines = intake.summary(intake.read.get(month, []))
    if lines:
        print("注意 (recognised or ignored in the data read; `qyb validate` lists each):", file=sys.stderr)
        print("\n".join("  " + line for line in lines), file=sys.stderr)


def cmd_validate(args) -> int:
    from qyb.data.months import parse_month
    from qyb.data.validate import validate_path

    month = parse_month(args.month) if args.month else None
    if args.method:
        from qyb.method import load_method

        method = load_method(args.method)

        def method_for(m):
            return method
    else:
        from qyb.method import method_for_month as method_for
    result = validate_path(Path(args.path), month, method_for)
    print(result.text())
    result.raise_if_problems()
    return EXIT_OK


def cmd_template(args) -> int:
    from qyb.data.catalogue import load_catalogue
    from qyb.data.months import parse_month
    from qyb.data.panel import SYNTHETIC_MARKER
    from qyb.data.register import read_units
    from qyb.data.template import template_file_name, write_template
    from qyb.errors import ProblemLog
    from qyb.paths import DATA_RAW, PROJECT_ROOT

    month = parse_month(args.month)
    data_dir = Path(args.data) if args.data else DATA_RAW
    entries = None
    if args.method:
        from qyb.method import load_method

        entries = load_method(args.method).measure_entries
    catalogue = load_catalogue(data_dir, entries)
    log = ProblemLog()
    units = read_units(data_dir, log, catalogue=catalogue)
    log.raise_if_any()
    synthetic = (data_dir / SYNTHETIC_MARKER).exists()
    if args.department == "all":
        departments = [d for d in catalogue.departments if catalogue.of_department(d)]
        folder = Path(args.out) if args.out else PROJECT_ROOT / "templates" / month
        targets = [(d, folder / template_file_name(month, d)) for d in departments]
    else:
        d = catalogue.department(args.department) if args.department else None
        default = PROJECT_ROOT / "templates" / template_file_name(month, d)
        targets = [(d, Path(args.out) if args.out else default)]
    for d, out in targets:
        if out.is_dir():
            out = out / template_file_name(month, d)
        write_template(month, units, catalogue, out, d, synthetic)
        print(f"template {month} ({d.name if d else '全镇 town'}) -> {out}")
    return EXIT_OK


def cmd_methods(args) -> int:
    from qyb.method import available_methods, load_method

    methods = [load_method(args.name)] if args.name else available_methods()
    print("\n\n".join(m.describe() for m in methods))
    return EXIT_OK


def _write_table(frame, out: Path, what: str) -> int:
    from qyb.data.files import write_csv_atomic

    write_csv_atomic(frame, out)
    print(f"{what} ({len(frame)} rows) -> {out}")
    return EXIT_OK


def cmd_movements(args) -> int:
    from qyb.data.months import parse_month
    from qyb.edition import read_panel
    from qyb.errors import InputError, Problem
    from qyb.movements.tables import BASELINE_NAMES, movements_all, resolve_indicator
    from qyb.paths import DATA_PROCESSED

    month = parse_month(args.month)
    panel = read_panel(month, args.data)  # a movement needs no scoring method
    indicator = "all" if args.indicator == "all" else resolve_indicator(args.indicator, panel)
    baseline = args.baseline or (None if indicator == "all" else "yoy")
    frame = movements_all(panel, month, None if indicator == "all" else [indicator],
                          None if baseline is None else [baseline])
    if frame.empty:
        which = BASELINE_NAMES[baseline] if baseline else "any baseline"
        raise InputError(Problem(str(panel.data_dir), f"cannot compare {month} against {which}: "
                                 "the baseline months are not in the data",
                                 "Add the baseline months' files, or choose another baseline (--baseline)."))
    default = DATA_PROCESSED / month / f"movements_{indicator}_{baseline or 'all'}.csv"
    code = _write_table(frame, _out_path(args.out, default), f"movements {month}")
    sig = frame[frame["significant"]]
    print(f"q-values over one family: {frame['family'].iat[0]}; significant here: {len(sig)}"
          + "".join(f"\n  {r.unit_name} {r.indicator_name} {r.baseline}: {int(r.count_before)} -> "
                    f"{int(r.count_now)}, q = {r.q_value:.4f}, {r.verdict}" for r in sig.itertuples()))
    return code


def cmd_intervals(args) -> int:
    import qyb
    from qyb.paths import DATA_PROCESSED

    ed = qyb.load(args.month, args.method, args.data)
    frame = ed.rank_intervals(args.draws, args.seed, args.model)
    out = _out_path(args.out, DATA_PROCESSED / ed.month / f"rank_intervals_{ed.method.name}.csv")
    return _write_table(frame, out, f"rank intervals {ed.month} ({args.model}, {args.draws} draws, seed {args.seed})")


def cmd_review(args) -> int:
    import qyb
    from qyb.paths import DATA_PROCESSED
    from qyb.report.tables import write_tables
    from qyb.review.summary import check_schemes

    check_schemes([t.strip() for t in args.schemes.split(",") if t.strip()])  # before any work
    ed = qyb.load(args.month, args.method, args.data)
    fairness = "" if args.fairness.strip().lower() == "none" else args.fairness
    review = ed.review(args.methods, args.schemes, draws=args.draws, seed=args.seed, fairness=fairness,
                       fairness_size=args.fairness_size, unit=args.unit or None)
    out = _out_path(args.out, DATA_PROCESSED / ed.month / "review")
    paths = write_tables(review.tables(), out / "tables")
    print(f"method review {ed.month} ({review.method.name}, {args.draws} draws) -> "
          + ", ".join(str(p) for p in paths.values()))
    return EXIT_OK


def cmd_store(args) -> int:
    from qyb.data.store import default_store

    store = default_store()
    if store is None:
        print("processed store: off (QYB_STORE)")
        return EXIT_OK
    if args.clear:
        print(f"processed store {store.root}: {store.clear()} entries deleted (rebuilt from the raw files on demand)")
        return EXIT_OK
    if args.prune is not None:
        print(f"processed store {store.root}: {store.prune(args.prune)} entries not read for {args.prune:g} days "
              "deleted")
        return EXIT_OK
    entries = store.entries()
    print(f"processed store {store.root}: {len(entries)} entries, "
          f"{sum(e['bytes'] for e in entries) / 1e6:.1f} MB")
    for e in entries:
        months = f"{e['months'][0]}..{e['months'][-1]}" if e["months"] else "?"
        print(f"  {e['entry'][:12]}  {e['units']} units x {len(e['months'])} months ({months})  "
              f"{e['bytes'] / 1e6:.1f} MB  tables: {len(e['tables'])}  written {e['written']}  {e['data_dir']}")
    return EXIT_OK


def cmd_run(args) -> int:
    from qyb.report.run import run_month

    return run_month(args)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="qyb", description="平安晴雨表 analytics: score, validate, report.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p = sub.add_parser("score", help="write the scorecard of one month as CSV")
    p.add_argument("--month", required=True, help="YYYY-MM")
    p.add_argument("--method", help="method name (methods/NAME.yaml) or path; default: the one in force")
    p.add_argument("--data", help="raw data folder (default: the shipped sample in data/raw)")
    p.add_argument("--out", help="output CSV (default: data/processed/YYYY-MM/scorecard_METHOD.csv)")
    p.set_defaults(func=cmd_score)
    p = sub.add_parser("validate", help="check a raw data folder or file and report every problem, and that "
                       "every month scoring reads is present and complete")
    p.add_argument("path")
    p.add_argument("--month", help="YYYY-MM: check this month and the months its scoring reads (default: every "
                   "month the method in force scores)")
    p.add_argument("--method", help="method name or path (default: the one in force in each month)")
    p.set_defaults(func=cmd_validate)
    p = sub.add_parser("template", help="write the XLSX fill-in template the office sends out for a month")
    p.add_argument("--month", required=True, help="YYYY-MM")
    p.add_argument("--department", help="a department (派出所, 交警, ...; 'all' for one workbook each); "
                   "default: one workbook for the whole town")
    p.add_argument("--data", help="raw data folder with units.csv (default: the shipped sample)")
    p.add_argument("--method", help="also the measures this method spec declares")
    p.add_argument("--out", help="output XLSX (a folder with --department all); default templates/")
    p.set_defaults(func=cmd_template)
    p = sub.add_parser("methods", help="describe the method specs")
    p.add_argument("name", nargs="?")
    p.set_defaults(func=cmd_methods)
    from qyb.vocab import BASELINES

    p = sub.add_parser("movements", help="is a movement real? rate ratios and intervals allowing for overdispersion, "
                                         "the unit's long-run level, one q-value family, verdicts")
    p.add_argument("--month", required=True, help="YYYY-MM")
    p.add_argument("--indicator", default="fraud_alerts",
                   help="count measure by code, Chinese name or alias (default fraud_alerts 电诈警情; a measure the "
                        "data folder's catalogue.yaml adds with movements: true counts too); all: every count x "
                        "every baseline")
    p.add_argument("--baseline", choices=list(BASELINES),
                   help="mom | yoy | 3m (default: yoy for one indicator, all three for --indicator all)")
    p.add_argument("--data")
    p.add_argument("--out", help="output CSV (default: data/processed/YYYY-MM/movements_...csv)")
    p.set_defaults(func=cmd_movements)
    p = sub.add_parser("intervals", help="rank intervals by resampling the month's counts")
    p.add_argument("--month", required=True, help="YYYY-MM")
    p.add_argument("--method")
    p.add_argument("--data")
    p.add_argument("--draws", type=_draws("intervals"), default=2000,
                   help="posterior draws, {} to {} (default 2000)".format(*DRAWS_RANGE["intervals"]))
    p.add_argument("--seed", type=_seed, default=20230301, help="random seed, a whole number 0 to 2**32-1")
    p.add_argument("--model", choices=["posterior", "bootstrap"], default="posterior",
                   help="posterior: calibrated intervals of the true rank (default); bootstrap: the month's counts "
                        "resampled (qyb's first intervals, for comparison)")
    p.add_argument("--out", help="output CSV (default: data/processed/YYYY-MM/rank_intervals_METHOD.csv)")
    p.set_defaults(func=cmd_intervals)
    p = sub.add_parser("review", help="method review: weights, Monte Carlo, Sobol, v1/v2 comparison, reliability")
    p.add_argument("--month", required=True, help="YYYY-MM")
    p.add_argument("--method", help="method reviewed (default: the one in force)")
    p.add_argument("--methods", default="v1,v2", help="methods compared, first vs last (default v1,v2)")
    p.add_argument("--schemes", default="equal,entropy,critic,pca", help="weighting schemes to try")
    p.add_argument("--data")
    p.add_argument("--draws", type=_draws("review"), default=10000,
                   help="Monte Carlo draws over the method choices, {} to {} (default 10000)".format(
                       *DRAWS_RANGE["review"]))
    p.add_argument("--seed", type=_seed, default=0, help="random seed, a whole number 0 to 2**32-1")
    p.add_argument("--fairness", default="v1,v2,v3",
                   help="methods compared on reliability and fair stars -> tables/reliability.csv (default v1,v2,v3; "
                        "none to skip)")
    p.add_argument("--fairness-size", choices=["quick", "standard", "full"], default="standard",
                   help="simulation sizes of the fairness figures (default standard)")
    p.add_argument("--unit", help="unit whose story the fairness section tells (id or name)")
    p.add_argument("--out", help="output folder for the tables (default: data/processed/YYYY-MM/review)")
    p.set_defaults(func=cmd_review)
    p = sub.add_parser("store", help="list (--clear, --prune DAYS) the processed store: validated panels, scorecards")
    p.add_argument("--clear", action="store_true", help="delete every entry (they are rebuilt on demand)")
    p.add_argument("--prune", type=float, metavar="DAYS", help="delete the entries not read for DAYS days")
    p.set_defaults(func=cmd_store)
    p = sub.add_parser("run", help="the monthly job: notebooks -> reports/YYYY-MM/")
    p.add_argument("--month", help="YYYY-MM")
    p.add_argument("--latest", action="store_true", help="the latest month in the data")
    p.add_argument("--method")
    p.add_argument("--data")
    p.add_argument("--reports", help="reports folder (default: reports/)")
    p.add_argument("--office", help="office settings YAML: issuer and 预警 rules (default: qyb/report/office.yaml)")
    p.add_argument("--republish", action="store_true",
                   help="replace a month already published with different figures (noted in run.json)")
    p.add_argument("--kernels", choices=("forked", "fresh"),
                   help="how the notebooks' kernels start: forked from one process that has imported qyb "
                        "(default, faster) or each fresh (environment: QYB_KERNELS)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        _check_outputs(args)
        return _quiet_numerics(args.func, args)
    except InputError as exc:
        print(exc.message(), file=sys.stderr)
        return EXIT_BAD_INPUT
    except QybError as exc:
        print(f"错误 (error): {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return EXIT_ERROR
    except Exception as exc:  # anything else: one line, not a traceback, unless asked
        if "QYB_DEBUG" in __import__("os").environ:
            raise
        print(f"错误 (error): {type(exc).__name__}: {exc} (set QYB_DEBUG=1 for the traceback)", file=sys.stderr)
        return EXIT_ERROR


def _quiet_numerics(func, args) -> int:
    """Run a command with numpy's floating-point warnings kept off the terminal: they become one note
    (how many, the first message) on stderr; ``QYB_DEBUG=1`` shows them as Python would."""
    import os
    import warnings

    if "QYB_DEBUG" in os.environ:
        return func(args)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        code = func(args)
    numeric = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    if numeric:
        first = str(numeric[0].message)
        print(f"注意 (note): 计算中出现 {len(numeric)} 次数值警告，结果已按规则校验 ({len(numeric)} numeric warning(s) "
              f"during the computation, e.g. '{first}'; the results passed qyb's checks; QYB_DEBUG=1 shows them)",
              file=sys.stderr)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
