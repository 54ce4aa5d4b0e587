"""Unit grids (网格, 单元网格): square cells over an area, with stable codes.

Cells are aligned to a city-wide origin so that the same ground square always
gets the same row and column, whatever area it is generated for. That is what
keeps codes stable when an area is regenerated.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

CELL_NUMBER_DIGITS = 3  # the national standard's 15-digit code: up to 999 cells a community
WIDE_CELL_NUMBER_DIGITS = 5  # cells 1000 and up of a larger community: 17-digit codes
MAX_CELLS_PER_COMMUNITY = 10**WIDE_CELL_NUMBER_DIGITS - 1
MIN_CELL_SHARE = 0.01  # slivers under 1 % of a full cell are dropped, not coded


def square_cells(
    area_m: BaseGeometry,
    size_m: float = 100.0,
    origin_m: tuple[float, float] = (0.0, 0.0),
) -> gpd.GeoDataFrame:
    """Square cells of ``size_m`` covering ``area_m`` (a projected polygon), clipped to it.

    Rows count southward and columns eastward from ``origin_m``, the city-wide
    top-left corner, so a ground square keeps its (row, col) in every run.

    >>> from shapely.geometry import box
    >>> cells = square_cells(box(0, -250, 250, 0), 100)
    >>> len(cells), sorted(set(cells["row"])), round(cells.area.sum())
    (9, [0, 1, 2], 62500)
    """
    if size_m <= 0:
        raise ValueError(f"'size_m' should be a positive length in metres, got {size_m!r}")
    if area_m.is_empty:
        return gpd.GeoDataFrame({"row": [], "col": []}, geometry=[], crs=None)
    x0, y0 = origin_m
    minx, miny, maxx, maxy = area_m.bounds
    cols = np.arange(math.floor((minx - x0) / size_m), math.ceil((maxx - x0) / size_m))
    rows = np.arange(math.floor((y0 - maxy) / size_m), math.ceil((y0 - miny) / size_m))
    cc, rr = np.meshgrid(cols, rows)
    cc, rr = cc.ravel(), rr.ravel()
    squares = shapely.box(
        x0 + cc * size_m, y0 - (rr + 1) * size_m, x0 + (cc + 1) * size_m, y0 - rr * size_m
    )
    shapely.prepare(area_m)
    hit = shapely.intersects(area_m, squares)
    clipped = shapely.intersection(squares[hit], area_m)
    clipped = _polygonal(clipped)
    keep = shapely.area(clipped) >= MIN_CELL_SHARE * size_m * size_m
    return gpd.GeoDataFrame(
        {"row": rr[hit][keep].astype(int), "col": cc[hit][keep].astype(int)},
        geometry=clipped[keep],
    )


def number_cells(cells: gpd.GeoDataFrame) -> np.ndarray:
    """Cell numbers 1..n, west→east along each row, rows north→south.

    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> cells = gpd.GeoDataFrame({"row": [1, 0, 0], "col": [0, 5, 2]}, geometry=[box(0,0,1,1)]*3)
    >>> number_cells(cells).tolist()
    [3, 2, 1]
    """
    order = np.lexsort((cells["col"].to_numpy(), cells["row"].to_numpy()))
    numbers = np.empty(len(cells), dtype=int)
    numbers[order] = np.arange(1, len(cells) + 1)
    return numbers


def cell_code(community_code: str, number: int) -> str:
    """The 15-digit cell code: 12-digit community code + 3-digit cell number; a community
    with more than 999 cells numbers the rest with 5 digits (17-digit codes), so the first
    999 keep their codes when a community grows.

    The community code is itself the 6-digit district adcode, 3 digits of street
    and 3 of community.

    >>> cell_code("360681001002", 7)
    '360681001002007'
    >>> cell_code("360681001002", 1234)
    '36068100100201234'
    """
    if len(community_code) != 12 or not community_code.isdigit():
        raise ValueError(
            f"'community_code' should be 12 digits (district+street+community), "
            f"got {community_code!r}"
        )
    if not 1 <= number <= MAX_CELLS_PER_COMMUNITY:
        raise ValueError(
            f"'number' should be 1..{MAX_CELLS_PER_COMMUNITY}; a community with more cells "
            f"needs a larger cell size, got {number}"
        )
    digits = CELL_NUMBER_DIGITS if number < 10**CELL_NUMBER_DIGITS else WIDE_CELL_NUMBER_DIGITS
    return f"{community_code}{number:0{digits}d}"


def cells_lonlat(area: BaseGeometry, size_m: float, epsg: int) -> gpd.GeoDataFrame:
    """Cells over a lon/lat area: cut in metres (``epsg``), returned in lon/lat.

    The lattice is anchored at the projected CRS's origin, so a ground square has the same
    (row, col) in every run and every area. Cells are clipped again in lon/lat, because an
    edge cut in metres bows by millimetres when reprojected and a cell must lie inside its
    area exactly.

    >>> from shapely.geometry import box
    >>> area = box(117.20, 28.29, 117.21, 28.30)
    >>> cells = cells_lonlat(area, 100, 4548)
    >>> 100 < len(cells) < 150, cells.crs.to_epsg(), bool(cells.within(area.buffer(1e-9)).all())
    (True, 4326, True)
    """
    from gis.crs import STORAGE_EPSG, project

    cells = square_cells(project(area, epsg), size_m)
    cells = cells.set_crs(epsg, allow_override=True).to_crs(STORAGE_EPSG)
    clipped = shapely.intersection(cells.geometry.to_numpy(), area)
    keep = ~shapely.is_empty(clipped)
    geoms = [_as_multi(g) for g in _polygonal(shapely.make_valid(clipped[keep]))]
    return gpd.GeoDataFrame(
        {"row": cells["row"].to_numpy()[keep], "col": cells["col"].to_numpy()[keep]},
        geometry=geoms,
        crs=STORAGE_EPSG,
    )


def _as_multi(g: BaseGeometry) -> BaseGeometry:
    return shapely.MultiPolygon([g]) if g.geom_type == "Polygon" else g


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal parts of clip results (a clip can yield stray lines)."""
    out = []
    for g in geoms:
        if g.geom_type in ("Polygon", "MultiPolygon"):
            out.append(g)
        else:
            polys = [p for p in getattr(g, "geoms", []) if p.geom_type == "Polygon"]
            out.append(shapely.MultiPolygon(polys) if polys else shapely.Polygon())
    return np.asarray(out, dtype=object)
