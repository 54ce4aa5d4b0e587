"""The campaign's tables. Every table but ``city`` carries ``city_id`` and has it first in
its primary key, and every foreign key between tenant tables includes it, so the tables
can be distributed by city (Citus) and no row can point into another city.

Geometries are EPSG:4326 with GiST indexes. Metric work projects to the city's CRS
(``city.crs_epsg``, see ``gis.crs``).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from geoalchemy2 import Geometry, alembic_helpers
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, REAL
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SRID = 4326

ROLES = ("admin", "planner", "inspector", "unit", "leader", "system")  # system: Open311 client
AREA_LEVELS = ("district", "street", "community")
UNIT_KINDS = ("territorial", "functional", "company", "other")
ZONE_KINDS = ("grid", "road_segment", "frontage", "river", "area")
VIOLATION_STATUSES = (
    "open",  # 新发现: reported, not yet dispatched (no owner, or a category not dispatched)
    "dispatched",  # 已立案派遣: with its owner unit
    "rectifying",  # 整改中: the unit works on it
    "resolved",  # 已整改待核查: fixed, awaiting verification
    "closed",  # 已核查结案: verified
    "invalid",  # 不属实
    "disputed",  # 不属于本单位: the unit says it is not its case, awaiting a decision
    "hung",  # 挂账: a long-term case with a plan and a date a leader approved
)
# what may be done to a case (service/cases/loop.py says who may do what, from which state)
CASE_ACTIONS = (
    "report",
    "dispatch",
    "accept",
    "start",
    "fix",
    "verify_pass",
    "verify_fail",
    "invalidate",
    "dispute",
    "reassign",
    "extend_request",
    "extend_decide",
    "hang",
)
VIOLATION_SOURCES = ("inspection", "hotline", "camera", "citizen", "digital_city")
PROVENANCES = ("osm", "derived", "invented", "user", "import")
TRAVEL_MODES = ("walk", "bike", "drive")
BASEMAP_KINDS = ("water", "waterway", "building", "green")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _tenant_fk(cols: list[str], target: str, ondelete: str | None = None) -> ForeignKeyConstraint:
    """A foreign key that stays inside one city: (city_id, col...) → target(city_id, key...)."""
    table, keys = target.split("(")
    refcols = [f"{table}.{k.strip()}" for k in keys.rstrip(")").split(",")]
    return ForeignKeyConstraint(
        ["city_id", *cols], [f"{table}.city_id", *refcols], ondelete=ondelete
    )


class Base(DeclarativeBase):
    pass


class TenantMixin:
    city_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("city.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)


class City(Base):
    """The tenant: one campaign city."""

    __tablename__ = "city"
    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    code: Mapped[str] = mapped_column(String(6), unique=True)  # district-level adcode
    name: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str | None] = mapped_column(Text)
    crs_epsg: Mapped[int] = mapped_column(Integer)
    timezone: Mapped[str] = mapped_column(Text, server_default=text("'Asia/Shanghai'"))
    extent = mapped_column(Geometry("POLYGON", srid=SRID, spatial_index=False), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    # an advertising site last checked longer ago than this is stale
    ad_stale_days: Mapped[int] = mapped_column(Integer, server_default=text("30"))
    __table_args__ = (CheckConstraint("ad_stale_days > 0", name="city_ad_stale_days"),)


class AdminArea(TenantMixin, Base):
    """District (区), street office (街道) or community (社区/村)."""

    __tablename__ = "admin_area"
    code: Mapped[str] = mapped_column(String(12))
    level: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(Text)
    parent_id: Mapped[int | None] = mapped_column(BigInteger)
    provenance: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=SRID), nullable=False)
    __table_args__ = (
        UniqueConstraint("city_id", "code"),
        _tenant_fk(["parent_id"], "admin_area(id)"),
        CheckConstraint(_in("level", AREA_LEVELS), name="admin_area_level"),
        CheckConstraint(_in("provenance", PROVENANCES), name="admin_area_provenance"),
    )


class GridCell(TenantMixin, Base):
    """A unit grid cell (单元网格) with its 15-digit code."""

    __tablename__ = "grid_cell"
    code: Mapped[str] = mapped_column(String(17))
    community_id: Mapped[int] = mapped_column(BigInteger)
    size_m: Mapped[int] = mapped_column(Integer)
    row: Mapped[int] = mapped_column(Integer)
    col: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=SRID), nullable=False)
    __table_args__ = (
        Index("ix_grid_cell_city_geom", "city_id", "geom", postgresql_using="gist"),
        UniqueConstraint("city_id", "code"),
        _tenant_fk(["community_id"], "admin_area(id)"),
        CheckConstraint("code ~ '^[0-9]{15}([0-9]{2})?$'", name="grid_cell_code_digits"),
    )


class Unit(TenantMixin, Base):
    """A responsible unit: territorial office, functional department or company."""

    __tablename__ = "unit"
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(BigInteger)
    area_id: Mapped[int | None] = mapped_column(BigInteger)
    phone: Mapped[str | None] = mapped_column(String(32))
    provenance: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    __table_args__ = (
        UniqueConstraint("city_id", "code"),
        _tenant_fk(["parent_id"], "unit(id)"),
        _tenant_fk(["area_id"], "admin_area(id)"),
        CheckConstraint(_in("kind", UNIT_KINDS), name="unit_kind"),
        CheckConstraint(_in("provenance", PROVENANCES), name="unit_provenance"),
    )


class Person(TenantMixin, Base):
    """A responsible person (第一责任人, 直接责任人, 网格员 ...)."""

    __tablename__ = "person"
    name: Mapped[str] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(32))
    unit_id: Mapped[int] = mapped_column(BigInteger)
    provenance: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    __table_args__ = (
        UniqueConstraint("city_id", "unit_id", "name"),
        _tenant_fk(["unit_id"], "unit(id)"),
    )


class Zone(TenantMixin, Base):
    """A responsibility zone (责任区), owned by one unit for a validity period."""

    __tablename__ = "zone"
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[int] = mapped_column(BigInteger)
    first_person_id: Mapped[int | None] = mapped_column(BigInteger)
    direct_person_id: Mapped[int | None] = mapped_column(BigInteger)
    area_id: Mapped[int | None] = mapped_column(BigInteger)
    valid_from: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    valid_to: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    provenance: Mapped[str] = mapped_column(String(16))
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=SRID), nullable=False)
    __table_args__ = (
        Index("ix_zone_city_geom", "city_id", "geom", postgresql_using="gist"),
        UniqueConstraint("city_id", "code", "valid_from"),
        _tenant_fk(["unit_id"], "unit(id)"),
        _tenant_fk(["first_person_id"], "person(id)"),
        _tenant_fk(["direct_person_id"], "person(id)"),
        _tenant_fk(["area_id"], "admin_area(id)"),
        CheckConstraint(_in("kind", ZONE_KINDS), name="zone_kind"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="zone_validity"),
    )


class AssessmentPointCategory(Base):
    """Catalogue: assessment-point categories with their defaults and checklist."""

    __tablename__ = "assessment_point_category"
    city_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("city.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    default_radius_m: Mapped[int] = mapped_column(Integer)
    default_weight: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    dwell_s: Mapped[int] = mapped_column(Integer)
    checklist: Mapped[list] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    color: Mapped[str] = mapped_column(String(7))
    # a public-service ad should be in sight within this distance (None: none needed)
    ad_sight_m: Mapped[int | None] = mapped_column(Integer)
    __table_args__ = (
        CheckConstraint("default_radius_m > 0", name="apc_radius_positive"),
        CheckConstraint("ad_sight_m > 0 AND ad_sight_m <= 500", name="apc_ad_sight"),
    )


class ViolationCategory(Base):
    """Catalogue: violation categories with their functional department and deadline."""

    __tablename__ = "violation_category"
    city_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("city.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    group_code: Mapped[str] = mapped_column(String(32))
    department_code: Mapped[str] = mapped_column(String(32))
    severity: Mapped[int] = mapped_column(Integer)
    # severity when inside an assessment point's surroundings; None: one step up, at most 5
    severity_near_point: Mapped[int | None] = mapped_column(Integer)
    deadline_h: Mapped[int] = mapped_column(Integer)
    vending: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # a new case with an owner is dispatched to it as it arrives (migration 0013)
    auto_dispatch: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    __table_args__ = (
        ForeignKeyConstraint(["city_id", "department_code"], ["unit.city_id", "unit.code"]),
        CheckConstraint("severity BETWEEN 1 AND 5", name="vc_severity_range"),
        CheckConstraint("severity_near_point BETWEEN 1 AND 6", name="vc_near_severity_range"),
        CheckConstraint("deadline_h > 0", name="vc_deadline_positive"),
    )


class AssessmentPoint(TenantMixin, Base):
    """An assessment point (测评点位) and the radius of its surrounding area."""

    __tablename__ = "assessment_point"
    code: Mapped[str] = mapped_column(String(32))
    category_code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    weight: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    radius_m: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    provenance: Mapped[str] = mapped_column(String(16))
    osm_id: Mapped[int | None] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    geom = mapped_column(Geometry("GEOMETRY", srid=SRID), nullable=False)
    # The surrounding area padded by half a percent (a buffer polygon lies inside the true
    # circle): an indexed superset for lookups; membership is decided by exact distance.
    search_area = mapped_column(
        Geometry("GEOMETRY", srid=SRID),
        Computed("ST_Buffer(geom::geography, radius_m * 1.005 + 1)::geometry", persisted=True),
    )
    __table_args__ = (
        Index(
            "ix_assessment_point_city_search_area",
            "city_id",
            "search_area",
            postgresql_using="gist",
        ),
        UniqueConstraint("city_id", "code"),
        ForeignKeyConstraint(
            ["city_id", "category_code"],
            ["assessment_point_category.city_id", "assessment_point_category.code"],
        ),
        CheckConstraint("radius_m > 0 AND radius_m <= 5000", name="ap_radius_positive"),
        CheckConstraint(
            "GeometryType(geom) IN ('POINT', 'POLYGON', 'MULTIPOLYGON')", name="ap_geom_type"
        ),
    )


class StallArea(TenantMixin, Base):
    """An approved convenience-stall area (便民摊点) with its allowed hours."""

    __tablename__ = "stall_area"
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(Text)
    opens_at: Mapped[dt.time] = mapped_column(Time)
    closes_at: Mapped[dt.time] = mapped_column(Time)  # earlier than opens_at: past midnight
    allowed_categories: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    unit_id: Mapped[int | None] = mapped_column(BigInteger)
    provenance: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=SRID), nullable=False)
    __table_args__ = (
        Index("ix_stall_area_city_geom", "city_id", "geom", postgresql_using="gist"),
        UniqueConstraint("city_id", "code"),
        _tenant_fk(["unit_id"], "unit(id)"),
        CheckConstraint("opens_at <> closes_at", name="stall_hours_nonempty"),
    )


class AdSite(TenantMixin, Base):
    """A public-service advertising site (公益广告): a board, a wall, a screen. ``facing_deg``:
    the way its face looks, clockwise from north (None: seen from all sides, a column)."""

    __tablename__ = "ad_site"
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(Text)
    content: Mapped[str | None] = mapped_column(Text)
    facing_deg: Mapped[float | None] = mapped_column(Float)
    width_m: Mapped[float | None] = mapped_column(Float)
    height_m: Mapped[float | None] = mapped_column(Float)
    last_checked: Mapped[dt.date | None] = mapped_column(Date)
    unit_id: Mapped[int | None] = mapped_column(BigInteger)
    provenance: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    geom = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False), nullable=False)
    __table_args__ = (
        Index("ix_ad_site_city_geom", "city_id", "geom", postgresql_using="gist"),
        UniqueConstraint("city_id", "code"),
        _tenant_fk(["unit_id"], "unit(id)"),
        CheckConstraint("facing_deg >= 0 AND facing_deg < 360", name="ad_site_facing"),
        CheckConstraint(
            "width_m > 0 AND width_m <= 200 AND height_m > 0 AND height_m <= 200",
            name="ad_site_size",
        ),
    )


class Road(TenantMixin, Base):
    """A street of the routing network (imported from OpenStreetMap or a line layer)."""

    __tablename__ = "road"
    osm_id: Mapped[int | None] = mapped_column(BigInteger)
    name: Mapped[str | None] = mapped_column(Text)
    highway: Mapped[str] = mapped_column(String(32))
    oneway: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    provenance: Mapped[str] = mapped_column(String(16))
    geom = mapped_column(Geometry("LINESTRING", srid=SRID, spatial_index=False), nullable=False)
    __table_args__ = (
        Index("ix_road_city_geom", "city_id", "geom", postgresql_using="gist"),
        CheckConstraint("oneway IN (-1, 0, 1)", name="road_oneway"),
    )


class BasemapFeature(TenantMixin, Base):
    """Water, a waterway, a building or a green area of the own base map (imported from
    OpenStreetMap with the streets, clipped to the city), replaced wholesale on import. A
    named area keeps where its name goes and the room there (migration 0012)."""

    __tablename__ = "basemap_feature"
    kind: Mapped[str] = mapped_column(String(16))
    tag: Mapped[str] = mapped_column(String(64))  # the OSM tag it was taken by: waterway=river
    name: Mapped[str | None] = mapped_column(Text)
    osm_id: Mapped[int | None] = mapped_column(BigInteger)
    provenance: Mapped[str] = mapped_column(String(16))
    geom = mapped_column(Geometry("GEOMETRY", srid=SRID, spatial_index=False), nullable=False)
    label_at = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False))
    label_radius_mercator_m: Mapped[float | None] = mapped_column(REAL)
    __table_args__ = (
        Index("ix_basemap_feature_city_geom", "city_id", "geom", postgresql_using="gist"),
        CheckConstraint(_in("kind", BASEMAP_KINDS), name="basemap_feature_kind"),
        CheckConstraint(
            "ST_Dimension(geom) = CASE kind WHEN 'waterway' THEN 1 ELSE 2 END",
            name="basemap_feature_dimension",
        ),
    )


class AppUser(TenantMixin, Base):
    """A person who signs in: admin, planner, inspector, unit or leader."""

    __tablename__ = "app_user"
    name: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(Text)
    unit_id: Mapped[int | None] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    __table_args__ = (
        _tenant_fk(["unit_id"], "unit(id)"),
        CheckConstraint(_in("role", ROLES), name="app_user_role"),
        CheckConstraint("role <> 'unit' OR unit_id IS NOT NULL", name="app_user_unit_role"),
    )


class ApiToken(TenantMixin, Base):
    """A bearer token for programs; only its SHA-256 is stored."""

    __tablename__ = "api_token"
    user_id: Mapped[int] = mapped_column(BigInteger)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (_tenant_fk(["user_id"], "app_user(id)", ondelete="CASCADE"),)


class Violation(TenantMixin, Base):
    """A violation (问题, 不文明现象): what, where, when, and its rectification state."""

    __tablename__ = "violation"
    case_no: Mapped[str] = mapped_column(String(32))
    category_code: Mapped[str] = mapped_column(String(32))
    description: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)  # as a reporting system gave it (Open311)
    observed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    reported_by: Mapped[int | None] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), server_default=text("'open'"))
    due_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    photos: Mapped[list] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    # how far the reporting phone said its fix may be off, in metres (migration 0008)
    location_accuracy_m: Mapped[float | None] = mapped_column(REAL)
    provenance: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    # the loop's counters and when it closed (migration 0013; written with each case_event)
    rework_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    extension_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # the tally the figures read (migration 0014, service/cases/tally.py): the first fix,
    # disputes and passed verifications, the unit they count to, and whether to more than one
    first_fix_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    disputes: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    verify_passes: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    tally_unit: Mapped[int | None] = mapped_column(BigInteger)
    tally_mixed: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # counted (also) to a unit that is not the owner now: the figures count these apart
    tally_apart = mapped_column(
        Boolean,
        Computed(
            "tally_mixed OR coalesce(tally_unit <> coalesce(unit_id, -1), false)", persisted=True
        ),
    )
    # what the loop decided stands against the rules (trigger violation_to_keep_decisions):
    # the unit the office gave the case to, the due date an extension or a leader set
    unit_override: Mapped[int | None] = mapped_column(BigInteger)
    due_override: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Set by the database's rules (trigger violation_rules) in the writing transaction:
    grid_cell_id: Mapped[int | None] = mapped_column(BigInteger)
    zone_id: Mapped[int | None] = mapped_column(BigInteger)
    unit_id: Mapped[int | None] = mapped_column(BigInteger)  # territorial owner (块)
    department_code: Mapped[str | None] = mapped_column(String(32))  # functional owner (条)
    severity: Mapped[int | None] = mapped_column(Integer)
    permitted: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    near_points: Mapped[list] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    geom = mapped_column(Geometry("POINT", srid=SRID), nullable=False)
    # the same point in web mercator, for the map's tiles and bins (migration 0007)
    geom_3857 = mapped_column(
        Geometry("POINT", srid=3857, spatial_index=False),
        Computed("ST_Transform(geom, 3857)", persisted=True),
    )
    __table_args__ = (
        UniqueConstraint("city_id", "case_no"),
        # grid_cell_id and zone_id carry no foreign key: the rules recompute them whenever a
        # cell or zone changes or goes, which a key would have to fight at delete time.
        _tenant_fk(["unit_id"], "unit(id)"),
        Index("ix_violation_city_zone", "city_id", "zone_id"),
        # the figures' medians read a key's fixed cases from these alone (migration 0014)
        Index(
            "ix_violation_city_unit",
            "city_id",
            "unit_id",
            "observed_at",
            postgresql_include=["first_fix_at", "permitted", "status"],
        ),
        Index(
            "ix_violation_city_department",
            "city_id",
            "department_code",
            "observed_at",
            postgresql_include=["first_fix_at", "permitted", "status"],
        ),
        ForeignKeyConstraint(
            ["city_id", "category_code"],
            ["violation_category.city_id", "violation_category.code"],
        ),
        _tenant_fk(["reported_by"], "app_user(id)"),
        CheckConstraint(_in("status", VIOLATION_STATUSES), name="violation_status"),
        CheckConstraint(_in("source", VIOLATION_SOURCES), name="violation_source"),
        Index("ix_violation_city_observed", "city_id", "observed_at"),
        Index("ix_violation_city_status", "city_id", "status"),
        Index(
            "ix_violation_tally_apart",
            "city_id",
            "observed_at",
            postgresql_where=text("tally_apart"),
        ),
        Index(
            "violation_photos_idx",
            "photos",
            postgresql_using="gin",
            postgresql_ops={"photos": "jsonb_path_ops"},
        ),
        CheckConstraint("location_accuracy_m >= 0", name="violation_location_accuracy_m_check"),
    )


class CaseEvent(TenantMixin, Base):
    """One step of a case's life (migration 0013): who did what, when, from which state to
    which, with a comment, photos and where the phone was. The case's state is the last
    event's ``to_status``, kept on the case in the same transaction."""

    __tablename__ = "case_event"
    violation_id: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
    photos: Mapped[list] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    geom = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False), nullable=True)
    accuracy_m: Mapped[float | None] = mapped_column(REAL)
    unit_id: Mapped[int | None] = mapped_column(BigInteger)  # the case's owner at the time
    data: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    __table_args__ = (
        _tenant_fk(["violation_id"], "violation(id)", ondelete="CASCADE"),
        _tenant_fk(["actor_id"], "app_user(id)"),
        CheckConstraint(_in("action", CASE_ACTIONS), name="case_event_action"),
        Index("ix_case_event_city_case_at", "city_id", "violation_id", "at"),
        Index("ix_case_event_city_at", "city_id", "at"),
        Index(
            "case_event_photos_idx",
            "photos",
            postgresql_using="gin",
            postgresql_ops={"photos": "jsonb_path_ops"},
        ),
    )


