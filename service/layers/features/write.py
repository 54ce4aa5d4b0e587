"""Writes through OGC API – Features Part 4: validate, resolve codes, insert or update with a
version check, all in the caller's transaction."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Literal

import shapely
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from gis.validate import GeometryProblem, check, parse
from service.cases.photos import PHOTO_REF
from service.errors import Problem, field_error, pydantic_errors
from service.layers.features.collections import Collection
from service.store.db import cached
from service.store.models import AREA_LEVELS, VIOLATION_SOURCES, VIOLATION_STATUSES, ZONE_KINDS

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AreaIn(_In):
    code: str = Field(pattern=r"^\d{6}(\d{3}){0,2}$")
    level: Literal[AREA_LEVELS]  # type: ignore[valid-type]
    name: str = Field(min_length=1, max_length=200)
    parent_code: str | None = None


class GridCellIn(_In):
    code: str = Field(pattern=r"^\d{15}(\d{2})?$")
    community_code: str = Field(pattern=r"^\d{12}$")
    size_m: int = Field(default=100, gt=0, le=10_000)
    row: int = 0
    col: int = 0


class ZoneIn(_In):
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=200)
    kind: Literal[ZONE_KINDS]  # type: ignore[valid-type]
    unit: str = Field(min_length=1, max_length=32)
    first_person_id: int | None = None
    direct_person_id: int | None = None
    area_code: str | None = None
    valid_from: dt.datetime | None = None
    valid_to: dt.datetime | None = None


# a unit's kind as a city's sheet may give it → what is stored
UNIT_KIND_WORDS = {
    "territorial": "territorial",
    "street_office": "territorial",
    "community": "territorial",
    "街道": "territorial",
    "街道办": "territorial",
    "街道办事处": "territorial",
    "社区": "territorial",
    "村": "territorial",
    "functional": "functional",
    "department": "functional",
    "部门": "functional",
    "职能部门": "functional",
    "company": "company",
    "企业": "company",
    "公司": "company",
    "other": "other",
    "其他": "other",
}


class UnitIn(_In):
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(min_length=1, max_length=16)
    parent_code: str | None = Field(default=None, max_length=32)
    area_code: str | None = Field(default=None, max_length=12)
    phone: str | None = Field(default=None, max_length=32)

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        if v.lower() not in UNIT_KIND_WORDS:
            raise ValueError(
                "one of street_office, community, department, company, other "
                "(or territorial, functional; 街道, 社区, 部门, 企业, 其他)"
            )
        return UNIT_KIND_WORDS[v.lower()]

    @field_validator("code", "parent_code", "area_code", "phone", mode="before")
    @classmethod
    def _text(cls, v):
        return str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v


class PersonIn(_In):
    name: str = Field(min_length=1, max_length=100)
    unit_code: str = Field(min_length=1, max_length=32)
    role: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=32)

    @field_validator("unit_code", "phone", mode="before")
    @classmethod
    def _text(cls, v):
        return str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v


class PointIn(_In):
    code: str | None = Field(default=None, min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=200)
    category: str = Field(min_length=1, max_length=32)
    address: str | None = Field(default=None, max_length=500)
    weight: float | None = Field(default=None, gt=0, le=100)
    radius_m: int | None = Field(default=None, gt=0, le=5000)
    active: bool = True


class StallIn(_In):
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=200)
    opens_at: str
    closes_at: str
    allowed_categories: list[str] = Field(min_length=1)
    unit: str | None = None

    @field_validator("opens_at", "closes_at")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        if not _HHMM.match(v):
            raise ValueError("should be a time of day as HH:MM")
        return v


# a face's direction as a sheet may give it: degrees clockwise from north, or a compass word
COMPASS = {
    "n": 0, "ne": 45, "e": 90, "se": 135, "s": 180, "sw": 225, "w": 270, "nw": 315,
    "北": 0, "东北": 45, "东": 90, "东南": 135, "南": 180, "西南": 225, "西": 270, "西北": 315,
}  # fmt: skip


class AdSiteIn(_In):
    code: str = Field(min_length=1, max_length=32)
    name: str | None = Field(default=None, max_length=200)
    content: str | None = Field(default=None, max_length=2000)
    facing_deg: float | None = Field(default=None, ge=0, lt=360)
    width_m: float | None = Field(default=None, ge=0.01, le=200)
    height_m: float | None = Field(default=None, ge=0.01, le=200)
    last_checked: dt.date | None = None
    unit: str | None = None

    @field_validator("facing_deg", mode="before")
    @classmethod
    def _compass(cls, v):
        if isinstance(v, str) and v.strip().lower() in COMPASS:
            return COMPASS[v.strip().lower()]
        return v

    @field_validator("facing_deg")
    @classmethod
    def _tenth(cls, v: float | None) -> float | None:
        return None if v is None else round(v, 1) % 360  # 359.99 is north

    @field_validator("code", mode="before")
    @classmethod
    def _text(cls, v):
        return str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v

    @field_validator("last_checked")
    @classmethod
    def _past(cls, v: dt.date | None) -> dt.date | None:
        if v is not None and v > dt.date.today() + dt.timedelta(days=1):
            raise ValueError("should not be in the future")
        return v


ACCURACY_DIGITS = 4  # a location's accuracy is kept to a tenth of a millimetre


class ViolationIn(_In):
    case_no: str | None = Field(default=None, min_length=1, max_length=32)
    category: str = Field(min_length=1, max_length=32)
    description: str | None = Field(default=None, max_length=2000)
    observed_at: dt.datetime | None = None
    status: Literal[VIOLATION_STATUSES] = "open"  # type: ignore[valid-type]
    source: Literal[VIOLATION_SOURCES] = "inspection"  # type: ignore[valid-type]
    # references of photos the service keeps (/photos/<sha256>.<ext>): a page loads them
    photos: list[Annotated[str, StringConstraints(pattern=PHOTO_REF)]] = Field(
        default_factory=list, max_length=20
    )
    location_accuracy_m: float | None = Field(default=None, ge=0, le=10_000)
    resolved_at: dt.datetime | None = None

    @field_validator("location_accuracy_m")
    @classmethod
    def _to_the_tenth_of_a_millimetre(cls, v: float | None) -> float | None:
        # kept as a 4-byte real: 1e-50 would not fit, and no phone knows better than this
        return None if v is None else round(v, ACCURACY_DIGITS)

    @field_validator("observed_at", "resolved_at")
    @classmethod
    def _aware(cls, v: dt.datetime | None) -> dt.datetime | None:
        if v is not None and v.tzinfo is None:
            raise ValueError("should carry a time zone, e.g. 2026-11-27T20:00:00+08:00")
        return v


@dataclass
class Spec:
    model: type[BaseModel]
    columns: dict[str, str]  # input field → column
    lookups: dict[str, tuple[str, str]] = field(default_factory=dict)  # field → (column, SQL)
    fill: Callable[[Connection, int, dict, dict], None] | None = None


def _point_categories(conn: Connection, city_id: int) -> dict[str, tuple]:
    """Category by code, by Chinese name and by English name (lower case) → its row."""
    rows = conn.execute(
        text(
            "SELECT code, name_zh, name_en, default_weight, default_radius_m "
            "FROM assessment_point_category WHERE city_id = :c ORDER BY code"
        ),
        {"c": city_id},
    ).all()
    out = {}
    for r in rows:
        for key in (r.name_en, r.name_zh, r.code):
            if key:
                out[key.lower()] = r
    return out


def _point_defaults(conn: Connection, city_id: int, data: dict, row: dict) -> None:
    known = cached(conn, ("point_categories", city_id), lambda: _point_categories(conn, city_id))
    cat = known.get(data["category"].lower())
    if cat is None:
        rows = sorted({r.code: r for r in known.values()}.values(), key=lambda r: r.code)
        raise Problem(
            "Unknown category.",
            status=422,
            errors=[
                field_error(
                    "properties.category",
                    f"no such assessment-point category: {data['category']!r}; known: "
                    f"{', '.join(f'{r.code} ({r.name_zh})' for r in rows)}",
                )
            ],
        )
    row["category_code"] = cat.code
    if not row.get("code"):
        row["code"] = _next_point_code(conn, city_id)
    row["weight"] = data["weight"] if data["weight"] is not None else cat.default_weight
    row["radius_m"] = data["radius_m"] if data["radius_m"] is not None else cat.default_radius_m


def _next_point_code(conn: Connection, city_id: int) -> str:
    """P and the next number after the city's P-numbered codes (kept for the transaction,
    so an import numbers its points one after the other)."""
    store = conn.info.setdefault("chuangwen_cache", {})
    key = ("next_point_code", city_id)
    if key not in store:
        store[key] = conn.execute(
            text(
                "SELECT coalesce(max(substr(code, 2)::bigint), 0) FROM assessment_point "
                "WHERE city_id = :c AND code ~ '^P[0-9]{1,18}$'"
            ),
            {"c": city_id},
        ).scalar()
    store[key] += 1
    return f"P{store[key]:05d}"


def _zone_defaults(conn: Connection, city_id: int, data: dict, row: dict) -> None:
    row["valid_from"] = data["valid_from"] or dt.datetime.now(dt.UTC)


def codes(conn: Connection, city_id: int, table: str) -> set[str]:
    return cached(
        conn,
        ("codes", table, city_id),
        lambda: set(
            conn.execute(
                text(f"SELECT code FROM {table} WHERE city_id = :c"), {"c": city_id}
            ).scalars()
        ),
    )


def _violation_defaults(conn: Connection, city_id: int, data: dict, row: dict) -> None:
    if data["category"] not in codes(conn, city_id, "violation_category"):
        raise Problem(
            "Unknown category.",
            status=422,
            errors=[
                field_error(
                    "properties.category", f"no such violation category: {data['category']!r}"
                )
            ],
        )
    row["observed_at"] = data["observed_at"] or dt.datetime.now(dt.UTC)
    row["photos"] = json.dumps(data["photos"])
    if data["status"] in ("resolved", "closed") and not data["resolved_at"]:
        row["resolved_at"] = dt.datetime.now(dt.UTC)


def _stall_times(conn: Connection, city_id: int, data: dict, row: dict) -> None:
    if data["opens_at"] == data["closes_at"]:
        raise Problem(
            "Empty hours.",
            status=422,
            errors=[field_error("properties.closes_at", "should differ from opens_at")],
        )


_BY_CODE = "SELECT id FROM {table} WHERE city_id = :c AND code = :v"
SPECS: dict[str, Spec] = {
    "areas": Spec(
        AreaIn,
        {"code": "code", "level": "level", "name": "name"},
        {"parent_code": ("parent_id", _BY_CODE.format(table="admin_area"))},
    ),
    "grid_cells": Spec(
        GridCellIn,
        {"code": "code", "size_m": "size_m", "row": "row", "col": "col"},
        {
            "community_code": (
                "community_id",
                _BY_CODE.format(table="admin_area") + " AND level = 'community'",
            )
        },
    ),
    "zones": Spec(
        ZoneIn,
        {
            "code": "code",
            "name": "name",
            "kind": "kind",
            "first_person_id": "first_person_id",
            "direct_person_id": "direct_person_id",
            "valid_to": "valid_to",
        },
        {
            "unit": ("unit_id", _BY_CODE.format(table="unit")),
            "area_code": ("area_id", _BY_CODE.format(table="admin_area")),
        },
        _zone_defaults,
    ),
    "assessment_points": Spec(
        PointIn,
        {
            "code": "code",
            "name": "name",
            "category": "category_code",
            "address": "address",
            "active": "active",
        },
        {},
        _point_defaults,
    ),
    "stall_areas": Spec(
        StallIn,
        {
            "code": "code",
            "name": "name",
            "opens_at": "opens_at",
            "closes_at": "closes_at",
            "allowed_categories": "allowed_categories",
        },
        {"unit": ("unit_id", _BY_CODE.format(table="unit"))},
        _stall_times,
    ),
    "ad_sites": Spec(
        AdSiteIn,
        {
            "code": "code",
            "name": "name",
            "content": "content",
            "facing_deg": "facing_deg",
            "width_m": "width_m",
            "height_m": "height_m",
            "last_checked": "last_checked",
        },
        {"unit": ("unit_id", _BY_CODE.format(table="unit"))},
    ),
    "units": Spec(
        UnitIn,
        {"code": "code", "name": "name", "kind": "kind", "phone": "phone"},
        {
            "parent_code": ("parent_id", _BY_CODE.format(table="unit")),
            "area_code": ("area_id", _BY_CODE.format(table="admin_area")),
        },
    ),
    "persons": Spec(
        PersonIn,
        {"name": "name", "role": "title", "phone": "phone"},
        {"unit_code": ("unit_id", _BY_CODE.format(table="unit"))},
    ),
    "violations": Spec(
        ViolationIn,
        {
            "case_no": "case_no",
            "category": "category_code",
            "description": "description",
            "status": "status",
            "source": "source",
            "resolved_at": "resolved_at",
            "location_accuracy_m": "location_accuracy_m",
        },
        {},
        _violation_defaults,
    ),
}


@dataclass
class Incoming:
    row: dict  # column → value, geometry as WKB hex under "wkb"
    notes: list[str]


def _has_nul(value) -> bool:
    """PostgreSQL keeps no NUL in text: a file's value with one is refused by name."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    return False


