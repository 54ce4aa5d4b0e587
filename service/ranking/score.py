"""A unit's weekly score, from the loop's figures (service/cases/kpis.py) of the cases
observed in the week: one documented function, its weights in the catalogue
``data/catalogues/ranking.json``.

Each unit gets five penalties in [0, 1], four a share of its cases and one of its points:

- ``on_time``: the cases not closed on time (1 − 按期整改率);
- ``rework``: the fixed cases that failed a verification (返工率);
- ``overdue``: the cases overdue now (a disputed case counts until the office decides it);
- ``disputes``: the disputes it raised, per case (推诿 is itself measured);
- ``lost_points``: the points lost in the mock assessments (谁丢分谁受责) attributed to it,
  per point assessed that it could lose (service/ranking/weekly.py says which).

A share over few cases says little, so each is drawn towards the group's pooled share as if
the unit had ``prior_cases`` more cases (``prior_points`` more points assessed, for the lost
points) at that share (additive smoothing): a unit with one
bad case is not ranked below one with a hundred cases and ten bad ones, and a unit with no
case this week sits at its group's mean. The score is ``100 × (1 − Σ wᵢ·pᵢ / Σ wᵢ)``: 100 is
nothing wrong, higher is better.

Disputing cannot improve a score: a disputed case is still received and not closed on time,
overdue once past its due time, and adds a dispute; a case the office finds invalid (不属实)
leaves the figures, as a decision.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from functools import cache
from pathlib import Path

CATALOGUE = Path(__file__).resolve().parents[2] / "data" / "catalogues" / "ranking.json"
_WEEK = re.compile(r"([0-9]{4})-W([0-9]{2})")

# penalty: (numerator, denominator) among the figures
SHARES = {
    "on_time": ("late", "received"),
    "rework": ("reworked_cases", "fixed_cases"),
    "overdue": ("overdue_now", "received"),
    "disputes": ("disputes", "received"),
    "lost_points": ("lost", "assessed"),
}
# the prior of each share, in its denominator's units: cases, or points assessed
PRIOR = {"lost_points": "prior_points"}


@cache
def rules() -> dict:
    """The catalogue's weights, prior, list length and talk threshold."""
    return json.loads(CATALOGUE.read_text(encoding="utf-8"))


def week_days(week: str) -> tuple[dt.date, dt.date]:
    """Monday and Sunday of an ISO week written ``YYYY-Www``; ValueError when it is not one."""
    m = _WEEK.fullmatch(week)
    if not m:
        raise ValueError(week)
    monday = dt.date.fromisocalendar(int(m[1]), int(m[2]), 1)
    return monday, monday + dt.timedelta(days=6)


def week_of(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _counts(row: dict) -> dict:
    return {
        "lost": 0.0,
        "assessed": 0.0,
        **row,
        "late": row["received"] - row["closed_on_time"],
    }


def pooled(rows: list[dict]) -> dict[str, float]:
    """The group's share of each penalty over all its units' cases (0 with no case)."""
    out = {}
    for name, (num, den) in SHARES.items():
        d = sum(_counts(r)[den] for r in rows)
        out[name] = sum(_counts(r)[num] for r in rows) / d if d else 0.0
    return out


def score(row: dict, means: dict[str, float], rule: dict) -> tuple[float, dict[str, float]]:
    """The unit's score and its penalties (see the module's text)."""
    c = _counts(row)
    pen = {}
    for name, (num, den) in SHARES.items():
        k = float(rule.get(PRIOR.get(name, "prior_cases"), rule["prior_cases"]))
        share = (c[num] + k * means[name]) / (c[den] + k) if c[den] + k else 0.0
        pen[name] = min(share, 1.0)  # points lost where little was assessed: at most all
    weights = rule["weights"]
    total = sum(weights.values())
    value = 100.0 * (1.0 - sum(weights.get(n, 0) * pen[n] for n in SHARES) / total)
    return round(value, 2), {n: round(p, 4) for n, p in pen.items()}


def ranked(rows: list[dict], rule: dict) -> list[dict]:
    """The group's rows, scored and ranked (1 the best; ties by code), with ``list`` red
    (the top N, 红榜) or black (the bottom N, 黑榜) — N at most half the group — and
    ``worst`` on the last."""
    means = pooled(rows)
    out = []
    for r in rows:
        value, pen = score(r, means, rule)
        out.append({**r, "score": value, "penalties": pen})
    out.sort(key=lambda r: (-r["score"], r["code"]))
    n = min(int(rule["list_n"]), len(out) // 2)
    for i, r in enumerate(out):
        r["rank"] = i + 1
        r["list"] = "red" if i < n else "black" if i >= len(out) - n else None
        r["worst"] = i == len(out) - 1
    return out
