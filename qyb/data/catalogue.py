"""The catalogue of raw measures and unit attributes: English codes, Chinese names, rules.

Raw monthly files have one row per unit and one column per measure. A column
header may be the English code or any of its Chinese aliases; both map to the
code. Handled/total pairs carry the rule ``handled <= total``.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Measure:
    code: str
    name: str
    aliases: tuple[str, ...] = ()
    total: str | None = None  # for a "handled" measure: the measure it may not exceed


MEASURES: tuple[Measure, ...] = (
    Measure("crime_alerts", "刑事治安警情", ("刑事治安警情数",)),
    Measure("fraud_alerts", "电诈警情", ("电诈警情数", "电信网络诈骗警情")),
    Measure("fraud_warnings", "反诈预警", ("反诈预警数", "反诈预警总数")),
    Measure("fraud_warnings_handled", "反诈预警已处置", ("反诈预警处置数",), total="fraud_warnings"),
    Measure("traffic_accidents", "交通事故", ("交通事故数",)),
    Measure("traffic_deaths", "交通事故死亡人数", ("交通死亡人数",)),
    Measure("rental_due", "出租屋应检查", ("出租屋应检查间数", "出租屋应巡查数")),
    Measure("rental_inspected", "出租屋已检查", ("出租屋已检查间数", "出租屋已巡查数"), total="rental_due"),
    Measure("work_accidents", "生产安全事故", ("生产安全事故数",)),
    Measure("work_deaths", "生产安全事故死亡人数", ("生产事故死亡人数",)),
    Measure("fires", "火灾", ("火灾数", "火灾起数")),
    Measure("hazards_found", "安全隐患发现", ("隐患发现数", "安全隐患发现数")),
    Measure("hazards_rectified", "安全隐患已整改", ("隐患整改数", "安全隐患整改数"), total="hazards_found"),
    Measure("disputes_received", "矛盾纠纷受理", ("矛盾纠纷受理数",)),
    Measure("disputes_resolved", "矛盾纠纷已化解", ("矛盾纠纷化解数",), total="disputes_received"),
    Measure("hotspots_listed", "乱点挂牌", ("乱点挂牌数", "挂牌乱点数")),
    Measure("hotspots_rectified", "乱点已整治", ("乱点整治数", "乱点销号数"), total="hotspots_listed"),
    Measure("patrols_planned", "网格巡查计划", ("网格巡查计划数", "网格巡查应巡数")),
    Measure("patrols_done", "网格巡查完成", ("网格巡查完成数", "网格巡查实巡数"), total="patrols_planned"),
    Measure("major_cases", "重大案事件", ("重大案件数", "重大案事件数")),
)

MEASURE_BY_CODE: dict[str, Measure] = {m.code: m for m in MEASURES}
#: Event counts whose month-to-month movements the statistics report tests.
COUNT_INDICATORS: tuple[str, ...] = ("crime_alerts", "fraud_alerts", "traffic_accidents", "work_accidents", "fires")
MEASURE_CODES: tuple[str, ...] = tuple(m.code for m in MEASURES)


@dataclass(frozen=True)
class UnitColumn:
    code: str
    name: str
    kind: str  # "id", "text" or "number"
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
)

MONTH_FILE_ID_COLUMNS: tuple[UnitColumn, ...] = (
    UnitColumn("month", "月份", "text", aliases=("统计月份",)),
    UnitColumn("unit_id", "单位编码", "id", aliases=("编码", "村居编码")),
    UnitColumn("unit_name", "村(社区)名称", "text", required=False, aliases=("名称", "村居名称", "单位名称")),
)


def header_aliases() -> dict[str, str]:
    """Map every accepted header (code, Chinese name, alias) of a month file to its code."""
    table: dict[str, str] = {}
    for col in MONTH_FILE_ID_COLUMNS:
        for label in (col.code, col.name, *col.aliases):
            table[label] = col.code
    for m in MEASURES:
        for label in (m.code, m.name, *m.aliases):
            table[label] = m.code
    return table


def unit_header_aliases() -> dict[str, str]:
    """Map every accepted header of units.csv to its code."""
    return {label: c.code for c in UNIT_COLUMNS for label in (c.code, c.name, *c.aliases)}