class InspectionPlan(TenantMixin, Base):
    """An unannounced inspection (暗访) plan: a team, a time window and ordered stops."""

    __tablename__ = "inspection_plan"
    plan_date: Mapped[dt.date] = mapped_column(Date)
    window_start: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    window_end: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    release_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    mode: Mapped[str] = mapped_column(String(8))
    area_id: Mapped[int | None] = mapped_column(BigInteger)
    created_by: Mapped[int] = mapped_column(BigInteger)
    travel_s: Mapped[int | None] = mapped_column(Integer)
    dwell_s: Mapped[int | None] = mapped_column(Integer)
    distance_m: Mapped[int | None] = mapped_column(Integer)
    draws: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    depot = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False), nullable=False)
    route = mapped_column(Geometry("LINESTRING", srid=SRID, spatial_index=False))
    # a cancelled round takes no more check-ins; the visits it had made stand (0019)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_by: Mapped[int | None] = mapped_column(BigInteger)
    __table_args__ = (
        _tenant_fk(["area_id"], "admin_area(id)"),
        _tenant_fk(["created_by"], "app_user(id)"),
        _tenant_fk(["cancelled_by"], "app_user(id)"),
        CheckConstraint(_in("mode", TRAVEL_MODES), name="plan_mode"),
        CheckConstraint("window_end > window_start", name="plan_window"),
    )


