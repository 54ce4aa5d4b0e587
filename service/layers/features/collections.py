"""The collections served through OGC API – Features, described once.

Each collection says where its rows live, how a row becomes GeoJSON properties (built in
SQL, so large responses stream without Python touching each row), which query
parameters filter it, what a write may set, and who may write.
"""

from __future__ import annotations

from dataclasses import dataclass, field

WRITERS_LAYERS = ("planner",)
WRITERS_CASES = ("inspector", "leader", "planner")


@dataclass(frozen=True)
class Filter:
    sql: str  # a boolean SQL expression with the parameter :value
    kind: str = "text"  # text | int | bool
    doc: str = ""


@dataclass(frozen=True)
class Collection:
    id: str
    title_zh: str
    title_en: str
    table: str
    geometry_types: tuple[str, ...]
    from_sql: str  # "<table> t" plus joins
    properties: dict[str, str]  # property name → SQL expression
    filters: dict[str, Filter] = field(default_factory=dict)
    temporal: tuple[str, str | None] | None = None  # (start column, end column)
    current_only: bool = False  # zones: without datetime, only those valid now
    create_roles: tuple[str, ...] = WRITERS_LAYERS
    edit_roles: tuple[str, ...] = WRITERS_LAYERS
    code_column: str = "code"


AREAS = Collection(
    id="areas",
    title_zh="行政区划（区县、街道、社区）",
    title_en="Administrative areas (district, street office, community)",
    table="admin_area",
    geometry_types=("MultiPolygon",),
    from_sql=(
        "admin_area t LEFT JOIN admin_area pa ON pa.city_id = t.city_id AND pa.id = t.parent_id"
    ),
    properties={
        "code": "t.code",
        "level": "t.level",
        "name": "t.name",
        "parent_code": "pa.code",
        "provenance": "t.provenance",
        "version": "t.version",
    },
    filters={
        "level": Filter("t.level = :value", doc="district, street or community"),
        "code": Filter("t.code = :value"),
        "parent_code": Filter("pa.code = :value"),
    },
)

GRID_CELLS = Collection(
    id="grid_cells",
    title_zh="单元网格",
    title_en="Grid cells",
    table="grid_cell",
    geometry_types=("MultiPolygon",),
    from_sql="grid_cell t JOIN admin_area a ON a.city_id = t.city_id AND a.id = t.community_id",
    properties={
        "code": "t.code",
        "community_code": "a.code",
        "community": "a.name",
        "size_m": "t.size_m",
        "row": "t.row",
        "col": "t.col",
        "version": "t.version",
    },
    filters={
        "code": Filter("t.code = :value"),
        "community_code": Filter("a.code = :value"),
    },
)

ZONES = Collection(
    id="zones",
    title_zh="责任区",
    title_en="Responsibility zones",
    table="zone",
    geometry_types=("MultiPolygon",),
    from_sql=(
        "zone t JOIN unit u ON u.city_id = t.city_id AND u.id = t.unit_id "
        "LEFT JOIN person fp ON fp.city_id = t.city_id AND fp.id = t.first_person_id "
        "LEFT JOIN person dp ON dp.city_id = t.city_id AND dp.id = t.direct_person_id "
        "LEFT JOIN admin_area a ON a.city_id = t.city_id AND a.id = t.area_id"
    ),
    properties={
        "code": "t.code",
        "name": "t.name",
        "kind": "t.kind",
        "unit": "u.code",
        "unit_name": "u.name",
        "first_person_id": "t.first_person_id",
        "first_person": "fp.name",
        "direct_person_id": "t.direct_person_id",
        "direct_person": "dp.name",
        "area_code": "a.code",
        "valid_from": "t.valid_from",
        "valid_to": "t.valid_to",
        "provenance": "t.provenance",
        "version": "t.version",
    },
    filters={
        "kind": Filter("t.kind = :value"),
        "unit": Filter("u.code = :value", doc="responsible unit's code"),
        "code": Filter("t.code = :value"),
    },
    temporal=("t.valid_from", "t.valid_to"),
    current_only=True,
)

