"""The loop's two phone lists: a unit's open cases (``/tasks``) and the cases awaiting
verification (``/verify``), each case with what its card shows — names, the street it is on,
its due time in the city's zone, its before-photos and the after-photos of its last fix, and a
small locator drawn from the city's own base-map tiles. Cases are read within the reader's
scope (``case_scope``), as every read of ``violation`` is."""

from __future__ import annotations

import datetime as dt
import math

from sqlalchemy import Connection, text

from service.accounts.scope import CaseScope, and_where, scope_params
from service.rounds.sheet import nearest_street

TASK_STATUSES = ("dispatched", "rectifying", "disputed", "hung", "resolved")
STREET_RADIUS_M = 60  # a case is "on" the nearest named road no farther than this
LOCATOR_ZOOM = 17
LOCATOR_PX = 120  # the locator's side
LIST_MAX = 500  # a phone list shows at most this many cases

_CASES = """
SELECT v.id, v.case_no, v.status, v.version, v.category_code, {category} AS category_name,
       v.description, v.photos, v.due_at, v.observed_at, v.rework_count, v.extension_count,
       to_char(v.due_at AT TIME ZONE c.timezone, 'YYYY-MM-DD HH24:MI') AS due_local,
       v.due_at < now() AS overdue,
       ST_X(ST_PointOnSurface(v.geom)) AS lon, ST_Y(ST_PointOnSurface(v.geom)) AS lat,
       u.name AS unit_name, z.name AS zone_name, street.name AS street,
       fix.photos AS after_photos, fix.comment AS fix_comment,
       ext.data ->> 'due_at' AS extension_asked, rs.round_seq
  FROM violation v
  JOIN city c ON c.id = v.city_id
  LEFT JOIN unit u ON u.city_id = v.city_id AND u.id = v.unit_id
  LEFT JOIN zone z ON z.city_id = v.city_id AND z.id = v.zone_id
  LEFT JOIN violation_category k ON k.city_id = v.city_id AND k.code = v.category_code
  {street}
  LEFT JOIN LATERAL (
        SELECT e.photos, e.comment FROM case_event e
         WHERE e.city_id = v.city_id AND e.violation_id = v.id AND e.action = 'fix'
         ORDER BY e.at DESC, e.id DESC LIMIT 1) fix ON true
  LEFT JOIN LATERAL (
        SELECT e.action, e.data FROM case_event e
         WHERE e.city_id = v.city_id AND e.violation_id = v.id
           AND e.action IN ('extend_request', 'extend_decide')
         ORDER BY e.at DESC, e.id DESC LIMIT 1) ext0 ON true
  LEFT JOIN LATERAL (SELECT ext0.data WHERE ext0.action = 'extend_request') ext ON true
  LEFT JOIN LATERAL (  -- a stop on a round of the reader's today (a night round past midnight
                      -- still today's until its window ends), released to the team
        SELECT min(s.seq) AS round_seq FROM inspection_stop s
          JOIN inspection_plan p ON p.city_id = s.city_id AND p.id = s.plan_id
          JOIN inspection_team_member m ON m.city_id = p.city_id AND m.plan_id = p.id
         WHERE s.city_id = v.city_id AND s.violation_id = v.id AND m.user_id = :me
           AND (now() AT TIME ZONE c.timezone)::date
               BETWEEN p.plan_date AND (p.window_end AT TIME ZONE c.timezone)::date
           AND p.release_at <= now()) rs ON true
 WHERE v.city_id = :c AND v.status = ANY(:statuses){scope}
 ORDER BY rs.round_seq NULLS LAST, (v.due_at < now()) DESC NULLS LAST, v.due_at NULLS LAST,
          v.id
 LIMIT :n
"""


def cases(
    conn: Connection,
    city: int,
    scope: CaseScope | None,
    statuses: tuple[str, ...],
    lang: str = "zh",
    reader: int | None = None,
) -> list[dict]:
    """The cases in ``statuses`` the reader may see: those that are stops of a round of
    ``reader``'s today (released to its team; ``round_seq``) first in the round's order, then
    overdue first, then by due time."""
    category = "coalesce(k.name_en, k.name_zh)" if lang == "en" else "k.name_zh"
    rows = conn.execute(
        text(
            _CASES.format(
                category=category,
                scope=and_where(scope, "v.unit_id"),
                street=nearest_street("v", "radius"),
            )
        ),
        {
            "c": city,
            "statuses": list(statuses),
            "radius": STREET_RADIUS_M,
            "n": LIST_MAX,
            "me": reader,
            **scope_params(scope),
        },
    )
    out = []
    for r in rows.mappings():
        case = dict(r)
        case["etag"] = f'"{case["id"]}.{case["version"]}"'
        case["category_name"] = case["category_name"] or case["category_code"]
        case["photos"] = list(case["photos"] or [])
        case["after_photos"] = list(case["after_photos"] or [])
        case["due_iso"] = case["due_at"].isoformat() if case["due_at"] else ""
        case["observed_iso"] = case["observed_at"].isoformat() if case["observed_at"] else ""
        case["extension_local"] = _local_day(case["extension_asked"])
        case["locator"] = locator(case["lon"], case["lat"])
        out.append(case)
    return out


def _local_day(value: str | None) -> str | None:
    """The day an extension asks for (its first ten characters: the city's own day)."""
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value).strftime("%Y-%m-%d")
    except ValueError:
        return value[:10]


def locator(lon: float, lat: float, zoom: int = LOCATOR_ZOOM, size: int = LOCATOR_PX) -> list:
    """The base-map tiles that cover a ``size`` px square centred on (lon, lat) at ``zoom``,
    each ``(z, x, y, left, top)`` with its offset inside the square in pixels.

    >>> locator(0.0, 0.0, 1, 120)
    [(1, 0, 0, -196, -196), (1, 0, 1, -196, 60), (1, 1, 0, 60, -196), (1, 1, 1, 60, 60)]
    """
    n = 2**zoom
    lat = max(-85.0511, min(85.0511, lat))
    px = (lon + 180.0) / 360.0 * n * 256
    s = math.sin(math.radians(lat))
    py = (0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)) * n * 256
    left, top = round(px - size / 2), round(py - size / 2)
    tiles = []
    for tx in range(left // 256, (left + size - 1) // 256 + 1):
        for ty in range(top // 256, (top + size - 1) // 256 + 1):
            if 0 <= ty < n:
                tiles.append((zoom, tx % n, ty, tx * 256 - left, ty * 256 - top))
    return tiles