def validate_feature(
    conn: Connection,
    c: Collection,
    city_id: int,
    body: object,
    crs: str,
    repair: bool,
    extent=None,
    checked_wkb: str | None = None,
) -> Incoming:
    """A GeoJSON Feature checked against the collection; every problem named by field.
    ``checked_wkb``: the geometry already checked by ``check_points`` (bulk imports)."""
    if not isinstance(body, dict) or body.get("type") != "Feature":
        raise Problem(
            "The body should be a GeoJSON Feature.",
            status=400,
            errors=[field_error("type", "should be 'Feature'")],
        )
    spec = SPECS[c.id]
    errors = []
    props = body.get("properties")
    if not isinstance(props, dict):
        errors.append(field_error("properties", "should be an object"))
        props = {}
    # what a read returns may be sent back as it is: derived properties are ignored,
    # unknown ones are not
    writable = spec.model.model_fields
    props = {k: v for k, v in props.items() if k in writable or k not in c.properties}
    errors += [
        field_error(f"properties.{k}", "contains a NUL character")
        for k, v in props.items()
        if _has_nul(v)
    ]
    try:
        data = spec.model.model_validate(props).model_dump()
    except ValidationError as exc:
        data = None
        errors += pydantic_errors(exc, "properties.")
    geom = None
    if not c.geometry_types:
        if body.get("geometry") is not None:
            errors.append(field_error("geometry", f"{c.id} have no geometry: send null"))
        checked_wkb = ""  # nothing to check
    try:
        if checked_wkb is None:
            extent = extent if extent is not None else city_extent(conn, city_id)
            geom = check(parse(body.get("geometry")), c.geometry_types, extent, crs, repair)
    except GeometryProblem as exc:
        errors.append(field_error("geometry", str(exc)))
    if errors:
        raise Problem("The feature is not valid.", status=422, errors=errors)
    row = {col: data[name] for name, col in spec.columns.items()}
    for name, (col, sql) in spec.lookups.items():
        value = data.get(name)
        if value is None:
            row[col] = None
            continue
        found = conn.execute(text(sql), {"c": city_id, "v": value}).scalar()
        if found is None:
            errors.append(
                field_error(f"properties.{name}", f"no such code in this city: {value!r}")
            )
        row[col] = found
    if errors:
        raise Problem("The feature refers to unknown records.", status=422, errors=errors)
    if spec.fill:
        spec.fill(conn, city_id, data, row)
    if not c.geometry_types:
        return Incoming(row, [])
    if checked_wkb is not None:
        row["wkb"] = checked_wkb
        return Incoming(row, [])
    row["wkb"] = shapely.to_wkb(geom.geom, hex=True)
    return Incoming(row, geom.notes)


