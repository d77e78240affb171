"""The catalogue of raw measures (指标目录) and the unit register's columns.

The measures are data: :file:`qyb/data/catalogue.yaml` declares today's 20
(code, Chinese name, aliases, kind, unit of measure, reporting department,
blank-as-zero, plausibility limits). A data folder's own ``catalogue.yaml``
(beside ``units.csv``) and a method spec's ``measures:`` list add measures or
override fields of existing ones, in that order::

    cat = load_catalogue(data_dir, method_measures)   # shipped <- data folder <- method spec
    cat.codes, cat["fires"].unit, cat.in_force("2024-01"), cat.header_table()

A raw month file has one row per unit and one column per measure; a column
header may be the code, the Chinese name or an alias (matched after removing
spaces, line breaks and a unit such as ``（宗）``). ``handled`` measures name
their ``total``: handled <= total in every row.

The module constants :data:`MEASURES`, :data:`MEASURE_BY_CODE`,
:data:`MEASURE_CODES` and :data:`COUNT_INDICATORS` are the shipped catalogue's.
"""
from __future__ import annotations

import copy
import difflib
import functools
from dataclasses import dataclass, field, replace
from pathlib import Path

from qyb.data.months import parse_month
from qyb.data.text import header_key
from qyb.errors import InputError, Problem

__all__ = ["Measure", "Department", "Catalogue", "UnitColumn", "KINDS", "CATALOGUE_FILE", "SHIPPED_CATALOGUE",
           "load_catalogue", "shipped_catalogue", "measure_of", "MEASURES", "MEASURE_BY_CODE", "MEASURE_CODES",
           "COUNT_INDICATORS", "UNIT_COLUMNS", "MONTH_FILE_ID_COLUMNS", "header_aliases", "unit_header_aliases",
           "ROW_NUMBER_HEADERS", "NOTE_HEADERS", "TOTAL_ROW_LABELS", "suggest"]

#: the file name of a data folder's own catalogue (beside units.csv)
CATALOGUE_FILE = "catalogue.yaml"
SHIPPED_CATALOGUE = Path(__file__).with_name("catalogue.yaml")
#: kind -> what it is (see catalogue.yaml)
KINDS = {"count": "event count", "total": "total of a handled-of-total pair",
         "handled": "handled part of a pair (<= its total)", "amount": "any number >= 0"}
_MEASURE_KEYS = {"code", "name", "aliases", "kind", "total", "unit", "department", "blank_is_zero",
                 "max_per_capita", "from", "until", "movements", "description"}
_TOP_KEYS = {"limits", "register", "unit_words", "equivalent_units", "departments", "measures"}


@dataclass(frozen=True)
class Measure:
    code: str
    name: str
    aliases: tuple[str, ...] = ()
    total: str | None = None  # for a "handled" measure: the measure it may not exceed
    kind: str = "count"
    unit: str = ""
    department: str = ""
    blank_is_zero: bool = False
    max_per_capita: float | None = None
    first: str | None = None  # first month collected (YAML key `from`)
    last: str | None = None  # last month collected (YAML key `until`)
    movements: bool = False
    description: str = ""

    @property
    def whole(self) -> bool:
        """Counts, totals and handled figures are whole numbers; amounts need not be."""
        return self.kind != "amount"

    def collected_in(self, month: str) -> bool:
        return (self.first is None or self.first <= month) and (self.last is None or month <= self.last)

    @property
    def label(self) -> str:
        """``code (中文名)``: how messages name the measure."""
        return f"{self.code} ({self.name})"

    @property
    def header(self) -> str:
        """The template's column header: Chinese name and unit, 刑事治安警情（宗）."""
        return f"{self.name}（{self.unit}）" if self.unit else self.name


