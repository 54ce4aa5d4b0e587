"""Which assessment points have a public-service ad in sight (驻足可观、抬眼可见).

A point is *covered* when an advertising site stands within its category's sight distance
(``assessment_point_category.ad_sight_m``, from the point's shape) and can be seen from it:

- its face looks towards the point: the bearing from the site to the nearest place of the
  point lies within 90° of ``facing_deg`` (a site without a facing is seen from all sides);
- no building stands between them: the sight line crosses no building footprint of the
  city's base map (imported from OpenStreetMap with its streets) for more than
  :data:`WALL_M` — a board on a wall sits on the footprint's edge, a point inside a building
  (a market hall) is seen from that building.

A covered point whose every visible site was last checked longer ago than the city's
``ad_stale_days`` is *stale*; a point with none is *uncovered*, with the reasons of the sites
that were near but not seen. Categories without a sight distance (an advertising site itself)
are not asked for one.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

WALL_M = 3.0  # a sight line may run this far inside a footprint: the wall the board is on

# the day in the city's time zone (``c``: the city's row)
_TODAY = "(now() AT TIME ZONE c.timezone)::date"


def stale_sql(site: str) -> str:
    """SQL: the site aliased ``site`` was never checked, or longer ago than the city's
    ``ad_stale_days``."""
    return f"({site}.last_checked IS NULL OR {site}.last_checked < {_TODAY} - c.ad_stale_days)"


# one row per (point, site within its sight distance): how far, and why it is not seen
_PAIRS = f"""
SELECT p.id AS point_id, s.id AS site_id, s.code AS site_code,
       round(ST_Distance(p.geom::geography, s.geom::geography)::numeric, 1)::float AS distance_m,
       {stale_sql("s")} AS stale,
       CASE
         WHEN s.facing_deg IS NOT NULL AND NOT ST_Equals(v.at, s.geom) AND abs(mod(
              (degrees(ST_Azimuth(s.geom::geography, v.at::geography)) - s.facing_deg + 540)
              ::numeric, 360) - 180) > 90 THEN 'facing_away'
         WHEN EXISTS (
              SELECT 1 FROM basemap_feature b
              WHERE b.city_id = p.city_id AND b.kind = 'building' AND b.geom && v.line
                AND ST_Intersects(b.geom, v.line) AND NOT ST_Covers(b.geom, v.at)
                AND ST_Length(ST_Intersection(b.geom, v.line)::geography) > {WALL_M})
              THEN 'behind_building'
       END AS hidden
FROM assessment_point p
JOIN city c ON c.id = p.city_id
JOIN assessment_point_category k ON k.city_id = p.city_id AND k.code = p.category_code
JOIN ad_site s ON s.city_id = p.city_id
  -- the index's box first: a degree of longitude is the shorter, so this is a superset
  AND ST_DWithin(s.geom, p.geom,
                 k.ad_sight_m / (110000.0 * cos(radians(abs(ST_Y(ST_Centroid(p.geom))) + 0.5))))
  AND ST_DWithin(s.geom::geography, p.geom::geography, k.ad_sight_m)
CROSS JOIN LATERAL (SELECT ST_ClosestPoint(p.geom, s.geom) AS at) v0
CROSS JOIN LATERAL (SELECT v0.at, ST_MakeLine(s.geom, v0.at) AS line) v
WHERE p.city_id = :c AND p.active AND k.ad_sight_m IS NOT NULL
"""

# one row per active point whose category asks for an ad in sight
COVERAGE_SQL = f"""
SELECT p.id AS point_id, k.ad_sight_m AS sight_m,
       CASE WHEN bool_or(q.hidden IS NULL AND NOT q.stale) THEN 'covered'
            WHEN bool_or(q.site_id IS NOT NULL AND q.hidden IS NULL) THEN 'stale'
            ELSE 'uncovered' END AS ad_status,
       CASE WHEN count(q.site_id) = 0 THEN 'none_within'
            WHEN bool_or(q.hidden IS NULL) THEN NULL
            WHEN bool_or(q.hidden = 'behind_building') THEN 'behind_building'
            ELSE 'facing_away' END AS reason,
       min(q.distance_m) FILTER (WHERE q.hidden IS NULL) AS seen_m,
       coalesce(json_agg(json_build_object('code', q.site_code, 'distance_m', q.distance_m,
                                           'stale', q.stale, 'hidden', q.hidden)
                         ORDER BY q.distance_m, q.site_code)
                FILTER (WHERE q.site_id IS NOT NULL), '[]'::json) AS sites
