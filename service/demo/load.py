"""Write the demo city into the database, idempotently.

Every row has a natural key (codes, case numbers) and is inserted with
``ON CONFLICT DO NOTHING``: a second run adds nothing and leaves edits alone.
"""

from __future__ import annotations

import datetime as dt
import secrets

import pandas as pd
import shapely
from sqlalchemy import Connection, text

from service.accounts.users import create_user, find_user_by_name
from service.demo.build import (
    CITY_CODE,
    CITY_NAME,
    CITY_NAME_EN,
    DATA,
    EPSG,
    DemoCity,
)
from service.demo.cases import LOCAL_TZ
from service.layers.catalogues import load_catalogues

ZONES_VALID_FROM = pd.Timestamp("2026-01-01", tz=LOCAL_TZ).to_pydatetime()
ADMIN_NAME = "admin"


def _wkb(geom) -> str:
    return shapely.to_wkb(geom, hex=True)


def _ts(value) -> dt.datetime | None:
    return None if pd.isna(value) else pd.Timestamp(value).to_pydatetime()


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts with missing values as None (pandas gives NaN)."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def _insert(conn: Connection, sql: str, rows: list[dict]) -> int:
    if not rows:
        return 0
    return conn.execute(text(sql), rows).rowcount


def load(conn: Connection, city: DemoCity) -> tuple[int, dict[str, int], str | None]:
    """Insert the demo; return the city id, rows added per table, and a new admin password
    (None when the admin existed already)."""
    conn.execute(
        text(
            "INSERT INTO city (code, name, name_en, crs_epsg, extent) "
            "VALUES (:code, :name, :name_en, :epsg, ST_SetSRID(CAST(:extent AS geometry), 4326)) "
            "ON CONFLICT (code) DO NOTHING"
        ),
        {
            "code": CITY_CODE,
            "name": CITY_NAME,
            "name_en": CITY_NAME_EN,
            "epsg": EPSG,
            "extent": _wkb(city.extent),
        },
    )
    c = conn.execute(text("SELECT id FROM city WHERE code = :code"), {"code": CITY_CODE}).scalar()
    added = load_catalogues(conn, c)
    geom = "ST_SetSRID(CAST(:wkb AS geometry), 4326)"

    def area_id(param: str) -> str:
        return f"(SELECT id FROM admin_area WHERE city_id = :c AND code = :{param})"

    def unit_id(param: str) -> str:
        return f"(SELECT id FROM unit WHERE city_id = :c AND code = :{param})"

    areas = city.areas.sort_values("code", key=lambda s: s.str.len())
    added["admin_area"] = sum(
        _insert(
            conn,
            "INSERT INTO admin_area (city_id, code, level, name, parent_id, provenance, geom) "
            f"VALUES (:c, :code, :level, :name, {area_id('parent_code')}, :provenance, {geom}) "
            "ON CONFLICT (city_id, code) DO NOTHING",
            [
                dict(
                    c=c,
                    code=r["code"],
                    level=r["level"],
                    name=r["name"],
                    parent_code=r["parent_code"],
                    provenance=r["provenance"],
                    wkb=_wkb(r["geometry"]),
                )
                for r in _records(level_rows)
            ],
        )
        for _, level_rows in areas.groupby(areas["code"].str.len(), sort=True)
    )
    added["unit"] = _insert(
        conn,
        "INSERT INTO unit (city_id, code, name, kind, parent_id, area_id, phone, provenance) "
        f"VALUES (:c, :code, :name, :kind, {unit_id('parent_code')}, {area_id('area_code')}, "
        ":phone, :provenance) ON CONFLICT (city_id, code) DO NOTHING",
        [dict(c=c, **r) for r in _records(city.units)],
    )
    added["person"] = _insert(
        conn,
        "INSERT INTO person (city_id, name, title, phone, unit_id, provenance) "
        f"VALUES (:c, :name, :title, :phone, {unit_id('unit_code')}, 'invented') "
        "ON CONFLICT (city_id, unit_id, name) DO NOTHING",
        [dict(c=c, **r) for r in _records(city.persons)],
    )
    added["grid_cell"] = _insert(
        conn,
        "INSERT INTO grid_cell (city_id, code, community_id, size_m, row, col, geom) "
        f"VALUES (:c, :code, {area_id('community_code')}, :size_m, :row, :col, {geom}) "
        "ON CONFLICT (city_id, code) DO NOTHING",
        [
            dict(
                c=c,
                code=r.code,
                community_code=r.community_code,
                size_m=int(r.size_m),
                row=int(r.row),
                col=int(r.col),
                wkb=_wkb(r.geometry),
            )
            for r in city.cells.itertuples()
        ],
    )
    person = (
        "(SELECT p.id FROM person p JOIN unit u ON u.city_id = p.city_id AND u.id = p.unit_id "
        "WHERE p.city_id = :c AND u.code = :{0}_unit AND p.name = :{0}_name)"
    )
    added["zone"] = _insert(
        conn,
        "INSERT INTO zone (city_id, code, name, kind, unit_id, first_person_id, direct_person_id, "
        "area_id, valid_from, provenance, geom) VALUES (:c, :code, :name, :kind, "
        f"{unit_id('unit_code')}, {person.format('first')}, {person.format('direct')}, "
        f"{area_id('area_code')}, :valid_from, 'derived', {geom}) "
        "ON CONFLICT (city_id, code, valid_from) DO NOTHING",
        [
            dict(
                c=c,
                code=r.code,
                name=r.name,
                kind=r.kind,
                unit_code=r.unit_code,
                first_unit=r.first_person[0],
                first_name=r.first_person[1],
                direct_unit=r.direct_person[0],
                direct_name=r.direct_person[1],
                area_code=r.area_code,
                valid_from=ZONES_VALID_FROM,
                wkb=_wkb(r.geometry),
            )
            for r in city.zones.itertuples()
        ],
    )
    added["assessment_point"] = _insert(
        conn,
        "INSERT INTO assessment_point (city_id, code, category_code, name, weight, radius_m, "
        "provenance, osm_id, geom) SELECT :c, :code, k.code, :name, k.default_weight, "
        f"k.default_radius_m, :provenance, :osm_id, {geom} FROM assessment_point_category k "
        "WHERE k.city_id = :c AND k.code = :category_code ON CONFLICT (city_id, code) DO NOTHING",
        [
            dict(
                c=c,
                code=r.code,
                name=r.name,
                category_code=r.category_code,
                provenance=r.provenance,
                osm_id=None if pd.isna(r.osm_id) else int(r.osm_id),
                wkb=_wkb(r.geometry),
            )
            for r in city.points.itertuples()
        ],
    )
    added["stall_area"] = _insert(
        conn,
        "INSERT INTO stall_area (city_id, code, name, opens_at, closes_at, allowed_categories, "
        f"provenance, geom) VALUES (:c, :code, :name, :opens_at, :closes_at, :allowed, "
        f"'invented', {geom}) ON CONFLICT (city_id, code) DO NOTHING",
        [
            dict(
                c=c,
                code=r.code,
                name=r.name,
                opens_at=r.opens_at,
                closes_at=r.closes_at,
                allowed=list(r.allowed_categories),
                wkb=_wkb(r.geometry),
            )
            for r in city.stalls.itertuples()
        ],
    )
    added["ad_site"] = _insert(
        conn,
        "INSERT INTO ad_site (city_id, code, name, content, facing_deg, width_m, height_m, "
        "last_checked, provenance, geom) VALUES (:c, :code, :name, :content, :facing_deg, "
        f":width_m, :height_m, :last_checked, 'invented', {geom}) "
        "ON CONFLICT (city_id, code) DO NOTHING",
        [
            dict(c=c, **r, wkb=_wkb(g))
            for r, g in zip(
                _records(city.ads.drop(columns="geometry")), city.ads.geometry, strict=True
            )
        ]
        if city.ads is not None
        else [],
    )
    inspectors = [
        _ensure_user(conn, c, name, "inspector", display) for name, display in city.inspectors
    ]
    added["violation"] = _insert(
        conn,
        "INSERT INTO violation (city_id, case_no, category_code, description, observed_at, "
        "reported_by, source, status, resolved_at, provenance, geom) VALUES (:c, :case_no, "
        ":category_code, :description, :observed_at, :reported_by, :source, :status, "
        f":resolved_at, 'invented', {geom}) ON CONFLICT (city_id, case_no) DO NOTHING",
        [
            dict(
                c=c,
                case_no=r.case_no,
                category_code=r.category_code,
                description=r.description,
                observed_at=_ts(r.observed_at),
                reported_by=inspectors[i % len(inspectors)] if r.source == "inspection" else None,
                source=r.source,
                status=r.status,
                resolved_at=_ts(r.resolved_at),
                wkb=_wkb(r.geometry),
            )
            for i, r in enumerate(city.violations.itertuples())
        ],
    )
    if added["violation"]:  # the cases' loop, once, as they are first written
        from service.demo.histories import write_histories

        added["case_event"] = write_histories(conn, c, inspectors)
    # the real street network for inspection routes (OSM), once
    if (
        conn.execute(text("SELECT 1 FROM road WHERE city_id = :c LIMIT 1"), {"c": c}).first()
        is None
    ):
        from service.rounds import roads

        frame = roads.read(DATA / "jiangxi_guixi_center_roads.geojson")
        added["road"] = roads.store(conn, c, frame, "osm")
    # the base map's water, buildings and green areas from the same extract (OSM), once
    if (
        conn.execute(
            text("SELECT 1 FROM basemap_feature WHERE city_id = :c LIMIT 1"), {"c": c}
        ).first()
        is None
    ):
        from service.layers import basemap_import

        frame = basemap_import.read_osm(DATA / "jiangxi_guixi_center.osm.pbf")
        kept = basemap_import.store(conn, c, frame, "osm")
        added["basemap_feature"] = sum(kept.values())
    password = None
    if find_user_by_name(conn, ADMIN_NAME) is None:
        password = secrets.token_urlsafe(12)
        create_user(conn, c, ADMIN_NAME, "admin", password=password, display_name="管理员")
    return c, added, password


def _ensure_user(conn: Connection, city_id: int, name: str, role: str, display: str) -> int:
    user = find_user_by_name(conn, name)
    if user is None:
        user = create_user(conn, city_id, name, role, display_name=display)
    return user.id