def city_extent(conn: Connection, city_id: int):
    """The city's extent with 2 km to spare: a report at the edge is still the city's."""
    wkb = conn.execute(
        text(
            "SELECT ST_AsBinary(ST_Buffer(extent::geography, 2000)::geometry) FROM city "
            "WHERE id = :c"
        ),
        {"c": city_id},
    ).scalar()
    return shapely.from_wkb(bytes(wkb))


_GEOM = "ST_SetSRID(CAST(:wkb AS geometry), 4326)"


def insert(conn: Connection, c: Collection, city_id: int, row: dict, actor_id: int | None) -> int:
    row = dict(row)
    if c.id == "violations":
        row["reported_by"] = actor_id
        if not row.get("case_no"):
            row["case_no"] = next_case_numbers(conn, 1)[0]
    row.setdefault("provenance", "user")
    cols = [k for k in row if k != "wkb"]
    geom = (", geom", f", {_GEOM}") if "wkb" in row else ("", "")
    sql = (
        f"INSERT INTO {c.table} (city_id, {', '.join(cols)}{geom[0]}) VALUES (:city_id, "
        f"{', '.join(_param(k) for k in cols)}{geom[1]}) RETURNING id"
    )
    return _run(conn, c, sql, {**row, "city_id": city_id}).scalar_one()