@dataclass(frozen=True)
class Department:
    code: str
    name: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Catalogue:
    """The measures a data folder may carry, with the limits they are checked against."""

    measures: tuple[Measure, ...]
    departments: tuple[Department, ...] = ()
    limits: dict = field(default_factory=dict)
    register: dict = field(default_factory=dict)
    unit_words: tuple[str, ...] = ()
    equivalent_units: tuple[tuple[str, ...], ...] = ()
    sources: tuple[str, ...] = ()  # the files it was built from, shipped first

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_code", {m.code: m for m in self.measures})

    # ------------------------------------------------------------ lookup
    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(m.code for m in self.measures)

    def __getitem__(self, code: str) -> Measure:
        return self._by_code[code]

    def __contains__(self, code) -> bool:
        return code in self._by_code

    def __iter__(self):
        return iter(self.measures)

    def __len__(self) -> int:
        return len(self.measures)

    def in_force(self, month: str) -> tuple[Measure, ...]:
        """The measures collected in ``month`` (a month file must carry each of them)."""
        return tuple(m for m in self.measures if m.collected_in(month))

    def movement_counts(self) -> tuple[str, ...]:
        return tuple(m.code for m in self.measures if m.movements)

    def department(self, key: str) -> Department:
        """A department by code, name or alias; InputError with the closest ones otherwise."""
        wanted = header_key(key)[0]
        for d in self.departments:
            if wanted in {header_key(x)[0] for x in (d.code, d.name, *d.aliases)}:
                return d
        names = [d.name for d in self.departments]
        close = suggest(key, names + [d.code for d in self.departments])
        raise InputError(Problem("--department", f"unknown department '{key}'",
                                 f"Use one of: {', '.join(f'{d.name} ({d.code})' for d in self.departments)}.",
                                 zh=f"未知的报送部门“{key}”" + (f"，是否为“{close[0]}”？" if close else ""),
                                 hint_zh="请使用：" + "、".join(names) + "。", code="unknown_department"))

    def of_department(self, department: Department | None) -> tuple[Measure, ...]:
        return self.measures if department is None else tuple(m for m in self.measures
                                                              if m.department == department.code)

    def department_name(self, code: str) -> str:
        return next((d.name for d in self.departments if d.code == code), code)

    def units_agree(self, stated: str, unit: str) -> bool:
        """A header's unit agrees with the measure's: the same word, or one of the same row of equivalents."""
        if not unit or stated == unit:
            return True
        return any(stated in row and unit in row for row in self.equivalent_units)

    def header_table(self) -> dict[str, str]:
        """Every accepted header of a month file (normalised by :func:`qyb.data.text.header_key`) -> code."""
        table: dict[str, str] = {}
        for col in MONTH_FILE_ID_COLUMNS:
            for label in (col.code, col.name, *col.aliases):
                table[header_key(label)[0]] = col.code
        for m in self.measures:
            for label in (m.code, m.name, *m.aliases):
                table[header_key(label)[0]] = m.code
        return table

    def limit(self, key: str):
        return self.limits[key]

    # ------------------------------------------------------------ extension
    def extended(self, entries, source: str) -> Catalogue:
        """The catalogue with ``entries`` (a list of measure mappings or bare codes) added or overriding.

        A mapping with a known code replaces the fields it gives; a new code adds a measure (``name``
        and ``kind`` default to the code and ``amount`` for a bare code, as a method declaring raw
        inputs it brings itself). Raises InputError naming ``source`` and the key.
        """
        return _extend(self, {"measures": entries}, source)


# ---------------------------------------------------------------- loading
def _fail(source: str, key: str, rule: str, hint: str, zh: str | None = None) -> InputError:
    return InputError(Problem(source, f"key '{key}': {rule}", hint, zh=zh, code="bad_catalogue"))


def _read_yaml(path: Path):
    from qyb.data.yamlfile import read_yaml

    return read_yaml(path, code="bad_catalogue")


def _month(value, source: str, key: str) -> str | None:
    if value is None:
        return None
    return parse_month(str(value), f"{source}: key '{key}'")


def _number(value, source: str, key: str, minimum: float = 0.0, whole: bool = False):
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value == value \
        and abs(value) != float("inf") and value >= minimum and (not whole or float(value).is_integer())
    if not ok:
        rule = f"{value!r} is not a {'whole ' if whole else ''}number >= {minimum:g}"
        raise _fail(source, key, rule, "Give a finite number.")
    return value


