"""The planner map's layers as the page asks for them, one GeoJSON document per layer.

The map page is a shell: it embeds no feature and asks ``/api/map/layers/{layer}`` for each
layer it shows. A layer's document is built by PostGIS in one statement (``json_agg`` of
``ST_AsGeoJSON``) and kept in memory under the layer's *version*: the counters that every
statement changing it, or the rows it names (units, persons), moves — ``layer_version`` and,
for cases, the change numbers of their bins — read in the same snapshot, with the reader's
scope. A page that asks again with the version
it has gets a 304 without the layer being built. Properties carry codes, not labels: the
page names them in its language from the catalogues it was given, so one document serves
both languages. Cases are read only within the reader's :class:`CaseScope`.

A layer larger than a page can hold is asked for the view instead (``bbox``, at most
``BBOX_MAX_DEG2``), from the zoom where it is readable; such answers are not cached, and the
whole of such a layer is refused.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import Connection, text

from service.accounts.scope import CaseScope, and_where, scope_params
from service.ads.coverage import COVERAGE_SQL, stale_sql
from service.errors import Problem, field_error
from service.layers.tiles import _Cache

BBOX_LIMIT = 10_000  # features in one view-sized answer
BBOX_MAX_DEG2 = 0.25  # a view of a city's districts (some 25 × 28 km), not a province
CACHE_BYTES = 64 * 2**20


@dataclass(frozen=True)
class MapLayer:
    """``select``: the properties and ``geom`` of one feature, from ``t`` and its joins;
    ``signature``: SQL giving one value that changes whenever the layer's document would."""

    name: str
    table: str
    select: str
    joins: str = ""
    where: str = ""
    order: str = "t.id"
    signature: str = ""
    scoped: bool = False  # cases: only those in the reader's scope
    # how the layer is counted when it is not ``where`` on the table alone (an upper bound)
    count_where: str | None = None


def _versions(*layers: str) -> str:
    """SQL: the versions of ``layers`` in ``layer_version``, moved by every statement that
    changes them (migrations 0007, 0013)."""
    return " || ':' || ".join(
        f"coalesce((SELECT version FROM layer_version WHERE city_id = :c AND layer = '{layer}'),"
        " 0)::text"
        for layer in layers
    )


# every insert, update or delete of a case — the rules' re-judging after a zone or catalogue
# edit included — numbers the bins it touches anew (migration 0007)
_CASES_VERSION = (
    "coalesce((SELECT max(change) FROM violation_bin_change WHERE city_id = :c), 0)::text"
)
_VALID_NOW = " AND t.valid_from <= now() AND (t.valid_to IS NULL OR t.valid_to > now())"
# a zone comes into force or ends at a time: the zones valid now are counted too
_ZONES_NOW = f"(SELECT count(*) FROM zone t WHERE t.city_id = :c{_VALID_NOW})::text"

# what makes an advertising site stale or a point uncovered beyond the rows themselves: the
# city's day and stale days, the categories' sight distances
_ADS_RULES = (
    "(SELECT (now() AT TIME ZONE c.timezone)::date || ':' || c.ad_stale_days || ':' || "
    "(SELECT string_agg(k.code || '=' || coalesce(k.ad_sight_m, 0), ',' ORDER BY k.code) "
    "FROM assessment_point_category k WHERE k.city_id = c.id) FROM city c WHERE c.id = :c)"
)

LAYERS: dict[str, MapLayer] = {
    layer.name: layer
    for layer in (
        MapLayer(
            "areas",
            "admin_area",
            "t.id, t.code, t.level, t.name",
            order="t.code",
            signature=_versions("admin_area"),
        ),
        MapLayer(
            "zones",
            "zone",
            "t.id, t.code, t.name, t.kind, u.code AS unit, u.name AS unit_name, "
            "fp.name AS first_person, dp.name AS direct_person, "
            "to_char(t.valid_from AT TIME ZONE c.timezone, 'YYYY-MM-DD') AS valid_from",
            "JOIN city c ON c.id = t.city_id "
            "JOIN unit u ON u.city_id = t.city_id AND u.id = t.unit_id "
            "LEFT JOIN person fp ON fp.city_id = t.city_id AND fp.id = t.first_person_id "
            "LEFT JOIN person dp ON dp.city_id = t.city_id AND dp.id = t.direct_person_id",
            _VALID_NOW,
            "t.kind, t.code",
            _versions("zone", "unit", "person") + " || ':' || " + _ZONES_NOW,
        ),
        MapLayer(
            "stall_areas",
            "stall_area",
            "t.id, t.code, t.name, to_char(t.opens_at, 'HH24:MI') AS opens_at, "
            "to_char(t.closes_at, 'HH24:MI') AS closes_at, "
            "to_json(t.allowed_categories) AS allowed_categories, u.name AS unit_name",
            "LEFT JOIN unit u ON u.city_id = t.city_id AND u.id = t.unit_id",
            order="t.code",
            signature=_versions("stall_area", "unit"),
        ),
        MapLayer(
            "assessment_points",
            "assessment_point",
            "t.id, t.code, t.name, t.category_code AS category, t.address, "
            "t.weight::float AS weight, t.radius_m",
            where=" AND t.active",
            order="t.code",
            signature=_versions("assessment_point"),
        ),
        MapLayer(
            "ad_sites",
            "ad_site",
            "t.id, t.code, t.name, t.content, t.facing_deg, t.width_m, t.height_m, "
            f"t.last_checked::text AS last_checked, u.name AS unit_name, {stale_sql('t')} AS stale",
            "JOIN city c ON c.id = t.city_id "
            "LEFT JOIN unit u ON u.city_id = t.city_id AND u.id = t.unit_id",
            order="t.code",
            signature=_versions("ad_site", "unit") + " || ':' || " + _ADS_RULES,
        ),
        # the points without a public-service ad in sight, or with stale ones only
        MapLayer(
            "ad_gaps",
            "assessment_point",
            "t.id, t.code, t.name, t.category_code AS category, a.ad_status, a.reason, a.sight_m",
            f"JOIN ({COVERAGE_SQL}) a ON a.point_id = t.id",
            " AND a.ad_status <> 'covered'",
            order="t.code",
            count_where=" AND t.active",
            signature=_versions("assessment_point", "ad_site", "basemap_feature")
            + " || ':' || "
            + _ADS_RULES,
        ),
        MapLayer(
            "violations",
            "violation",
            "t.id, t.case_no, t.category_code, t.status, t.source, t.description, "
            "t.observed_at, t.due_at, t.resolved_at, u.code AS unit_code, "
            "u.name AS unit_name, t.department_code, d.name AS department_name, "
            "to_json(t.photos) AS photos, t.rework_count",
            "LEFT JOIN unit u ON u.city_id = t.city_id AND u.id = t.unit_id "
            "LEFT JOIN unit d ON d.city_id = t.city_id AND d.code = t.department_code",
            # settled cases first, so that open ones are drawn over them
            order="t.status NOT IN ('resolved', 'closed', 'invalid'), t.observed_at",
            signature=_CASES_VERSION + " || ':' || " + _versions("unit"),
            scoped=True,
        ),
    )
}


