"""A summary's period: a day (``2026-12-03``), an ISO week (``2026-W49``) or a month
(``2026-12``), its days, the period before it and the eleven before that (the trend)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from service.ranking import score

KINDS = ("daily", "weekly", "monthly")
_FORMS = {
    "daily": (re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"), "YYYY-MM-DD"),
    "weekly": (re.compile(r"[0-9]{4}-W[0-9]{2}"), "YYYY-Www"),
    "monthly": (re.compile(r"[0-9]{4}-[0-9]{2}"), "YYYY-MM"),
}
NAME_ZH = {"daily": "日检查", "weekly": "周通报", "monthly": "月总结"}


@dataclass(frozen=True)
class Period:
    kind: str
    label: str
    start: dt.date
    end: dt.date  # the last day, included

    def before(self, n: int = 1) -> Period:
        """The period ``n`` periods earlier."""
        p = self
        for _ in range(n):
            p = of(self.kind, p.start - dt.timedelta(days=1))
        return p


def form(kind: str) -> str:
    return _FORMS[kind][1]


def parse(kind: str, label: str) -> Period:
    """The period ``label`` of ``kind``; ValueError when it is not one."""
    pattern, _ = _FORMS[kind]
    if not pattern.fullmatch(label) or not 1900 <= int(label[:4]) <= 9000:
        raise ValueError(label)
    if kind == "daily":
        day = dt.date.fromisoformat(label)
        return Period(kind, label, day, day)
    if kind == "weekly":
        start, end = score.week_days(label)
        return Period(kind, label, start, end)
    year, month = (int(x) for x in label.split("-"))
    start = dt.date(year, month, 1)
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return Period(kind, label, start, following - dt.timedelta(days=1))


def of(kind: str, day: dt.date) -> Period:
    """The period of ``kind`` that holds ``day``."""
    if kind == "daily":
        return parse(kind, day.isoformat())
    if kind == "weekly":
        return parse(kind, score.week_of(day))
    return parse(kind, f"{day.year}-{day.month:02d}")
