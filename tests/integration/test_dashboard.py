"""The leaders' dashboard's data on the demo city: the week's figures are the loop's, the heat
map counts every open case once, and each level of the drill-down adds up to the one above."""

from __future__ import annotations

from sqlalchemy import text

from tests.conftest import bearer


def test_the_overview_is_the_loops_figures(client, tokens):
    leader = bearer(tokens["leader"][1])
    d = client.get("/api/dashboard", headers=leader).get_json()
    assert len(d["trend"]) == 12 and d["trend"][-1]["week"] == d["this_week"]["week"]
    assert d["ranking"]["rows"] and d["ranking"]["flag"]
    week = d["last_week"]["week"]
    from service.ranking import score

    start, end = score.week_days(week)
    rows = client.get(f"/api/kpis?from={start}&to={end}&level=unit", headers=leader).get_json()
    assert d["last_week"]["received"] == sum(r["received"] for r in rows["rows"])
    assert d["last_week"]["overdue_now"] == sum(r["overdue_now"] for r in rows["rows"])
    # the trend, one statement over twelve weeks, says what the figures say of each week
    assert d["trend"][-2]["week"] == week
    assert d["trend"][-2]["received"] == d["last_week"]["received"]
    assert d["trend"][-2]["on_time_rate"] == d["last_week"]["on_time_rate"]
    assert d["trend"][-1]["received"] == d["this_week"]["received"]


def test_the_heat_map_counts_every_open_case_once(client, engine, demo, tokens):
    got = client.get("/api/dashboard/heat", headers=bearer(tokens["leader"][1])).get_json()
    with engine.connect() as conn:
        open_cases = conn.execute(
            text(
                "SELECT count(*) FROM violation WHERE city_id = :c AND NOT permitted AND status "
                "IN ('open', 'dispatched', 'rectifying', 'disputed', 'hung', 'resolved')"
            ),
            {"c": demo[0]},
        ).scalar()
    assert open_cases and sum(p[2] for p in got["points"]) == open_cases


def test_each_level_of_the_drill_down_adds_up(client, tokens):
    leader = bearer(tokens["leader"][1])
    streets = client.get("/api/dashboard/drill", headers=leader).get_json()
    assert streets["level"] == "street" and streets["rows"]
    street = max(streets["rows"], key=lambda r: r["received"])
    communities = client.get(
        f"/api/dashboard/drill?area={street['code']}", headers=leader
    ).get_json()
    assert communities["level"] == "community" and communities["rows"]
    assert sum(r["received"] for r in communities["rows"]) <= street["received"]
    community = max(communities["rows"], key=lambda r: r["received"])
    units = client.get(f"/api/dashboard/drill?area={community['code']}", headers=leader).get_json()
    assert units["level"] == "unit"
    assert sum(r["received"] for r in units["rows"]) == community["received"]
    unit = max(units["rows"], key=lambda r: r["received"])
    cases = client.get(f"/api/dashboard/drill?unit={unit['code']}", headers=leader).get_json()
    assert cases["level"] == "case" and len(cases["rows"]) >= unit["received"] > 0
    bad = client.get("/api/dashboard/drill?area=nowhere", headers=leader)
    assert bad.status_code == 404
    odd = client.get("/api/dashboard/drill?x=1", headers=leader)
    assert odd.status_code == 400 and odd.get_json()["errors"][0]["field"] == "x"
    for role in ("unit", "inspector"):
        assert client.get("/api/dashboard", headers=bearer(tokens[role][1])).status_code == 403
