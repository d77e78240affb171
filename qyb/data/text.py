"""Text of cells as offices type it, made comparable: full-width characters, invisible characters,
wrapped headers and units in headers.

* :func:`clean_cell` -- NFKC (full-width digits and brackets ``１２（宗）`` -> ``12(宗)``, the
  ideographic space -> a space), invisible characters removed (zero-width space U+200B and its kin,
  the BOM, soft hyphens, bidi marks), outer spaces stripped;
* :func:`header_key` -- the form headers are matched in: no spaces or line breaks (Alt+Enter in
  Excel wraps ``刑事治安\\n警情``), ASCII lower case, a trailing unit of measure in brackets
  (``（宗）``, ``(起)``, ``[人]``, ``(单位:间)``) split off and returned beside the key.
"""
from __future__ import annotations

import functools
import re
import unicodedata

__all__ = ["INVISIBLE", "clean_cell", "header_key", "column_letter", "cell_name", "shorten"]

#: zero-width and other invisible format characters (Unicode category Cf, the ones text editors and web
#: pages leave in copied text) and the soft hyphen; removed from every cell
INVISIBLE = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e"
                       "\u2060-\u2064\u206a-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]")
_SPACE = re.compile(r"\s+")
_UNIT_SUFFIX = re.compile(r"^(?P<key>.+?)[(\[【]\s*(?:单位\s*[:：]?\s*)?(?P<unit>[^()\[\]【】]{1,4})\s*[)\]】]$")
_UNIT_SLASH = re.compile(r"^(?P<key>.+?)/(?P<unit>[^/]{1,2})$")


def clean_cell(text: str) -> tuple[str, bool]:
    """``(clean text, whether invisible characters were removed)``."""
    if text.isascii():
        return text.strip(), False
    clean = unicodedata.normalize("NFKC", text)
    stripped = INVISIBLE.sub("", clean)
    return stripped.strip(), stripped != clean


@functools.lru_cache(maxsize=8192)
def _header_key(text: str, unit_words: tuple[str, ...]) -> tuple[str, str | None]:
    key = _SPACE.sub("", clean_cell(text)[0]).lower()
    for pattern in (_UNIT_SUFFIX, _UNIT_SLASH):
        m = pattern.match(key)
        if m and m.group("unit") in unit_words:
            return m.group("key"), m.group("unit")
    return key, None


def header_key(text: str, unit_words=()) -> tuple[str, str | None]:
    """``(key, unit)``: the header without spaces and line breaks, lower-cased, and the unit of measure in
    trailing brackets when it is one of ``unit_words`` (the catalogue's; none split off by default).

    ``村(社区)名称`` keeps its brackets (社区 is not a unit of measure); ``刑事治安警情（宗）`` ->
    ``('刑事治安警情', '宗')``; ``火灾(单位:起)`` -> ``('火灾', '起')``; ``反诈预警/条`` -> ``('反诈预警', '条')``.
    """
    return _header_key(text, tuple(unit_words))


def column_letter(j: int) -> str:
    """0 -> 'A', 25 -> 'Z', 26 -> 'AA' (as spreadsheets name columns)."""
    out = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        out = chr(65 + r) + out
    return out


def cell_name(column: int, row: int) -> str:
    """The spreadsheet's name of a cell: column index 2, row 7 -> 'C7'."""
    return f"{column_letter(column)}{row}"


def shorten(text: str, width: int = 40) -> str:
    """A cell's text for a message: at most ``width`` characters, an ellipsis when cut."""
    text = _SPACE.sub(" ", text)
    return text if len(text) <= width else text[: width - 1] + "…"
