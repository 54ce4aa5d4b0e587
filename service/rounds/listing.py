"""Which rounds a user sees in a list: team members their own from today on (a sealed one as
its date, window and release time only), leaders and admins every round with filters."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, text

from service.rounds.inspections import PLANNERS

MAX_LIST = 500


def list_plans(
    conn: Connection,
    city_id: int,
    user,
    day_from: dt.date | None = None,
    day_to: dt.date | None = None,
    limit: int = 100,
) -> list[dict]:
    """Rounds newest date first. Team members get their own from today (city time) unless
    ``day_from`` says otherwise; a round not yet released says only when it is and when it
    opens. Leaders also see each round's team (names) and, for a night of several teams,
    which team of how many. Nothing here names a stop, so listing is not logged as a read of
    a plan."""
    tz = ZoneInfo(
        conn.execute(text("SELECT timezone FROM city WHERE id = :c"), {"c": city_id}).scalar()
    )
    leader = user.role in PLANNERS
    if day_from is None and not leader:
        day_from = dt.datetime.now(tz).date()
    rows = conn.execute(
        text(
            "SELECT p.id, p.plan_date, p.window_start, p.window_end, p.release_at, p.mode, "
            "(SELECT count(*) FROM inspection_stop s WHERE s.city_id = p.city_id "
            "AND s.plan_id = p.id) AS stops, (SELECT count(*) FROM inspection_stop s WHERE "
            "s.city_id = p.city_id AND s.plan_id = p.id AND s.arrived_at IS NOT NULL) AS arrived, "
            "EXISTS (SELECT 1 FROM inspection_team_member m WHERE m.city_id = p.city_id "
            "AND m.plan_id = p.id AND m.user_id = :u) AS member, "
            "ARRAY(SELECT coalesce(u.display_name, u.name) FROM inspection_team_member m "
            "JOIN app_user u ON u.city_id = m.city_id AND u.id = m.user_id "
            "WHERE m.city_id = p.city_id AND m.plan_id = p.id ORDER BY u.id) AS team, "
            "p.draws -> 'night' AS night "
            "FROM inspection_plan p WHERE p.city_id = :c "
            "AND (CAST(:from AS date) IS NULL OR p.plan_date >= :from) "
            "AND (CAST(:to AS date) IS NULL OR p.plan_date <= :to) "
            "AND (:leader OR EXISTS (SELECT 1 FROM inspection_team_member m WHERE "
            "m.city_id = p.city_id AND m.plan_id = p.id AND m.user_id = :u)) "
            "ORDER BY p.plan_date DESC, p.window_start DESC, p.id DESC LIMIT :limit"
        ),
        {
            "c": city_id,
            "u": user.id,
            "from": day_from,
            "to": day_to,
            "leader": leader,
            "limit": min(limit, MAX_LIST),
        },
    ).mappings()
    now = dt.datetime.now(dt.UTC)
    out = []
    for r in rows:
        released = leader or r["release_at"] <= now
        item = {
            "id": r["id"],
            "date": r["plan_date"].isoformat(),
            "window_start": r["window_start"].astimezone(tz).isoformat(),
            "window_end": r["window_end"].astimezone(tz).isoformat(),
            "release_at": r["release_at"].astimezone(tz).isoformat(),
            "released": released,
            "member": r["member"],
            "mode": r["mode"] if released else None,
            "stops": r["stops"] if released else None,
            "arrived": r["arrived"] if released else None,
        }
        if leader:  # who goes, and which of a night's teams (not told to the teams)
            item["team"] = list(r["team"])
            if r["night"]:
                item["night"] = {k: r["night"][k] for k in ("team", "teams")}
        out.append(item)
    return out