class InspectionTeamMember(Base):
    __tablename__ = "inspection_team_member"
    city_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    __table_args__ = (
        _tenant_fk(["plan_id"], "inspection_plan(id)", ondelete="CASCADE"),
        _tenant_fk(["user_id"], "app_user(id)"),
    )


class InspectionStop(TenantMixin, Base):
    __tablename__ = "inspection_stop"
    plan_id: Mapped[int] = mapped_column(BigInteger)
    seq: Mapped[int] = mapped_column(Integer)
    # an assessment point, or a case awaiting verification (migration 0015)
    point_id: Mapped[int | None] = mapped_column(BigInteger)
    violation_id: Mapped[int | None] = mapped_column(BigInteger)
    eta: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    dwell_s: Mapped[int] = mapped_column(Integer)
    arrived_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        UniqueConstraint("city_id", "plan_id", "seq"),
        _tenant_fk(["plan_id"], "inspection_plan(id)", ondelete="CASCADE"),
        _tenant_fk(["point_id"], "assessment_point(id)"),
        _tenant_fk(["violation_id"], "violation(id)", ondelete="CASCADE"),
        CheckConstraint(
            "(point_id IS NULL) <> (violation_id IS NULL)", name="inspection_stop_one_place"
        ),
    )


class InspectionDue(Base):
    """A point's hidden next-visit date, drawn when it was last visited (gis/tours.py). Only
    the planner of tours reads it: a due date known is a visit foretold."""

    __tablename__ = "inspection_due"
    city_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    point_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    last_visit_on: Mapped[dt.date] = mapped_column(Date)
    due_on: Mapped[dt.date] = mapped_column(Date)
    __table_args__ = (_tenant_fk(["point_id"], "assessment_point(id)", ondelete="CASCADE"),)