def update(
    conn: Connection, c: Collection, city_id: int, fid: int, version: int, row: dict
) -> bool:
    """Replace a feature's writable columns; False when the version is no longer current."""
    cols = [k for k in row if k != "wkb"]
    sets = ", ".join(f"{k} = {_param(k)}" for k in cols)
    sql = (
        f"UPDATE {c.table} SET {sets}{f', geom = {_GEOM}' if 'wkb' in row else ''}, "
        "version = version + 1 "
        "WHERE city_id = :city_id AND id = :fid AND version = :version RETURNING id"
    )
    return (
        _run(conn, c, sql, {**row, "city_id": city_id, "fid": fid, "version": version}).first()
        is not None
    )


def delete(conn: Connection, c: Collection, city_id: int, fid: int, version: int) -> bool:
    """Delete; a zone is retired instead (valid_to = now), keeping the cases it owned."""
    if c.id == "zones":
        sql = (
            "UPDATE zone SET valid_to = now(), version = version + 1 WHERE city_id = :c "
            "AND id = :fid AND version = :v AND (valid_to IS NULL OR valid_to > now()) "
            "RETURNING id"
        )
    else:
        sql = (
            f"DELETE FROM {c.table} WHERE city_id = :c AND id = :fid AND version = :v RETURNING id"
        )
    return _run(conn, c, sql, {"c": city_id, "fid": fid, "v": version}).first() is not None


