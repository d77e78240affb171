"""Months as 'YYYY-MM' strings, parsed strictly, with integer arithmetic for lags."""
from __future__ import annotations

import re

from qyb.errors import InputError, Problem

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(text: str, source: str = "--month") -> str:
    """Return the canonical 'YYYY-MM' or raise InputError naming the rule."""
    m = _MONTH.match(str(text).strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise InputError(Problem(source, f"'{text}' is not a month", "Write the month as YYYY-MM, e.g. 2023-03."))
    return f"{m.group(1)}-{m.group(2)}"


def month_number(month: str) -> int:
    """'2023-03' -> 2023*12 + 2, so that lags are integer differences."""
    year, mon = month.split("-")
    return int(year) * 12 + int(mon) - 1


def month_from_number(n: int) -> str:
    return f"{n // 12:04d}-{n % 12 + 1:02d}"


def add_months(month: str, k: int) -> str:
    return month_from_number(month_number(month) + k)


def month_range(first: str, last: str) -> list[str]:
    return [month_from_number(n) for n in range(month_number(first), month_number(last) + 1)]