class AuditLog(Base):
    """Every write, filled by a trigger on each table in the same transaction."""

    __tablename__ = "audit_log"
    city_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_name: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(8))
    table_name: Mapped[str] = mapped_column(String(64))
    row_key: Mapped[str | None] = mapped_column(Text)
    old: Mapped[dict | None] = mapped_column(JSONB)
    new: Mapped[dict | None] = mapped_column(JSONB)
    __table_args__ = (Index("ix_audit_table_row", "city_id", "table_name", "row_key"),)


class ViolationBin(Base):
    """How many cases of each status and category lie in each bin of a fixed web-mercator
    lattice (64 bins a side in a zoom-12 tile, about 150 m): the map's low-zoom tiles are
    summed from here instead of from a million cases. Kept by statement triggers on
    violation (migration 0007); derived, so not audited."""

    __tablename__ = "violation_bin"
    city_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("city.id", ondelete="CASCADE"), primary_key=True
    )
    bx: Mapped[int] = mapped_column(Integer, primary_key=True)
    by: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    category_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class ViolationBinChange(Base):
    """The last change to each bin's cases, numbered from ``violation_bin_change_seq``: a
    tile's cache key is the largest number under it. Derived, so not audited."""

    __tablename__ = "violation_bin_change"
    city_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("city.id", ondelete="CASCADE"), primary_key=True
    )
    bx: Mapped[int] = mapped_column(Integer, primary_key=True)
    by: Mapped[int] = mapped_column(Integer, primary_key=True)
    change: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (Index("ix_violation_bin_change_city_change", "city_id", "change"),)