def _param(col: str) -> str:
    if col == "photos":
        return "CAST(:photos AS jsonb)"
    if col in ("opens_at", "closes_at"):
        return f"CAST(:{col} AS time)"
    return f":{col}"


def next_case_numbers(conn: Connection, count: int) -> list[str]:
    """Case numbers for reports that came without one: V, the date, a sequence number."""
    if count == 0:
        return []
    numbers = conn.execute(
        text("SELECT nextval('violation_case_seq') FROM generate_series(1, :n)"), {"n": count}
    ).scalars()
    return [f"V{dt.date.today():%Y%m%d}{n:07d}" for n in numbers]


def _run(conn: Connection, c: Collection, sql: str, params: dict):
    try:
        with conn.begin_nested():
            return conn.execute(text(sql), params)
    except IntegrityError as exc:
        raise _integrity_problem(c, exc) from None


def _integrity_problem(c: Collection, exc: IntegrityError) -> Problem:
    diag = getattr(exc.orig, "diag", None)
    constraint = getattr(diag, "constraint_name", "") or ""
    sqlstate = getattr(exc.orig, "sqlstate", "")
    if sqlstate == "23505":
        return Problem(
            "A feature with this code exists.",
            status=409,
            errors=[field_error(f"properties.{c.code_column}", f"already used ({constraint})")],
        )
    if sqlstate == "23503":
        return Problem(
            "The feature refers to a record that does not exist.",
            status=422,
            errors=[field_error("properties", f"unknown reference ({constraint})")],
        )
    return Problem(
        "The feature breaks a rule of the data.",
        status=422,
        errors=[
            field_error(
                "properties", f"rejected by {constraint}" if constraint else "rejected by a check"
            )
        ],
    )
