"""A synthetic city at campaign scale, written straight into PostGIS with SQL.

20 km × 20 km around Guixi's centre (EPSG:4548): 100 communities of 2 km × 2 km, each with
400 cells of 100 m (40,000 cells); 5,000 grid zones of 400 m × 200 m, each owned by its
community's unit; 10,000 assessment points of every category; three stall areas; and a
generator of N violations (a third clustered around points, the rest anywhere).
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, text

from service.layers.catalogues import load_catalogues

CODE = "999001"
EPSG = 4548
X0, Y0 = 480_000.0, 3_120_000.0  # south-west corner, metres
SIDE_M = 20_000.0

_T = f"ST_Transform(ST_SetSRID({{}}, {EPSG}), 4326)"
_CITY_BOX = "ST_MakeEnvelope(:x0, :y0, :x0 + :side, :y0 + :side)"
_STREET_BOX = "ST_MakeEnvelope(:x0 + (s - 1) * 2000, :y0, :x0 + s * 2000, :y0 + :side)"


def build_city(conn: Connection) -> int:
    """Create the city once (idempotent by its code); return its id."""
    found = conn.execute(text("SELECT id FROM city WHERE code = :c"), {"c": CODE}).scalar()
    if found:
        return found
    p = {"x0": X0, "y0": Y0, "side": SIDE_M}
    c = conn.execute(
        text(
            "INSERT INTO city (code, name, name_en, crs_epsg, extent) VALUES (:code, '基准市', "
            f"'Benchmark city', {EPSG}, {_T.format(_CITY_BOX)}) "
            "RETURNING id"
        ),
        {"code": CODE, **p},
    ).scalar()
    load_catalogues(conn, c)
    conn.execute(
        text(
            "INSERT INTO admin_area (city_id, code, level, name, provenance, geom) VALUES "
            f"(:c, :code, 'district', '基准市', 'invented', "
            f"ST_Multi({_T.format(_CITY_BOX)}))"
        ),
        {"c": c, "code": CODE, **p},
    )
    conn.execute(
        text(
            "INSERT INTO admin_area (city_id, code, level, name, parent_id, provenance, geom) "
            "SELECT :c, :code || lpad(s::text, 3, '0'), 'street', '街道' || s, "
            "(SELECT id FROM admin_area WHERE city_id = :c AND code = :code), 'invented', "
            f"ST_Multi({_T.format(_STREET_BOX)}) "
            "FROM generate_series(1, 10) s"
        ),
        {"c": c, "code": CODE, **p},
    )
    conn.execute(
        text(
            "INSERT INTO admin_area (city_id, code, level, name, parent_id, provenance, geom) "
            "SELECT :c, :code || lpad(s::text, 3, '0') || lpad(r::text, 3, '0'), 'community', "
            "'社区' || s || '-' || r, (SELECT id FROM admin_area WHERE city_id = :c "
            "AND code = :code || lpad(s::text, 3, '0')), 'invented', ST_Multi("
            + _T.format(
                "ST_MakeEnvelope(:x0 + (s - 1) * 2000, :y0 + :side - r * 2000, "
                ":x0 + s * 2000, :y0 + :side - (r - 1) * 2000)"
            )
            + ") FROM generate_series(1, 10) s, generate_series(1, 10) r"
        ),
        {"c": c, "code": CODE, **p},
    )
    conn.execute(
        text(
            "INSERT INTO unit (city_id, code, name, kind, area_id, provenance) "
            "SELECT :c, 'u' || a.code, a.name || '居委会', 'territorial', a.id, 'invented' "
            "FROM admin_area a WHERE a.city_id = :c AND a.level = 'community'"
        ),
        {"c": c},
    )
    # 400 cells per community, numbered west→east, north→south
    conn.execute(
        text(
            "INSERT INTO grid_cell (city_id, code, community_id, size_m, row, col, geom) "
            "SELECT :c, a.code || lpad(((r - 1) * 20 + k)::text, 3, '0'), a.id, 100, r, k, "
            "ST_Multi("
            + _T.format(
                "ST_MakeEnvelope(ST_XMin(t.g) + (k - 1) * 100, ST_YMax(t.g) - r * 100, "
                "ST_XMin(t.g) + k * 100, ST_YMax(t.g) - (r - 1) * 100)"
            )
            + ") FROM admin_area a CROSS JOIN LATERAL (SELECT ST_Transform(a.geom, "
            f"{EPSG}) AS g) t, generate_series(1, 20) r, generate_series(1, 20) k "
            "WHERE a.city_id = :c AND a.level = 'community'"
        ),
        {"c": c},
    )
    # 5,000 zones of 400 m × 200 m (50 columns × 100 rows), owned by the community they sit in
    conn.execute(
        text(
            "INSERT INTO zone (city_id, code, name, kind, unit_id, valid_from, provenance, geom) "
            "SELECT :c, 'Z' || i || '-' || j, '责任区' || i || '-' || j, 'grid', u.id, "
            "'2026-01-01', 'invented', z.g FROM generate_series(0, 49) i, generate_series(0, 99) j "
            "CROSS JOIN LATERAL (SELECT ST_Multi("
            + _T.format(
                "ST_MakeEnvelope(:x0 + i * 400, :y0 + j * 200, :x0 + (i + 1) * 400, "
                ":y0 + (j + 1) * 200)"
            )
            + ") AS g) z JOIN admin_area a ON a.city_id = :c AND a.level = 'community' "
            "AND ST_Covers(a.geom, ST_PointOnSurface(z.g)) JOIN unit u ON u.city_id = :c "
            "AND u.area_id = a.id"
        ),
        {"c": c, **p},
    )
    rng = np.random.default_rng(1)
    cats = conn.execute(
        text(
            "SELECT code, default_weight, default_radius_m FROM "
            "assessment_point_category WHERE city_id = :c"
        ),
        {"c": c},
    ).all()
    which = rng.integers(0, len(cats), 10_000)
    xy = rng.uniform(0, SIDE_M, (10_000, 2)) + (X0, Y0)
    conn.execute(
        text(
            "INSERT INTO assessment_point (city_id, code, category_code, name, weight, radius_m, "
            f"provenance, geom) VALUES (:c, :code, :cat, :name, :w, :r, 'invented', "
            f"{_T.format('ST_MakePoint(:x, :y)')})"
        ),
        [
            {
                "c": c,
                "code": f"P{i:05d}",
                "cat": cats[k].code,
                "name": f"点位{i}",
                "w": cats[k].default_weight,
                "r": cats[k].default_radius_m,
                "x": x,
                "y": y,
            }
            for i, (k, (x, y)) in enumerate(zip(which, xy, strict=True))
        ],
    )
    conn.execute(
        text(
            "INSERT INTO stall_area (city_id, code, name, opens_at, closes_at, allowed_categories, "
            "provenance, geom) SELECT :c, 'S' || s, '摊点' || s, '18:00', '02:00', "
            "ARRAY['street_vending', 'open_air_bbq', 'stray_stall'], 'invented', ST_Multi("
            + _T.format(
                "ST_MakeEnvelope(:x0 + s * 5000, :y0 + 10000, :x0 + s * 5000 + 80, :y0 + 10030)"
            )
            + ") FROM generate_series(1, 3) s"
        ),
        {"c": c, **p},
    )
    return c


def violations(conn: Connection, city_id: int, n: int, seed: int = 2) -> gpd.GeoDataFrame:
    """N violations as a file would bring them: case number, category, time, place."""
    rng = np.random.default_rng(seed)
    cats = [
        r[0]
        for r in conn.execute(
            text("SELECT code FROM violation_category WHERE city_id = :c ORDER BY code"),
            {"c": city_id},
        )
    ]
    pts = np.array(
        [
            (r[0], r[1])
            for r in conn.execute(
                text(
                    f"SELECT ST_X(ST_Transform(geom, {EPSG})), ST_Y(ST_Transform(geom, {EPSG})) "
                    "FROM assessment_point WHERE city_id = :c"
                ),
                {"c": city_id},
            )
        ]
    )
    near = rng.random(n) < 1 / 3
    xy = rng.uniform(0, SIDE_M, (n, 2)) + (X0, Y0)
    anchor = pts[rng.integers(0, len(pts), n)] + rng.normal(0, 80, (n, 2))
    xy[near] = anchor[near]
    xy = np.clip(xy, (X0 + 1, Y0 + 1), (X0 + SIDE_M - 1, Y0 + SIDE_M - 1))
    geoms = gpd.GeoSeries(shapely.points(xy), crs=EPSG).to_crs(4326)
    start = pd.Timestamp(dt.datetime(2026, 1, 1), tz="Asia/Shanghai")
    return gpd.GeoDataFrame(
        {
            "case_no": [f"B{i:08d}" for i in range(n)],
            "category": np.array(cats)[rng.integers(0, len(cats), n)],
            "observed_at": start + pd.to_timedelta(rng.integers(0, 330 * 86400, n), unit="s"),
            "source": "camera",
        },
        geometry=geoms.values,
        crs=4326,
    )
