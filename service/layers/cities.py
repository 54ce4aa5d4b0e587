"""A city sets itself up: the city row from its boundary, the boundary as its top area, the
catalogues; and the list of cities a deployment holds."""

from __future__ import annotations

from zoneinfo import available_timezones

import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, text

from gis.crs import metric_epsg
from gis.partition import as_multipolygon
from service.errors import Problem, field_error
from service.layers.catalogues import load_catalogues


def add_city(
    conn: Connection,
    code: str,
    name: str,
    boundary: BaseGeometry,
    *,
    name_en: str | None = None,
    timezone: str = "Asia/Shanghai",
    crs_epsg: int | None = None,
    area_code: str | None = None,
) -> dict:
    """Insert a city from its boundary (lon/lat): its extent, its metric CRS (the CGCS2000
    Gauss-Krüger zone in China, UTM elsewhere, unless ``crs_epsg`` is given), the boundary
    as its top administrative area (level ``district``, code ``area_code`` or ``code``) and
    the catalogues. Returns the city as ``list_cities`` shows it."""
    errors = []
    if not (code and len(code) <= 6 and code.isascii() and code.isalnum()):
        errors.append(field_error("code", "1 to 6 letters or digits (e.g. the adcode 110108)"))
    if not name or len(name) > 100:
        errors.append(field_error("name", "1 to 100 characters"))
    if timezone not in available_timezones():
        errors.append(field_error("timezone", "an IANA time zone such as Asia/Shanghai"))
    if (
        boundary is None
        or boundary.is_empty
        or boundary.geom_type
        not in (
            "Polygon",
            "MultiPolygon",
        )
    ):
        errors.append(field_error("boundary", "a polygon or multipolygon"))
    elif not boundary.is_valid:
        errors.append(field_error("boundary", f"not valid: {shapely.is_valid_reason(boundary)}"))
    else:
        minx, miny, maxx, maxy = boundary.bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            errors.append(field_error("boundary", "coordinates should be longitude/latitude"))
    if crs_epsg is not None:
        try:
            if not CRS.from_epsg(crs_epsg).is_projected:
                errors.append(field_error("crs", f"EPSG:{crs_epsg} is not in metres"))
        except Exception:
            errors.append(field_error("crs", f"no CRS EPSG:{crs_epsg}"))
    if not errors and conn.execute(text("SELECT 1 FROM city WHERE code = :c"), {"c": code}).first():
        errors.append(field_error("code", f"a city with code {code!r} exists"))
    if errors:
        raise Problem("The city could not be added.", status=422, errors=errors)
    centre = boundary.centroid
    epsg = crs_epsg or metric_epsg(centre.x, centre.y)
    city_id = conn.execute(
        text(
            "INSERT INTO city (code, name, name_en, crs_epsg, timezone, extent) VALUES "
            "(:code, :name, :en, :epsg, :tz, ST_Envelope(ST_GeomFromText(:wkt, 4326))) "
            "RETURNING id"
        ),
        {
            "code": code,
            "name": name,
            "en": name_en,
            "epsg": epsg,
            "tz": timezone,
            "wkt": boundary.wkt,
        },
    ).scalar()
    load_catalogues(conn, city_id)
    conn.execute(
        text(
            "INSERT INTO admin_area (city_id, code, level, name, provenance, geom) VALUES "
            "(:c, :code, 'district', :name, 'import', ST_GeomFromText(:wkt, 4326))"
        ),
        {
            "c": city_id,
            "code": area_code or code,
            "name": name,
            "wkt": as_multipolygon(boundary).wkt,
        },
    )
    return next(c for c in list_cities(conn) if c["id"] == city_id)


def list_cities(conn: Connection) -> list[dict]:
    """Every city with its code, names, CRS, time zone and how much it holds."""
    rows = conn.execute(
        text(
            "SELECT c.id, c.code, c.name, c.name_en, c.crs_epsg, c.timezone, "
            "(SELECT count(*) FROM admin_area a WHERE a.city_id = c.id) AS areas, "
            "(SELECT count(*) FROM unit u WHERE u.city_id = c.id) AS units, "
            "(SELECT count(*) FROM assessment_point p WHERE p.city_id = c.id) AS points, "
            "(SELECT count(*) FROM violation v WHERE v.city_id = c.id) AS cases, "
            "(SELECT count(*) FROM app_user u WHERE u.city_id = c.id) AS users "
            "FROM city c ORDER BY c.id"
        )
    )
    return [dict(r._mapping) for r in rows]


_BOX = text(
    "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Envelope("
    "ST_Buffer(extent::geography, :m)::geometry) AS e FROM city WHERE id = :c) s"
)


def within_city(conn: Connection, city_id: int, frame, margin_m: float, outside):
    """The rows of ``frame`` (a GeoDataFrame in lon/lat) that touch the city's extent grown
    by ``margin_m``, and that box (west, south, east, north). When most rows lie outside —
    a file of another place, or in another CRS — ``outside(kept, total, file_span,
    city_span)`` is raised: the caller's Problem, naming what it imports."""
    box = tuple(conn.execute(_BOX, {"c": city_id, "m": margin_m}).one())
    inside = frame.intersects(shapely.box(*box)).to_numpy()
    if inside.sum() * 2 < len(frame):
        raise outside(
            int(inside.sum()),
            len(frame),
            ", ".join(f"{v:.4f}" for v in frame.total_bounds),
            ", ".join(f"{v:.4f}" for v in box),
        )
    return frame[inside], box