class LayerVersion(Base):
    """A counter per city and layer, raised by every statement that changes the layer, in
    its transaction: a reader sees the version that matches its snapshot, so caches keyed by
    it are never stale. Derived, so not audited."""

    __tablename__ = "layer_version"
    city_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("city.id", ondelete="CASCADE"), primary_key=True
    )
    layer: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


class UserSession(TenantMixin, Base):
    """A browser sign-in (migration 0010): the cookie carries a random id whose SHA-256 is kept
    here, so signing out, a new password or disabling the user ends it on the server, and an
    idle one expires. Its own rows are the record of sign-ins, so it is not audited."""

    __tablename__ = "user_session"
    user_id: Mapped[int] = mapped_column(BigInteger)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    address: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    last_seen_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (_tenant_fk(["user_id"], "app_user(id)", ondelete="CASCADE"),)


class IdempotencyKey(Base):
    """The first answer to a POST sent with an ``Idempotency-Key``, written in the same
    transaction as what the POST created, so a retry gets that answer and writes nothing.
    Kept 24 hours; operational, not audited."""

    __tablename__ = "idempotency_key"
    city_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("city.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(SmallInteger)
    headers: Mapped[dict] = mapped_column(JSONB)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    __table_args__ = (
        ForeignKeyConstraint(
            ["city_id", "user_id"], ["app_user.city_id", "app_user.id"], ondelete="CASCADE"
        ),
        Index("ix_idempotency_key_created", "created_at"),
    )


class ServerSecret(Base):
    """Keys of the deployment (the session-signing key), kept in the database rather than in
    a file the server could be made to read; a migration makes a new one. Not per city."""

    __tablename__ = "server_secret"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


DERIVED_TABLES = ("audit_log", "violation_bin", "violation_bin_change", "layer_version")
# kept by the server for its own working, not the campaign's data
OPERATIONAL_TABLES = ("user_session", "idempotency_key", "server_secret")
# records of their own, appended and never changed: each case_event changes its case's row,
# which is audited
LOG_TABLES = ("case_event",)
AUDITED_TABLES = [
    t.name for t in Base.metadata.sorted_tables if t.name not in DERIVED_TABLES + OPERATIONAL_TABLES
]


class RankingWeek(Base):
    """A group's weekly ranking as a leader published it (service/ranking/weekly.py): its
    rows and the rules they were scored by; never changed (trigger, migration 0016)."""

    __tablename__ = "ranking_week"
    city_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    week: Mapped[str] = mapped_column(String(8), primary_key=True)
    grp: Mapped[str] = mapped_column(String(16), primary_key=True)
    rows: Mapped[list] = mapped_column(JSONB)
    rules: Mapped[dict] = mapped_column(JSONB)
    published_by: Mapped[int | None] = mapped_column(BigInteger)
    published_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    __table_args__ = (
        ForeignKeyConstraint(["city_id"], ["city.id"], ondelete="CASCADE"),
        _tenant_fk(["published_by"], "app_user(id)"),
        CheckConstraint("grp IN ('street', 'community', 'department')", name="ranking_grp"),
        CheckConstraint("week ~ '^[0-9]{4}-W[0-9]{2}$'", name="ranking_week_form"),
    )


class AssessmentSheet(Base):
    """A point category's mock-assessment sheet (模拟测评), one row per version: its items
    (code, names, points, the violation category a deduction files as). Migration 0017."""

    __tablename__ = "assessment_sheet"
    city_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("city.id", ondelete="CASCADE"), primary_key=True
    )
    category_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    items: Mapped[list] = mapped_column(JSONB)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    __table_args__ = (_tenant_fk(["category_code"], "assessment_point_category(code)"),)


