"""Splitting an area among seed places: derived polygons where no real boundary exists."""

from __future__ import annotations

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry


def voronoi_partition(seeds: gpd.GeoSeries, boundary: BaseGeometry) -> gpd.GeoSeries:
    """One polygon per seed point: its Voronoi cell clipped to ``boundary``.

    The cells cover ``boundary`` exactly and do not overlap. Use a projected CRS:
    Voronoi cells are only fair in metres. The result keeps the seeds' index.

    >>> import geopandas as gpd
    >>> from shapely.geometry import Point, box
    >>> parts = voronoi_partition(gpd.GeoSeries([Point(1, 1), Point(3, 1)]), box(0, 0, 4, 2))
    >>> [round(p.area, 6) for p in parts]
    [4.0, 4.0]
    """
    if not isinstance(seeds, gpd.GeoSeries):
        raise TypeError(f"'seeds' should be a GeoSeries, got {type(seeds)}")
    if len(seeds) == 0:
        raise ValueError("'seeds' should hold at least one point")
    if len(seeds) == 1:
        return gpd.GeoSeries([boundary], index=seeds.index, crs=seeds.crs)
    regions = shapely.voronoi_polygons(shapely.MultiPoint(list(seeds.geometry)), extend_to=boundary)
    cells = list(regions.geoms)
    # voronoi_polygons does not keep input order; match each seed to its cell.
    tree = shapely.STRtree(cells)
    owner = tree.query(list(seeds.geometry), predicate="within")
    by_seed = dict(zip(owner[0].tolist(), owner[1].tolist(), strict=True))
    clipped = [shapely.intersection(cells[by_seed[i]], boundary) for i in range(len(seeds))]
    return gpd.GeoSeries(clipped, index=seeds.index, crs=seeds.crs)


def as_multipolygon(geom: BaseGeometry) -> shapely.MultiPolygon:
    """Any polygonal geometry as a MultiPolygon (the storage type of area layers).

    >>> from shapely.geometry import box
    >>> as_multipolygon(box(0, 0, 1, 1)).geom_type
    'MultiPolygon'
    """
    if geom.geom_type == "MultiPolygon":
        return geom
    if geom.geom_type == "Polygon":
        return shapely.MultiPolygon([geom])
    polys = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    flat = []
    for p in polys:
        flat.extend(p.geoms if p.geom_type == "MultiPolygon" else [p])
    if not flat:
        raise ValueError(f"'geom' has no polygonal part, got {geom.geom_type}")
    return shapely.MultiPolygon(flat)