def _extend(base: Catalogue, doc, source: str) -> Catalogue:
    """Apply one catalogue document (the shipped one onto an empty catalogue, or an extension)."""
    if doc is None:
        return replace(base, sources=(*base.sources, source))
    if not isinstance(doc, dict):
        raise _fail(source, "<top>", "the catalogue is not a mapping", "Write keys: measures, departments, ...")
    unknown = sorted(set(doc) - _TOP_KEYS)
    if unknown:
        raise _fail(source, unknown[0], "unknown key (a typo?)", f"Allowed here: {', '.join(sorted(_TOP_KEYS))}.")
    limits = dict(base.limits)
    for key, value in (doc.get("limits") or {}).items():
        if key not in _DEFAULT_LIMITS:
            raise _fail(source, f"limits.{key}", "unknown key (a typo?)", f"Allowed: {', '.join(_DEFAULT_LIMITS)}.")
        limits[key] = _number(value, source, f"limits.{key}", minimum=0, whole=key != "max_per_capita")
    register = dict(base.register)
    for key, value in (doc.get("register") or {}).items():
        if key == "unit_types":
            if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
                raise _fail(source, "register.unit_types", "must be a list of names", "E.g. [村, 社区].")
            register[key] = tuple(value)
        elif key == "population_min":
            register[key] = _number(value, source, "register.population_min", minimum=1, whole=True)
        else:
            raise _fail(source, f"register.{key}", "unknown key (a typo?)", "Allowed: unit_types, population_min.")
    words = tuple(dict.fromkeys([*base.unit_words, *(str(w) for w in doc.get("unit_words") or [])]))
    equivalent = (*base.equivalent_units, *(tuple(str(w) for w in row) for row in doc.get("equivalent_units") or []))
    departments = {d.code: d for d in base.departments}
    for n, d in enumerate(doc.get("departments") or []):
        if not isinstance(d, dict) or not isinstance(d.get("code"), str) or not isinstance(d.get("name"), str):
            raise _fail(source, f"departments[{n}]", "needs a code and a name", "E.g. {code: police, name: 派出所}.")
        departments[d["code"]] = Department(d["code"], d["name"], tuple(str(a) for a in d.get("aliases") or []))
    measures = {m.code: m for m in base.measures}
    entries = doc.get("measures") or []
    if not isinstance(entries, list):
        raise _fail(source, "measures", "must be a list", "List the measures, one mapping each.")
    for n, entry in enumerate(entries):
        where = f"measures[{n}]"
        if isinstance(entry, str):
            entry = {"code": entry}
        if not isinstance(entry, dict) or not isinstance(entry.get("code"), str) or not entry["code"]:
            raise _fail(source, f"{where}.code", "missing", "Give every measure an ASCII code, e.g. drug_users.")
        bad = sorted(set(entry) - _MEASURE_KEYS)
        if bad:
            close = difflib.get_close_matches(bad[0], sorted(_MEASURE_KEYS), n=1)
            raise _fail(source, f"{where}.{bad[0]}", "unknown key (a typo?)" + (f" did you mean '{close[0]}'?"
                                                                                 if close else ""),
                        f"Allowed: {', '.join(sorted(_MEASURE_KEYS))}.")
        code = entry["code"]
        if not code.isascii() or not code.replace("_", "").isalnum():
            raise _fail(source, f"{where}.code", f"'{code}' is not an ASCII code (letters, digits, _)",
                        "Codes are what method specs name; the Chinese name goes in `name`.")
        old = measures.get(code)
        measures[code] = _measure(entry, old, source, where)
    catalogue = Catalogue(tuple(measures.values()), tuple(departments.values()), limits, register, words,
                          equivalent, (*base.sources, source))
    _check_consistent(catalogue, source)
    return catalogue


def _measure(entry: dict, old: Measure | None, source: str, where: str) -> Measure:
    fields = {} if old is None else {
        "name": old.name, "aliases": old.aliases, "total": old.total, "kind": old.kind, "unit": old.unit,
        "department": old.department, "blank_is_zero": old.blank_is_zero, "max_per_capita": old.max_per_capita,
        "first": old.first, "last": old.last, "movements": old.movements, "description": old.description}
    given = dict(entry)
    if old is None:
        given.setdefault("name", entry["code"])
        given.setdefault("kind", "amount" if set(entry) == {"code"} else "count")
    for key in ("name", "unit", "department", "description", "total"):
        if key in given:
            if given[key] is not None and not isinstance(given[key], (str, int)):
                raise _fail(source, f"{where}.{key}", "must be text", "Fix the value.")
            fields[key] = None if given[key] is None and key == "total" else str(given[key] or "")
    if "aliases" in given:
        if not isinstance(given["aliases"], list):
            raise _fail(source, f"{where}.aliases", "must be a list", "E.g. [信访件数, 信访量].")
        fields["aliases"] = tuple(str(a) for a in given["aliases"])
    if "kind" in given:
        if given["kind"] not in KINDS:
            raise _fail(source, f"{where}.kind", f"'{given['kind']}' is not one of {', '.join(KINDS)}",
                        "; ".join(f"{k}: {v}" for k, v in KINDS.items()) + ".")
        fields["kind"] = given["kind"]
    for key in ("blank_is_zero", "movements"):
        if key in given:
            if not isinstance(given[key], bool):
                raise _fail(source, f"{where}.{key}", "must be true or false", "Fix the value.")
            fields[key] = given[key]
    if "max_per_capita" in given:
        value = given["max_per_capita"]
        fields["max_per_capita"] = None if value is None else float(
            _number(value, source, f"{where}.max_per_capita", minimum=0))
    if "from" in given:
        fields["first"] = _month(given["from"], source, f"{where}.from")
    if "until" in given:
        fields["last"] = _month(given["until"], source, f"{where}.until")
    return Measure(entry["code"], **fields)


