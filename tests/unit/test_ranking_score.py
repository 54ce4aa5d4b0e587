"""The weekly score's function (service/ranking/score.py) on figures set by hand."""

import datetime as dt

import pytest

from service.ranking import score

RULE = {
    "weights": {"on_time": 40, "rework": 20, "overdue": 25, "disputes": 15},
    "prior_cases": 5,
    "list_n": 2,
    "talk_after_weeks": 3,
}


def unit(code, received=0, closed_on_time=0, overdue=0, reworked=0, fixed=0, disputes=0):
    return {
        "code": code,
        "name": code,
        "received": received,
        "closed": closed_on_time,
        "closed_on_time": closed_on_time,
        "overdue_now": overdue,
        "reworked_cases": reworked,
        "fixed_cases": fixed,
        "disputes": disputes,
    }


def test_a_perfect_group_scores_100_and_the_penalties_are_shares():
    rows = score.ranked([unit("A", 10, 10, fixed=10), unit("B", 4, 4, fixed=4)], RULE)
    assert [r["score"] for r in rows] == [100.0, 100.0]
    means = score.pooled([unit("A", 10, 5, overdue=2), unit("B", 10, 5, overdue=0)])
    assert means["on_time"] == 0.5 and means["overdue"] == 0.1
    value, pen = score.score(unit("A", 10, 5, overdue=2), means, RULE)
    # (5 late + 5 × 0.5) / 15, (2 + 5 × 0.1) / 15, no fixes: the group's 0, no disputes
    assert pen == {"on_time": 0.5, "rework": 0.0, "overdue": round(2.5 / 15, 4), "disputes": 0.0,
                   "lost_points": 0.0}  # fmt: skip
    assert value == pytest.approx(100 * (1 - (40 * 0.5 + 25 * 2.5 / 15) / 100), abs=0.01)


def test_one_bad_case_weighs_as_one_case_not_as_a_whole_unit():
    big = unit("BIG", received=100, closed_on_time=80, overdue=10)
    small = unit("SMALL", received=1, closed_on_time=0, overdue=1)
    rows = {r["code"]: r for r in score.ranked([big, small, unit("MID", 50, 40, overdue=5)], RULE)}
    # its raw shares (0 % on time, 100 % overdue) would score 100 × (1 − 65/100) = 35
    assert rows["SMALL"]["score"] > 75
    assert rows["SMALL"]["penalties"]["on_time"] == pytest.approx((1 + 5 * 31 / 151) / 6, abs=1e-4)
    # a unit with no case this week sits at the group's mean, between the best and the worst
    rows = score.ranked([big, unit("NONE"), unit("GOOD", 100, 100)], RULE)
    assert [r["code"] for r in rows] == ["GOOD", "NONE", "BIG"]


def test_disputing_every_case_never_raises_a_score():
    others = [unit("B", 20, 15, overdue=3), unit("C", 20, 10, overdue=6)]
    honest = unit("A", 20, 12, overdue=5)
    gaming = unit("A", 20, 12, overdue=5, disputes=8)  # the 8 open ones, disputed
    before = {r["code"]: r for r in score.ranked([honest, *others], RULE)}["A"]
    after = {r["code"]: r for r in score.ranked([gaming, *others], RULE)}["A"]
    assert after["score"] < before["score"] and after["rank"] >= before["rank"]


def test_the_lists_take_at_most_half_the_group_each():
    rows = score.ranked(
        [unit(c, 10, n) for c, n in zip("ABCDE", (10, 9, 8, 7, 6), strict=True)], RULE
    )
    assert [r["list"] for r in rows] == ["red", "red", None, "black", "black"]
    assert [r["worst"] for r in rows] == [False] * 4 + [True]
    three = score.ranked([unit(c, 10, n) for c, n in zip("ABC", (10, 9, 8), strict=True)], RULE)
    assert [r["list"] for r in three] == ["red", None, "black"]


def test_lost_points_are_a_share_of_the_points_assessed():
    rule = {**RULE, "weights": {**RULE["weights"], "lost_points": 20}, "prior_points": 100}
    a = {**unit("A", 10, 10), "lost": 30.0, "assessed": 300.0}
    b = {**unit("B", 10, 10), "lost": 0.0, "assessed": 300.0}
    rows = {r["code"]: r for r in score.ranked([a, b], rule)}
    # pooled 30 / 600 = 0.05; A: (30 + 100 × 0.05) / 400, B: (0 + 5) / 400
    assert rows["A"]["penalties"]["lost_points"] == pytest.approx(35 / 400, abs=1e-4)
    assert rows["B"]["penalties"]["lost_points"] == pytest.approx(5 / 400, abs=1e-4)
    assert rows["A"]["rank"] == 2 and rows["A"]["worst"]
    # points lost where nothing was assessed weigh at most the whole share
    c = {**unit("C", 10, 10), "lost": 500.0, "assessed": 0.0}
    assert score.score(c, score.pooled([c]), rule)[1]["lost_points"] == 1.0


def test_weeks_are_iso_weeks():
    assert score.week_days("2026-W49") == (dt.date(2026, 11, 30), dt.date(2026, 12, 6))
    assert score.week_of(dt.date(2027, 1, 1)) == "2026-W53"
    for bad in ("2026-49", "2026-W54", "W49"):
        with pytest.raises(ValueError):
            score.week_days(bad)