class Assessment(TenantMixin, Base):
    """A point scored against the version of its category's sheet it was scored with."""

    __tablename__ = "assessment"
    point_id: Mapped[int] = mapped_column(BigInteger)
    category_code: Mapped[str] = mapped_column(String(32))
    sheet_version: Mapped[int] = mapped_column(Integer)
    assessor_id: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    scores: Mapped[dict] = mapped_column(JSONB)
    score: Mapped[float] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float)
    __table_args__ = (
        _tenant_fk(["point_id"], "assessment_point(id)"),
        _tenant_fk(["category_code", "sheet_version"], "assessment_sheet(category_code, version)"),
        _tenant_fk(["assessor_id"], "app_user(id)"),
        Index("ix_assessment_city_at", "city_id", "at"),
    )


class AssessmentDeduction(TenantMixin, Base):
    """Points lost on one item, the case it filed, and the owners it was attributed to when
    it was scored: the unit and zone of its place (块), the department of its category (条)."""

    __tablename__ = "assessment_deduction"
    assessment_id: Mapped[int] = mapped_column(BigInteger)
    item_code: Mapped[str] = mapped_column(String(32))
    points: Mapped[float] = mapped_column(Float)
    violation_id: Mapped[int | None] = mapped_column(BigInteger)
    unit_id: Mapped[int | None] = mapped_column(BigInteger)
    zone_id: Mapped[int | None] = mapped_column(BigInteger)
    department_code: Mapped[str | None] = mapped_column(String(32))
    __table_args__ = (
        _tenant_fk(["assessment_id"], "assessment(id)", ondelete="CASCADE"),
        _tenant_fk(["violation_id"], "violation(id)", ondelete="SET NULL (violation_id)"),
        _tenant_fk(["unit_id"], "unit(id)"),
        CheckConstraint("points > 0", name="assessment_deduction_points"),
        Index("ix_assessment_deduction_assessment", "city_id", "assessment_id"),
    )


# the cases and their events are partitioned by city (migration 0022): one partition each per
# city, made with the city, which the models do not name
CITY_PARTITIONED = ("violation", "case_event")
CITY_PARTITION = re.compile(rf"({'|'.join(CITY_PARTITIONED)})_c[0-9]+")


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """What Alembic compares with the models: GeoAlchemy2's choice, less a city's partitions
    (and so their indexes and constraints) and the foreign keys to them."""
    if type_ == "table" and CITY_PARTITION.fullmatch(name or ""):
        return False
    # the foreign keys to the partitioned tables are also kept, by PostgreSQL, as one to
    # each partition
    if type_ == "foreign_key_constraint" and CITY_PARTITION.fullmatch(obj.referred_table.name):
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)