ASSESSMENT_POINTS = Collection(
    id="assessment_points",
    title_zh="测评点位",
    title_en="Assessment points",
    table="assessment_point",
    geometry_types=("Point", "Polygon", "MultiPolygon"),
    from_sql="assessment_point t",
    properties={
        "code": "t.code",
        "name": "t.name",
        "category": "t.category_code",
        "address": "t.address",
        "weight": "t.weight",
        "radius_m": "t.radius_m",
        "active": "t.active",
        "provenance": "t.provenance",
        "version": "t.version",
    },
    filters={
        "category": Filter("t.category_code = :value"),
        "active": Filter("t.active = :value", kind="bool"),
        "code": Filter("t.code = :value"),
    },
)

STALL_AREAS = Collection(
    id="stall_areas",
    title_zh="便民摊点",
    title_en="Approved convenience-stall areas",
    table="stall_area",
    geometry_types=("MultiPolygon",),
    from_sql="stall_area t LEFT JOIN unit u ON u.city_id = t.city_id AND u.id = t.unit_id",
    properties={
        "code": "t.code",
        "name": "t.name",
        "opens_at": "to_char(t.opens_at, 'HH24:MI')",
        "closes_at": "to_char(t.closes_at, 'HH24:MI')",
        "allowed_categories": "t.allowed_categories",
        "unit": "u.code",
        "provenance": "t.provenance",
        "version": "t.version",
    },
    filters={"code": Filter("t.code = :value")},
)

AD_SITES = Collection(
    id="ad_sites",
    title_zh="公益广告",
    title_en="Public-service advertising sites",
    table="ad_site",
    geometry_types=("Point",),
    from_sql="ad_site t LEFT JOIN unit u ON u.city_id = t.city_id AND u.id = t.unit_id",
    properties={
        "code": "t.code",
        "name": "t.name",
        "content": "t.content",
        "facing_deg": "t.facing_deg",
        "width_m": "t.width_m",
        "height_m": "t.height_m",
        "last_checked": "t.last_checked",
        "unit": "u.code",
        "provenance": "t.provenance",
        "version": "t.version",
    },
    filters={
        "code": Filter("t.code = :value"),
        "unit": Filter("u.code = :value", doc="maintaining unit's code"),
    },
)

OVERDUE_SQL = (
    "(t.due_at < now() AND NOT t.permitted AND t.status NOT IN ('resolved', 'closed', 'invalid'))"
)

VIOLATIONS = Collection(
    id="violations",
    title_zh="问题（不文明现象）",
    title_en="Violations",
    table="violation",
    geometry_types=("Point",),
    from_sql=(
        "violation t "
        "LEFT JOIN grid_cell g ON g.city_id = t.city_id AND g.id = t.grid_cell_id "
        "LEFT JOIN zone z ON z.city_id = t.city_id AND z.id = t.zone_id "
        "LEFT JOIN unit u ON u.city_id = t.city_id AND u.id = t.unit_id "
        "LEFT JOIN app_user r ON r.city_id = t.city_id AND r.id = t.reported_by"
    ),
    properties={
        "case_no": "t.case_no",
        "category": "t.category_code",
        "description": "t.description",
        "status": "t.status",
        "source": "t.source",
        "observed_at": "t.observed_at",
        "due_at": "t.due_at",
        "resolved_at": "t.resolved_at",
        "overdue": OVERDUE_SQL,
        "reported_by": "r.name",
        "photos": "t.photos",
        "location_accuracy_m": "t.location_accuracy_m",
        "grid_cell_code": "g.code",
        "zone_id": "t.zone_id",
        "zone_code": "z.code",
        "unit": "u.code",
        "unit_name": "u.name",
        "department": "t.department_code",
        "severity": "t.severity",
        "permitted": "t.permitted",
        "near_points": "t.near_points",
        "provenance": "t.provenance",
        "version": "t.version",
    },
    filters={
        "status": Filter("t.status = :value"),
        "category": Filter("t.category_code = :value"),
        "unit": Filter("u.code = :value", doc="territorial owner's unit code"),
        "department": Filter("t.department_code = :value"),
        "source": Filter("t.source = :value"),
        "zone_code": Filter("z.code = :value"),
        "grid_cell_code": Filter("g.code = :value"),
        "case_no": Filter("t.case_no = :value"),
        "severity": Filter("t.severity = :value", kind="int"),
        "permitted": Filter("t.permitted = :value", kind="bool"),
        "overdue": Filter(f"{OVERDUE_SQL} = :value", kind="bool"),
    },
    temporal=("t.observed_at", None),
    create_roles=WRITERS_CASES,
    edit_roles=("leader", "planner"),
    code_column="case_no",
)

