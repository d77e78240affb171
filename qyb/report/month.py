"""Everything a month's publication is made of, computed once: :class:`MonthReport`.

The run (``qyb run``) builds one and hands it to every writer of what leaves the office: the
leader summary (``index.html``), ``榜单.pdf``, the 体检表 PDFs, the WeChat image, ``通报.docx``,
``ranking.xlsx`` and ``history.xlsx``, ``tables/alerts.csv`` and the month's record
(``published.csv``). An analyst gets the same object with :func:`month_report`::

    from qyb.report.month import month_report
    rep = month_report(qyb.load("2023-12"))
    rep.alerts, rep.movers, rep.history          # the 预警 list, the biggest moves, the published history
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from qyb.report.alerts import Office, alert_table, load_office
from qyb.report.deductions import deduction_items, deduction_totals
from qyb.report.published import published_history, record_frame, with_published_previous
from qyb.report.ranking import movers_beyond_chance, ranking_table, star_distribution
from qyb.vocab import SYNTHETIC_STAMP, month_zh

__all__ = ["MonthReport", "month_report", "TOWN"]

#: the town every title names
TOWN = "小榄镇"


@dataclass
class MonthReport:
    """One month's publication: the edition and every table the documents print (see module doc)."""

    edition: object
    office: Office
    card: pd.DataFrame  # the scorecard as published (previous rank from the published history)
    deductions: pd.DataFrame  # every 扣分 of the month (qyb.report.deductions.deduction_items)
    history: pd.DataFrame  # the published history up to this month (qyb.report.published)
    alerts: pd.DataFrame  # the 预警 list (qyb.report.alerts.alert_table)
    movers: pd.DataFrame  # biggest risers and fallers, beyond chance or not
    intervals: pd.DataFrame | None = None
    previous_intervals: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)

    # ------------------------------------------------------------ what it is
    @property
    def month(self) -> str:
        return self.edition.month

    @property
    def method(self):
        return self.edition.method

    @property
    def synthetic(self) -> bool:
        return bool(self.edition.synthetic)

    @property
    def issuer(self) -> str:
        return self.office.issuer

    @property
    def n_units(self) -> int:
        return len(self.card)

    @property
    def month_text(self) -> str:
        """``2023年12月``."""
        return month_zh(self.month)

    @property
    def title(self) -> str:
        """``小榄镇平安“晴雨表”榜单（2023年12月）``."""
        return f"{TOWN}平安“晴雨表”榜单（{self.month_text}）"

    @property
    def method_line(self) -> str:
        """``评分办法：平安“晴雨表”第二期修订评分办法（示例）（v2）``."""
        return f"评分办法：{self.method.title}（{self.method.name}）"

    @property
    def stamp(self) -> str:
        """The 示例数据 stamp when the data are synthetic, else ''."""
        return SYNTHETIC_STAMP if self.synthetic else ""

    @property
    def signature(self) -> str:
        """The 落款: the issuing office and the edition (``小榄镇综治办　2023年12月``)."""
        return f"{self.issuer}　{self.month_text}"

    # ------------------------------------------------------------ tables
    @cached_property
    def deduction_totals(self) -> pd.DataFrame:
        """Points and reasons per unit (indexed by unit_id, every unit)."""
        return deduction_totals(self.deductions, self.card["unit_id"])

    @cached_property
    def ranking(self) -> pd.DataFrame:
        """The 榜单 (Chinese headers) with 扣分, 扣分事由 and, when drawn, the rank intervals."""
        return ranking_table(self.card, self.method, intervals=self.intervals, deductions=self.deduction_totals)

    @cached_property
    def record(self) -> pd.DataFrame:
        """The record this month publishes (``published.csv``)."""
        return record_frame(self.card, self.method, self.deduction_totals)

    @cached_property
    def star_counts(self) -> pd.DataFrame:
        """Units per star tier (5 to 1) with their names."""
        return star_distribution(self.card)

    @cached_property
    def profiles(self) -> list:
        """The 体检表 of every unit, in rank order (:class:`qyb.report.profile.UnitProfile`)."""
        from qyb.report.profile import unit_profiles

        return unit_profiles(self.edition, history=self.history, deductions=self.deductions, alerts=self.alerts,
                             card=self.card)

    def honour_roll(self) -> pd.DataFrame:
        """红榜: the 榜单 rows of the units at ★★★★★ this month, best first."""
        return self.ranking[self.ranking["星数"] == 5].reset_index(drop=True)

    def black_list(self) -> pd.DataFrame:
        """黑榜: the 榜单 rows of the units at ★ this month."""
        return self.ranking[self.ranking["星数"] == 1].reset_index(drop=True)

    @cached_property
    def weak_units(self) -> pd.DataFrame:
        """短板单位: for each category, the lowest-scoring unit(s) below the town median, with the
        score and the median (categories where nobody is below the median are left out)."""
        rows = []
        for g in self.method.categories:
            col = f"cat_{g.code}"
            scores = self.card[col].astype(float)
            median = float(scores.median())
            low = float(scores.min())
            if low >= median:
                continue
            names = self.card.loc[scores == low].sort_values(["rank", "unit_id"])["unit_name"]
            rows.append({"类别": g.name, "得分最低": "、".join(names), "得分": low, "全镇中位数": median})
        return pd.DataFrame(rows, columns=["类别", "得分最低", "得分", "全镇中位数"])


def month_report(edition, reports_root: Path | str | None = None, *, intervals: pd.DataFrame | None = None,
                 previous_intervals: pd.DataFrame | None = None, office: Office | None = None,
                 draw_intervals: bool = False) -> MonthReport:
    """Build the :class:`MonthReport` of an edition.

    ``reports_root``: the folder of published months (their ``published.csv`` records make the
    published history; None: none, earlier months are reconstructed under the method in force
    then); ``intervals`` / ``previous_intervals``: the rank intervals of this month and the
    previous one (whether a move is beyond chance), drawn here when ``draw_intervals`` is True;
    ``office``: the office settings (default ``qyb/report/office.yaml``).
    """
    office = office or load_office()
    if draw_intervals and intervals is None:
        intervals = edition.rank_intervals()
    if draw_intervals and previous_intervals is None:
        previous = edition.previous()
        previous_intervals = previous.rank_intervals() if previous is not None else None
    card = edition.scorecard
    deductions = deduction_items(edition.panel, edition.month, edition.method, card)
    totals = deduction_totals(deductions, card["unit_id"])
    # the history's last month is this edition; its previous ranks come from the history itself
    history = published_history(edition, reports_root, current=record_frame(card, edition.method, totals))
    card = with_published_previous(card, history)
    history_now = history["month"] == edition.month
    prev_ranks = card.set_index("unit_id")["rank_prev_published"]
    history.loc[history_now, "rank_prev"] = history.loc[history_now, "unit_id"].map(prev_ranks).to_numpy()
    alerts = alert_table(history, office.rules, edition.month)
    movers = movers_beyond_chance(card, intervals, previous_intervals)
    return MonthReport(edition, office, card, deductions, history, alerts, movers, intervals, previous_intervals)
