"""The street network: imported from OpenStreetMap or a line layer, kept as an in-memory
graph per city, travel mode and network version (gis/roads.py)."""

from __future__ import annotations

import threading
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from shapely.geometry import LineString
from sqlalchemy import Connection, text

from gis import roads as graph
from service.errors import Problem, field_error
from service.layers import uploads
from service.layers.cities import within_city

NOT_ROADS = {
    "proposed", "construction", "platform", "raceway", "bus_stop", "elevator", "corridor",
    "abandoned", "razed", "rest_area", "services",
}  # fmt: skip
_YES = {"yes", "true", "1"}


def _oneway(value, highway: str) -> int:
    v = str(value or "").strip().lower()
    if v in _YES:
        return 1
    if v in ("-1", "reverse"):
        return -1
    if v in ("no", "false", "0"):
        return 0
    return 1 if highway in ("motorway", "motorway_link") else 0


def read_osm(path: Path) -> gpd.GeoDataFrame:
    """The streets of an OpenStreetMap file (.osm or .osm.pbf)."""
    import osmium

    rows = []

    class Ways(osmium.SimpleHandler):
        def way(self, w):
            highway = w.tags.get("highway")
            if not highway or highway in NOT_ROADS:
                return
            coords = [(n.lon, n.lat) for n in w.nodes if n.location.valid()]
            if len(coords) < 2:
                return
            rows.append(
                {
                    "osm_id": w.id,
                    "name": w.tags.get("name"),
                    "highway": highway,
                    "oneway": _oneway(w.tags.get("oneway"), highway),
                    "geometry": LineString(coords),
                }
            )

    Ways().apply_file(str(path), locations=True)
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)


def read_lines(path: Path) -> gpd.GeoDataFrame:
    """The streets of a line layer (GeoJSON, GeoPackage, Shapefile ...): ``highway`` (or
    ``fclass``, ``type``), ``oneway``, ``name``, ``osm_id`` (or ``raw_eid``) when present.
    A layer without a .prj is taken as lon/lat."""
    from service.layers.transfer import file_format  # the same checked readers as any import

    source = uploads.check(path, file_format(path), path.name)
    try:
        frame = pyogrio.read_dataframe(source)
    except Exception as exc:
        reason = uploads.without_paths(str(exc), path, source)
        raise Problem(
            f"The street file {path.name!r} could not be read: {reason}",
            status=422,
            errors=[field_error("file", reason)],
        ) from None
    if frame.crs is None:
        frame = frame.set_crs(4326)
    frame = frame.to_crs(4326).explode(index_parts=False)
    frame = frame[frame.geometry.geom_type == "LineString"]
    cols = {c.lower(): c for c in frame.columns}
    kind = next((cols[c] for c in ("highway", "fclass", "type") if c in cols), None)
    highway = frame[kind].astype(str) if kind else "unclassified"
    out = gpd.GeoDataFrame(
        {
            "osm_id": frame[cols.get("osm_id") or cols.get("raw_eid")]
            if ("osm_id" in cols or "raw_eid" in cols)
            else None,
            "name": frame[cols["name"]] if "name" in cols else None,
            "highway": highway,
        },
        geometry=frame.geometry.values,
        crs=4326,
    )
    one = frame[cols["oneway"]] if "oneway" in cols else [None] * len(out)
    out["oneway"] = [_oneway(v, h) for v, h in zip(one, out["highway"], strict=True)]
    return out[~out["highway"].isin(NOT_ROADS)].reset_index(drop=True)


def read(path: Path) -> gpd.GeoDataFrame:
    name = path.name.lower()
    if name.endswith((".osm", ".osm.pbf", ".pbf", ".osm.bz2")):
        try:
            return read_osm(path)
        except RuntimeError as exc:  # pyosmium's words for a file it cannot parse
            raise Problem(
                f"The street file {path.name!r} is not an OpenStreetMap file.",
                status=422,
                errors=[field_error("file", uploads.without_paths(str(exc), path))],
            ) from None
    return read_lines(path)


# streets this far beyond the city's extent are kept (an extract is cut as a rectangle)
MARGIN_M = 2000


def store(
    conn: Connection, city_id: int, frame: gpd.GeoDataFrame, provenance: str, name: str = ""
) -> int:
    """Replace the city's network with ``frame``, in the caller's transaction. Streets wholly
    outside the city's extent (plus ``MARGIN_M``) are left out; a file of which most lies
    outside is refused, naming the file and the extent (a wrong file or a wrong CRS)."""
    if not len(frame):
        raise Problem(
            "The file holds no streets.", status=422, errors=[field_error("file", "no lines")]
        )

    def outside(kept: int, total: int, fb: str, cb: str) -> Problem:
        return Problem(
            f"The streets of {name or 'the file'} lie outside the city: {kept} of "
            f"{total} are within its extent.",
            status=422,
            errors=[
                field_error(
                    "file",
                    f"the streets span lon/lat {fb}; the city (with {MARGIN_M} m) spans {cb}",
                )
            ],
        )

    frame, _ = within_city(conn, city_id, frame, MARGIN_M, outside)
    conn.execute(text("DELETE FROM road WHERE city_id = :c"), {"c": city_id})
    osm = frame["osm_id"] if "osm_id" in frame else [None] * len(frame)
    rows = [
        {
            "c": city_id,
            "osm": None if o is None or o != o else int(o),
            "name": n if isinstance(n, str) and n else None,
            "hw": str(h)[:32],
            "one": int(w),
            "p": provenance,
            "wkb": shapely.to_wkb(g, hex=True),
        }
        for o, n, h, w, g in zip(
            osm, frame["name"], frame["highway"], frame["oneway"], frame.geometry, strict=True
        )
    ]
    conn.execute(
        text(
            "INSERT INTO road (city_id, osm_id, name, highway, oneway, provenance, geom) "
            "VALUES (:c, :osm, :name, :hw, :one, :p, ST_SetSRID(CAST(:wkb AS geometry), 4326))"
        ),
        rows,
    )
    return len(rows)


_CACHE: dict[tuple, graph.Network] = {}
_LOCK = threading.Lock()


def network(conn: Connection, city_id: int, mode: str) -> graph.Network | None:
    """The city's street graph for ``mode``, built once per network version; None when the
    city has no streets."""
    version = conn.execute(
        text("SELECT version FROM layer_version WHERE city_id = :c AND layer = 'road'"),
        {"c": city_id},
    ).scalar()
    if version is None:
        return None
    key = (city_id, mode, version)
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
    rows = conn.execute(
        text("SELECT ST_AsBinary(geom), highway, oneway FROM road WHERE city_id = :c"),
        {"c": city_id},
    ).all()
    if not rows:
        return None
    lines = shapely.from_wkb(np.array([bytes(r[0]) for r in rows], dtype=object))
    net = graph.build(list(lines), [r[1] for r in rows], [r[2] for r in rows], mode)
    with _LOCK:
        for k in [k for k in _CACHE if k[:2] == (city_id, mode)]:
            del _CACHE[k]
        _CACHE[key] = net
    return net
