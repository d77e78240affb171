"""Months as 'YYYY-MM' strings, parsed strictly, with integer arithmetic for lags; and the month a cell or a
name states in the ways offices write it ('2023年3月', '2023/3/1', an Excel date serial)."""
from __future__ import annotations

import datetime as _dt
import re
import unicodedata

from qyb.errors import InputError, Problem

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_STATED = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})(\s*月(份)?)?([-/.]\d{1,2}(日)?(\s.*)?)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})$")
_IN_TEXT = re.compile(r"(\d{4})\s*(?:年|-|/|\.)\s*(\d{1,2})\s*(?:月|(?=\D|$))")
#: Excel and WPS count days from 1899-12-30 (the 1900 leap-year bug included); serials of 1954..2119
EXCEL_EPOCH = _dt.date(1899, 12, 30)
_SERIAL = re.compile(r"^(\d{5})(\.0+)?$")


def parse_month(text: str, source: str = "--month") -> str:
    """Return the canonical 'YYYY-MM' or raise InputError naming the rule.

    Full-width digits and dashes (``２０２３－０３``, as Chinese input methods type them) and spaces
    (``2023 - 03``) are normalised first; the month must then read ``YYYY-MM``.
    """
    clean = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text)))
    m = _MONTH.match(clean)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise InputError(Problem(source, f"'{text}' is not a month", "Write the month as YYYY-MM, e.g. 2023-03.",
                                 zh=f"“{text}”不是月份", hint_zh="请按 YYYY-MM 填写，如 2023-03。",
                                 code="not_a_month"))
    return f"{m.group(1)}-{m.group(2)}"


def stated_month(text: str) -> str | None:
    """The month a cell states: '2023-3', '2023/03', '2023-03-01', '2023年3月', '202303' or an Excel date
    serial such as 44986 (2023-03-01); None when the text is none of these."""
    text = text.strip()
    m = _STATED.match(text) or _COMPACT.match(text)
    if m and 1 <= int(m.group(2)) <= 12:
        return f"{m.group(1)}-{int(m.group(2)):02d}"
    s = _SERIAL.match(text)
    if s and 20000 <= int(s.group(1)) <= 80000:
        day = EXCEL_EPOCH + _dt.timedelta(days=int(s.group(1)))
        return f"{day.year:04d}-{day.month:02d}"
    return None


def months_in_text(text: str) -> list[str]:
    """Every 'YYYY年M月' / 'YYYY-MM' a free text (a title row) names, canonical."""
    return [f"{y}-{int(mo):02d}" for y, mo in _IN_TEXT.findall(text) if 1 <= int(mo) <= 12]


_CN_MONTHS = ("一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二")


def names_month(name: str, month: str) -> bool:
    """True when a sheet name names ``month``: '2023-03', '2023年3月', '202303', '3月', '03月', '三月'."""
    clean = re.sub(r"\s+", "", unicodedata.normalize("NFKC", name))
    if stated_month(clean) == month:
        return True
    mon = int(month[5:])
    return clean in (f"{mon}月", f"{mon:02d}月", f"{_CN_MONTHS[mon - 1]}月", f"{mon}月份", f"{_CN_MONTHS[mon - 1]}月份")


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