def _check_consistent(cat: Catalogue, source: str) -> None:
    departments = {d.code for d in cat.departments}
    seen: dict[str, str] = {}
    for col in MONTH_FILE_ID_COLUMNS:
        for label in (col.code, col.name, *col.aliases):
            seen[header_key(label)[0]] = col.code
    for n, m in enumerate(cat.measures):
        where = f"measures[{n}] ({m.code})"
        if m.kind == "handled":
            if m.total not in cat or cat[m.total].kind not in ("total", "count"):
                raise _fail(source, f"{where}.total", f"'{m.total}' is not a count or total measure",
                            "A handled measure names the measure it may not exceed, e.g. total: disputes_received.")
        elif m.total:
            raise _fail(source, f"{where}.total", f"only a handled measure has a total (kind is {m.kind})",
                        "Set kind: handled, or remove total.")
        if m.department and departments and m.department not in departments:
            raise _fail(source, f"{where}.department", f"'{m.department}' is not a department code",
                        f"Use one of: {', '.join(sorted(departments))}, or add it under departments.")
        if m.first and m.last and m.last < m.first:
            raise _fail(source, f"{where}.until", f"{m.last} is before from {m.first}", "Fix the months.")
        for label in (m.code, m.name, *m.aliases):
            key = header_key(label)[0]
            if seen.get(key, m.code) != m.code:
                raise _fail(source, f"{where}", f"header '{label}' also means {seen[key]}",
                            "Every name and alias must point to one measure.")
            seen[key] = m.code


def measure_of(code: str, catalogue: Catalogue | None = None) -> Measure | None:
    """The measure ``code`` in ``catalogue`` (a panel's, which knows what a data folder or spec added),
    else in the shipped catalogue; None for a code neither knows."""
    if catalogue is not None and code in catalogue:
        return catalogue[code]
    shipped = shipped_catalogue()
    return shipped[code] if code in shipped else None


_DEFAULT_LIMITS = {"max_count": 2 ** 53, "max_per_capita": 1.0, "rows_per_unit": 4, "spare_rows": 200,
                   "max_columns": 400, "max_cell_chars": 2000}


@functools.lru_cache(maxsize=1)
def shipped_catalogue() -> Catalogue:
    """The catalogue shipped with qyb (:file:`qyb/data/catalogue.yaml`), parsed once."""
    empty = Catalogue((), (), dict(_DEFAULT_LIMITS), {"unit_types": ("村", "社区"), "population_min": 1})
    return _extend(empty, _read_yaml(SHIPPED_CATALOGUE), str(SHIPPED_CATALOGUE))


@functools.lru_cache(maxsize=32)
def _folder_catalogue(path: str, mtime_ns: int, size: int) -> Catalogue:
    return _extend(shipped_catalogue(), _read_yaml(Path(path)), path)


def load_catalogue(data_dir: Path | str | None = None, extra=None, extra_source: str = "method spec") -> Catalogue:
    """The shipped catalogue, extended by ``data_dir/catalogue.yaml`` (if any) and by ``extra`` (a method
    spec's ``measures:`` list, named ``extra_source`` in messages)."""
    cat = shipped_catalogue()
    if data_dir is not None:
        path = Path(data_dir) / CATALOGUE_FILE
        if path.is_file():
            stat = path.stat()
            cat = _folder_catalogue(str(path), stat.st_mtime_ns, stat.st_size)
    if extra:
        cat = cat.extended(copy.deepcopy(list(extra)), extra_source)
    return cat