FROM assessment_point p
JOIN assessment_point_category k ON k.city_id = p.city_id AND k.code = p.category_code
LEFT JOIN ({_PAIRS}) q ON q.point_id = p.id
WHERE p.city_id = :c AND p.active AND k.ad_sight_m IS NOT NULL
GROUP BY p.id, k.ad_sight_m
"""

STATUSES = ("covered", "stale", "uncovered")


def coverage(conn: Connection, city_id: int) -> dict:
    """Every point asked for an ad in sight with its status, the sites near it and the
    stale sites of the city: ``{stale_days, totals, points, stale_sites}``."""
    points = [
        dict(r._mapping)
        for r in conn.execute(
            text(
                "SELECT p.code, p.name, p.category_code AS category, a.sight_m, a.ad_status "
                "AS status, a.reason, a.seen_m, a.sites, ST_X(ST_PointOnSurface(p.geom)) "
                f"AS lon, ST_Y(ST_PointOnSurface(p.geom)) AS lat FROM ({COVERAGE_SQL}) a "
                "JOIN assessment_point p ON p.city_id = :c AND p.id = a.point_id "
                "ORDER BY array_position(ARRAY['uncovered', 'stale', 'covered'], a.ad_status), "
                "p.code"
            ),
            {"c": city_id},
        )
    ]
    stale_days = conn.execute(
        text("SELECT ad_stale_days FROM city WHERE id = :c"), {"c": city_id}
    ).scalar()
    totals = {s: sum(p["status"] == s for p in points) for s in STATUSES}
    return {
        "stale_days": stale_days,
        "totals": {"points": len(points), **totals},
        "points": points,
        "stale_sites": stale_sites(conn, city_id),
    }


def stale_sites(conn: Connection, city_id: int) -> list[dict]:
    """The sites not checked within the city's ``ad_stale_days``, the longest unchecked
    first (never checked before all)."""
    return [
        dict(r._mapping)
        for r in conn.execute(
            text(
                "SELECT s.code, s.name, s.content, s.last_checked::text AS last_checked, "
                f"{_TODAY} - s.last_checked AS days_since, u.code AS unit, "
                "ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat "
                "FROM ad_site s JOIN city c ON c.id = s.city_id "
                "LEFT JOIN unit u ON u.city_id = s.city_id AND u.id = s.unit_id "
                f"WHERE s.city_id = :c AND {stale_sql('s')} "
                "ORDER BY s.last_checked NULLS FIRST, s.code"
            ),
            {"c": city_id},
        )
    ]


HEADERS_ZH = {
    "code": "点位编码",
    "name": "点位名称",
    "category": "点位类别",
    "status": "公益广告覆盖",
    "reason": "未覆盖原因",
    "sight_m": "可视距离(米)",
    "seen_m": "最近可见广告(米)",
    "site_codes": "附近广告编码",
}
STALE_HEADERS_ZH = {
    "code": "广告编码",
    "name": "广告名称",
    "content": "广告内容",
    "last_checked": "最近检查日期",
    "days_since": "未检查天数",
    "unit": "维护单位编码",
}
STATUS_ZH = {"covered": "已覆盖", "stale": "广告久未检查", "uncovered": "未覆盖"}
REASON_ZH = {
    "none_within": "可视距离内无广告",
    "facing_away": "广告背向点位",
    "behind_building": "被建筑遮挡",
}


def xlsx(result: dict) -> bytes:
    """The points' coverage as a sheet with Chinese headers and words, and the stale ads as
    a second."""
    from service.layers.sheets import table_xlsx

    rows = [
        {
            **p,
            "status": STATUS_ZH[p["status"]],
            "reason": REASON_ZH.get(p["reason"]),
            "site_codes": "、".join(s["code"] for s in p["sites"]),
        }
        for p in result["points"]
    ]
    t = result["totals"]
    return table_xlsx(
        "公益广告覆盖",
        HEADERS_ZH,
        rows,
        f"点位 {t['points']} 个：已覆盖 {t['covered']}，广告久未检查 {t['stale']}，"
        f"未覆盖 {t['uncovered']}；超过 {result['stale_days']} 天未检查的广告 "
        f"{len(result['stale_sites'])} 处",
        more=(("久未检查的广告", STALE_HEADERS_ZH, result["stale_sites"]),),
    )
