"""(Re)generating a community's unit grid in the database, keeping codes stable.

A cell is a ground square of the city-wide lattice: (row, col, size). On regeneration a
cell whose square is still in the community keeps its code (its geometry is updated if the
boundary moved); squares that left are deleted; new squares get the next free numbers,
west→east, north→south. A new size starts the community's grid afresh.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from sqlalchemy import Connection, text

from gis.grid import MAX_CELLS_PER_COMMUNITY, cell_code, cells_lonlat, number_cells
from service.errors import Problem, field_error


@dataclass
class GridChange:
    kept: int = 0
    reshaped: int = 0
    added: int = 0
    removed: int = 0

    def __iadd__(self, other: GridChange) -> GridChange:
        for k in ("kept", "reshaped", "added", "removed"):
            setattr(self, k, getattr(self, k) + getattr(other, k))
        return self


def regenerate(conn: Connection, city_id: int, area_code: str, size_m: int = 100) -> GridChange:
    """Grid every community in the area (the area itself when it is a community)."""
    epsg = conn.execute(text("SELECT crs_epsg FROM city WHERE id = :c"), {"c": city_id}).scalar()
    rows = conn.execute(
        text(
            "WITH RECURSIVE tree AS (SELECT id, code, level, geom FROM admin_area "
            "WHERE city_id = :c AND code = :code UNION ALL SELECT a.id, a.code, a.level, a.geom "
            "FROM admin_area a JOIN tree ON a.parent_id = tree.id WHERE a.city_id = :c) "
            "SELECT id, code, ST_AsBinary(geom) AS wkb FROM tree WHERE level = 'community' "
            "ORDER BY code"
        ),
        {"c": city_id, "code": area_code},
    ).all()
    if not rows:
        raise Problem(
            f"No area {area_code!r} with communities in this city.",
            status=404,
            errors=[field_error("AREA_CODE", "no such area, or it has no communities")],
        )
    total = GridChange()
    for r in rows:
        total += _community(
            conn, city_id, r.id, r.code, shapely.from_wkb(bytes(r.wkb)), size_m, epsg
        )
    return total


def _community(conn, city_id, community_id, code, geom, size_m, epsg) -> GridChange:
    cells = cells_lonlat(geom, size_m, epsg)
    old = conn.execute(
        text(
            "SELECT id, code, row, col, size_m, ST_AsBinary(geom) AS wkb FROM grid_cell "
            "WHERE city_id = :c AND community_id = :a"
        ),
        {"c": city_id, "a": community_id},
    ).all()
    same_size = {(o.row, o.col): o for o in old if o.size_m == size_m}
    change = GridChange()
    keep_ids = set()
    new_rows = []
    for i, (row, col, g) in enumerate(zip(cells["row"], cells["col"], cells.geometry, strict=True)):
        o = same_size.get((int(row), int(col)))
        if o is None:
            new_rows.append(i)
            continue
        keep_ids.add(o.id)
        if shapely.from_wkb(bytes(o.wkb)).equals_exact(g, 1e-9):
            change.kept += 1
        else:
            conn.execute(
                text(
                    "UPDATE grid_cell SET geom = ST_SetSRID(CAST(:wkb AS geometry), 4326), "
                    "version = version + 1 WHERE city_id = :c AND id = :id"
                ),
                {"c": city_id, "id": o.id, "wkb": shapely.to_wkb(g, hex=True)},
            )
            change.reshaped += 1
    gone = [o.id for o in old if o.id not in keep_ids]
    if gone:
        conn.execute(
            text("DELETE FROM grid_cell WHERE city_id = :c AND id = ANY(:ids)"),
            {"c": city_id, "ids": gone},
        )
        change.removed = len(gone)
    if new_rows:
        used = {int(o.code[-3:]) for o in old if o.id in keep_ids}
        fresh = cells.iloc[new_rows]
        order = np.argsort(number_cells(fresh))
        free = (n for n in range(1, MAX_CELLS_PER_COMMUNITY + 1) if n not in used)
        numbers = {}
        for idx in order:
            n = next(free, None)
            if n is None:
                raise Problem(
                    f"Community {code} would need more than {MAX_CELLS_PER_COMMUNITY} cells.",
                    status=422,
                    errors=[field_error("size", "use a larger cell size")],
                )
            numbers[idx] = n
        conn.execute(
            text(
                "INSERT INTO grid_cell (city_id, code, community_id, size_m, row, col, geom) "
                "VALUES (:c, :code, :a, :size, :row, :col, "
                "ST_SetSRID(CAST(:wkb AS geometry), 4326))"
            ),
            [
                {
                    "c": city_id,
                    "a": community_id,
                    "size": size_m,
                    "code": cell_code(code, numbers[j]),
                    "row": int(fresh["row"].iloc[j]),
                    "col": int(fresh["col"].iloc[j]),
                    "wkb": shapely.to_wkb(fresh.geometry.iloc[j], hex=True),
                }
                for j in range(len(fresh))
            ],
        )
        change.added = len(new_rows)
    return change