def suggest(word: str, candidates, n: int = 3) -> list[str]:
    """The closest of ``candidates`` to ``word``: by characters (difflib) and by containment (永宁 in
    永宁社区), each normalised as headers are; best first, without repeats."""
    key = header_key(word)[0]
    if not key:
        return []
    keyed = {}
    for c in candidates:
        keyed.setdefault(header_key(str(c))[0], str(c))
    contained = [c for k, c in keyed.items() if k and (key in k or k in key) and len(min(k, key, key=len)) >= 2]
    close = [keyed[k] for k in difflib.get_close_matches(key, list(keyed), n=n, cutoff=0.5)]
    return list(dict.fromkeys(contained + close))[:n]


# ---------------------------------------------------------------- the register and id columns
@dataclass(frozen=True)
class UnitColumn:
    code: str
    name: str
    kind: str  # "id", "text", "number" or "month"
    required: bool = True
    aliases: tuple[str, ...] = ()


UNIT_COLUMNS: tuple[UnitColumn, ...] = (
    UnitColumn("unit_id", "单位编码", "id", aliases=("编码", "村居编码")),
    UnitColumn("unit_name", "村(社区)名称", "text", aliases=("名称", "村居名称", "单位名称")),
    UnitColumn("unit_type", "类型", "text", aliases=("村/社区",)),
    UnitColumn("town", "镇街", "text", aliases=("镇", "所属镇街")),
    UnitColumn("former_town", "原属镇", "text", required=False),
    UnitColumn("population", "常住人口", "number", aliases=("常住人口数",)),
    UnitColumn("floating_population", "流动人口", "number", required=False, aliases=("流动人口数",)),
    UnitColumn("rental_rooms", "出租屋间数", "number", required=False, aliases=("出租屋",)),
    UnitColumn("area_km2", "面积(平方公里)", "number", required=False, aliases=("面积",)),
    UnitColumn("valid_from", "启用月份", "month", required=False, aliases=("设立月份", "起始月份")),
    UnitColumn("valid_to", "停用月份", "month", required=False, aliases=("撤销月份", "截止月份")),
)

MONTH_FILE_ID_COLUMNS: tuple[UnitColumn, ...] = (
    UnitColumn("month", "月份", "text", aliases=("统计月份", "填报月份")),
    UnitColumn("unit_id", "单位编码", "id", aliases=("编码", "村居编码")),
    UnitColumn("unit_name", "村(社区)名称", "text", required=False,
               aliases=("名称", "村居名称", "单位名称", "村(社区)", "村居", "村社区", "村(居)", "村(居)名称", "单位")),
)
#: headers of a row-number column (序号), recognised and ignored
ROW_NUMBER_HEADERS = ("序号", "序", "no", "no.", "编号序", "行号")
#: headers of a notes column (备注), recognised and ignored (what it says is listed in the report)
NOTE_HEADERS = ("备注", "说明", "备注说明", "备注栏", "注", "note", "notes", "remark", "remarks")
#: the first cell of a totals row (合计), checked against the column sums and dropped
TOTAL_ROW_LABELS = ("合计", "总计", "全镇合计", "全镇", "全镇总计", "总数", "合计数", "total", "sum")


def header_aliases() -> dict[str, str]:
    """Map every accepted header (code, Chinese name, alias) of a month file to its code (shipped catalogue)."""
    table: dict[str, str] = {}
    for col in MONTH_FILE_ID_COLUMNS:
        for label in (col.code, col.name, *col.aliases):
            table[label] = col.code
    for m in MEASURES:
        for label in (m.code, m.name, *m.aliases):
            table[label] = m.code
    return table


def unit_header_aliases() -> dict[str, str]:
    """Map every accepted header of units.csv (normalised by :func:`header_key`) to its code."""
    return {header_key(label)[0]: c.code for c in UNIT_COLUMNS for label in (c.code, c.name, *c.aliases)}


MEASURES: tuple[Measure, ...] = shipped_catalogue().measures
MEASURE_BY_CODE: dict[str, Measure] = {m.code: m for m in MEASURES}
MEASURE_CODES: tuple[str, ...] = tuple(m.code for m in MEASURES)
#: Event counts whose month-to-month movements the statistics report tests.
COUNT_INDICATORS: tuple[str, ...] = shipped_catalogue().movement_counts()