def parse_bbox(value: str | None) -> tuple[float, float, float, float] | None:
    """``w,s,e,n`` in degrees, or a 400 naming ``bbox``."""
    if value is None:
        return None
    try:
        w, s, e, n = (float(v) for v in value.split(","))
    except ValueError:
        raise Problem(
            "The view is not understood.",
            errors=[field_error("bbox", "four numbers: west,south,east,north")],
        ) from None
    if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
        raise Problem(
            "The view is not understood.",
            errors=[field_error("bbox", "west < east within ±180, south < north within ±90")],
        )
    if (e - w) * (n - s) > BBOX_MAX_DEG2:
        raise Problem(
            "The view is too large.",
            errors=[field_error("bbox", f"at most {BBOX_MAX_DEG2} square degrees")],
        )
    return w, s, e, n


def size(conn: Connection, city: int, name: str, scope: CaseScope | None, most: int) -> int:
    """How many features the whole layer has for ``scope``, counted up to ``most`` + 1."""
    layer = _layer(name)
    where = layer.where if layer.count_where is None else layer.count_where
    where += and_where(scope) if layer.scoped else ""
    return conn.execute(
        text(
            f"SELECT count(*) FROM (SELECT 1 FROM {layer.table} t WHERE t.city_id = :c{where} "
            "LIMIT :n) s"
        ),
        {"c": city, "n": most + 1, **(scope_params(scope) if layer.scoped else {})},
    ).scalar()


def version(conn: Connection, city: int, name: str, scope: CaseScope | None) -> str:
    """The layer's version for ``city`` as ``scope`` sees it (an opaque string)."""
    layer = _layer(name)
    raw = conn.execute(text(f"SELECT {layer.signature}"), {"c": city}).scalar()
    units = (scope.unit_id,) if scope else ()
    return hashlib.sha256(repr((city, name, units, raw)).encode()).hexdigest()[:32]


def document(
    conn: Connection,
    city: int,
    name: str,
    scope: CaseScope | None,
    bbox: tuple[float, float, float, float] | None = None,
    limit: int = BBOX_LIMIT,
) -> tuple[bytes, str | None]:
    """The layer's GeoJSON FeatureCollection as bytes, and its version (None for a view,
    which is not cached). The whole layer comes from the cache when its version has not
    moved."""
    layer = _layer(name)
    if bbox is None:
        ver = version(conn, city, name, scope)
        body = _CACHE.get((city, name, ver))
        if body is None:
            body = _build(conn, city, layer, scope, None)
            if len(body) <= CACHE_BYTES // 8:  # no one layer crowds out the others
                _CACHE.put((city, name, ver), body)
        return body, ver
    return _build(conn, city, layer, scope, bbox, limit), None


def _layer(name: str) -> MapLayer:
    if name not in LAYERS:
        raise Problem(
            "There is no such map layer.",
            status=404,
            errors=[field_error("layer", "one of " + ", ".join(LAYERS))],
        )
    return LAYERS[name]


def _build(conn, city: int, layer: MapLayer, scope, bbox, limit: int = BBOX_LIMIT) -> bytes:
    where = layer.where + (and_where(scope) if layer.scoped else "")
    params: dict = {"c": city, **(scope_params(scope) if layer.scoped else {})}
    cap = ""
    if bbox is not None:
        where += " AND t.geom && ST_MakeEnvelope(:w, :s, :e, :n, 4326)"
        params.update(dict(zip("wsen", bbox, strict=True)))
        cap = f" LIMIT {int(limit)}"
    sql = (
        "SELECT json_build_object('type', 'FeatureCollection', 'features', "
        "coalesce(json_agg(ST_AsGeoJSON(f.*, 'geom', 7)::json), '[]'::json))::text FROM ("
        f"SELECT {layer.select}, t.geom FROM {layer.table} t {layer.joins} "
        f"WHERE t.city_id = :c{where} ORDER BY {layer.order}{cap}) f"
    )
    return conn.execute(text(sql), params).scalar().encode()


_CACHE = _Cache(CACHE_BYTES)
