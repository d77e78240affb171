"""The ``qyb`` command: score, validate, methods (and run, the monthly job).

Exit status: 0 success; 2 bad input or bad arguments (one clear message on
stderr, nothing written); 1 anything else.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qyb.errors import InputError

EXIT_OK, EXIT_ERROR, EXIT_BAD_INPUT = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse prints usage + message and exits 2
        self.print_usage(sys.stderr)
        print(f"参数错误 (bad arguments): {message}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def cmd_score(args) -> int:
    from qyb.io import write_csv_atomic
    from qyb.months import parse_month
    from qyb.paths import DATA_PROCESSED
    from qyb.scorecard import scorecard_for

    month = parse_month(args.month)
    card = scorecard_for(month, args.method, args.data)
    out = Path(args.out) if args.out else DATA_PROCESSED / month / f"scorecard_{card['method'].iat[0]}.csv"
    write_csv_atomic(card, out)
    print(f"scorecard {month} ({card['method'].iat[0]}, {len(card)} units) -> {out}")
    return EXIT_OK


def cmd_validate(args) -> int:
    from qyb.validate import validate_path

    print(validate_path(Path(args.path)))
    return EXIT_OK


def cmd_methods(args) -> int:
    from qyb.method import available_methods, load_method

    methods = [load_method(args.name)] if args.name else available_methods()
    print("\n\n".join(m.describe() for m in methods))
    return EXIT_OK


def cmd_run(args) -> int:
    from qyb.run import run_month

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
    p = sub.add_parser("validate", help="check a raw data folder or file and report every problem")
    p.add_argument("path")
    p.set_defaults(func=cmd_validate)
    p = sub.add_parser("methods", help="describe the method specs")
    p.add_argument("name", nargs="?")
    p.set_defaults(func=cmd_methods)
    p = sub.add_parser("run", help="the monthly job: notebooks -> reports/YYYY-MM/")
    p.add_argument("--month", help="YYYY-MM")
    p.add_argument("--latest", action="store_true", help="the latest month in the data")
    p.add_argument("--method")
    p.add_argument("--data")
    p.add_argument("--reports", help="reports folder (default: reports/)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except InputError as exc:
        print(exc.message(), file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return EXIT_ERROR
    except Exception as exc:  # anything else: one line, not a traceback, unless asked
        if "QYB_DEBUG" in __import__("os").environ:
            raise
        print(f"错误 (error): {type(exc).__name__}: {exc} (set QYB_DEBUG=1 for the traceback)", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    raise SystemExit(main())