# responsible units and persons: items without a geometry (OGC API Features allows them)
UNITS = Collection(
    id="units",
    title_zh="责任单位",
    title_en="Responsible units",
    table="unit",
    geometry_types=(),
    from_sql=(
        "unit t LEFT JOIN unit pu ON pu.city_id = t.city_id AND pu.id = t.parent_id "
        "LEFT JOIN admin_area a ON a.city_id = t.city_id AND a.id = t.area_id"
    ),
    properties={
        "code": "t.code",
        "name": "t.name",
        "kind": "t.kind",
        "parent_code": "pu.code",
        "area_code": "a.code",
        "phone": "t.phone",
        "provenance": "t.provenance",
        "version": "t.version",
    },
    filters={
        "kind": Filter("t.kind = :value", doc="territorial, functional, company or other"),
        "code": Filter("t.code = :value"),
        "parent_code": Filter("pu.code = :value"),
    },
)

PERSONS = Collection(
    id="persons",
    title_zh="责任人",
    title_en="Responsible persons",
    table="person",
    geometry_types=(),
    from_sql="person t JOIN unit u ON u.city_id = t.city_id AND u.id = t.unit_id",
    properties={
        "name": "t.name",
        "unit_code": "u.code",
        "unit_name": "u.name",
        "role": "t.title",
        "phone": "t.phone",
        "provenance": "t.provenance",
        "version": "t.version",
    },
    filters={
        "unit_code": Filter("u.code = :value"),
        "role": Filter("t.title = :value", doc="e.g. 第一责任人, 直接责任人, 网格员"),
        "name": Filter("t.name = :value"),
    },
    code_column="name",
)

COLLECTIONS = {
    c.id: c
    for c in (
        AREAS,
        GRID_CELLS,
        ZONES,
        ASSESSMENT_POINTS,
        STALL_AREAS,
        AD_SITES,
        VIOLATIONS,
        UNITS,
        PERSONS,
    )
}


def feature_sql(c: Collection) -> str:
    """One row's GeoJSON Feature as text: lon/lat, 7 decimals, exterior rings CCW. The
    properties are one record (``feat``, joined by ``feature_from``) that PostgreSQL turns to
    JSON in one call, each value in its type's own JSON form: twice as fast as naming every
    pair to ``json_build_object``."""
    geometry = (
        "coalesce(ST_AsGeoJSON(ST_ForcePolygonCCW(t.geom), 7), 'null')"
        if c.geometry_types
        else "'null'"
    )
    return (
        '\'{"type": "Feature", "id": \' || t.id || \', "geometry": \' || '
        f"{geometry} || ', \"properties\": ' || to_json(feat) || '}}'"
    )


def feature_from(c: Collection) -> str:
    """The collection's rows with their properties as one record, ``feat``."""
    props = ", ".join(f'{v} AS "{k}"' for k, v in c.properties.items())
    return f"{c.from_sql} CROSS JOIN LATERAL (SELECT {props}) feat"
