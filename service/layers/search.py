"""Finding a place by name or code across the campaign's layers, for the map's search box.

Names match anywhere in them (case-insensitive); codes and case numbers match from their
start. Zones are those valid now. A unit's users find only their own cases, as everywhere.
Each hit carries its layer, id, code, name and bounding box, so the map can zoom to it.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from service.accounts.scope import CaseScope, and_where, scope_params
from service.errors import Problem, field_error

MAX_RESULTS = 50

# (layer, table, name expression, extra condition)
_LAYERS = (
    ("areas", "admin_area", "t.name", "true"),
    (
        "zones",
        "zone",
        "t.name",
        "t.valid_from <= now() AND (t.valid_to IS NULL OR t.valid_to > now())",
    ),
    ("assessment_points", "assessment_point", "t.name", "true"),
    ("stall_areas", "stall_area", "t.name", "true"),
    ("ad_sites", "ad_site", "coalesce(t.name, t.content)", "true"),
    ("grid_cells", "grid_cell", "NULL::text", "true"),
)


def _escape_like(q: str) -> str:
    return q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(
    conn: Connection, city_id: int, q: str, limit: int = 20, scope: CaseScope | None = None
) -> list[dict]:
    """Hits of every layer; cases only those in the reader's ``scope``
    (service/accounts/scope.py)."""
    q = q.strip()
    if not q:
        raise Problem("Say what to look for.", status=400, errors=[field_error("q", "empty")])
    if len(q) > 100:
        raise Problem(
            "The search text is too long.", status=400, errors=[field_error("q", "at most 100")]
        )
    box = (
        "round(ST_XMin(t.geom)::numeric, 7)::float, round(ST_YMin(t.geom)::numeric, 7)::float, "
        "round(ST_XMax(t.geom)::numeric, 7)::float, round(ST_YMax(t.geom)::numeric, 7)::float"
    )
    parts = []
    for rank, (layer, table, name, extra) in enumerate(_LAYERS):
        parts.append(
            f"(SELECT '{layer}' AS layer, {rank} AS rank, t.id, t.code::text AS code, "
            f"{name} AS name, {box} FROM {table} t WHERE t.city_id = :c AND {extra} "
            f"AND (t.code LIKE :prefix OR t.code LIKE :upper OR {name} ILIKE :anywhere) "
            f"ORDER BY (t.code = :q) DESC, length(coalesce({name}, t.code)), t.code "
            "LIMIT :limit)"
        )
    parts.append(
        f"(SELECT 'violations', {len(_LAYERS)}, t.id, t.case_no::text, t.description, {box} "
        "FROM violation t WHERE t.city_id = :c "
        f"AND (t.case_no LIKE :prefix OR t.case_no LIKE :upper){and_where(scope)} "
        "ORDER BY t.case_no LIMIT :limit)"
    )
    sql = " UNION ALL ".join(parts) + " ORDER BY rank, code LIMIT :limit"
    esc = _escape_like(q)
    rows = conn.execute(
        text(sql),
        {
            "c": city_id,
            "q": q,
            "prefix": esc + "%",
            "upper": esc.upper() + "%",
            "anywhere": f"%{esc}%",
            "limit": limit,
            **scope_params(scope),
        },
    )
    return [
        {
            "layer": r[0],
            "id": r[2],
            "code": r[3],
            "name": r[4],
            "bbox": [r[5], r[6], r[7], r[8]],
        }
        for r in rows
    ]
