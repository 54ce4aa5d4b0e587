"""Layers in and out as files: GeoJSON, GeoPackage, zipped Shapefile, KML, CSV and XLSX.

Imports are all or nothing: every row is validated the way a single POST is (same rules,
same messages), and one bad row rolls the whole file back; ``dry_run`` validates and
writes nothing. Spreadsheets carry longitude/latitude columns, optionally in GCJ-02 or
BD-09; other formats carry their own CRS, which is honoured. Times without a zone are the
city's local time.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from shapely.geometry import mapping
from sqlalchemy import Connection, text

from gis.chinacrs import FROM_WGS84, TO_WGS84
from gis.validate import check_points
from service.errors import Problem
from service.layers import bulk, sheets, uploads
from service.layers.features import read, write
from service.layers.features.collections import Collection
from service.layers.features.params import Query

FORMATS = {
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gpkg": "GPKG",
    ".zip": "ESRI Shapefile",
    ".shp": "ESRI Shapefile",
    ".kml": "KML",
    ".csv": "CSV",
    ".xlsx": "XLSX",
}
TIME_FIELDS = {"observed_at", "resolved_at", "valid_from", "valid_to"}
LON_NAMES = ("lon", "lng", "longitude", "x", "经度")
LAT_NAMES = ("lat", "latitude", "y", "纬度")


@dataclass
class Report:
    rows: int = 0
    inserted: int = 0
    dry_run: bool = False
    errors: list[dict] = field(default_factory=list)  # {row, field, reason}
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "rows": self.rows,
            "inserted": self.inserted,
            "dry_run": self.dry_run,
            "errors": self.errors,
            "notes": self.notes,
        }


# what an upload over HTTP may be: a Shapefile comes zipped with its parts
UPLOAD_FORMATS = {k: v for k, v in FORMATS.items() if k != ".shp"}


def file_format(path: Path, formats: dict[str, str] = FORMATS) -> str:
    fmt = formats.get(path.suffix.lower())
    if fmt is None:
        raise Problem(
            f"Unknown file type {path.suffix!r}.",
            status=415,
            errors=[{"field": "file", "reason": f"one of {', '.join(sorted(formats))}"}],
        )
    return fmt


def read_features(
    path: Path,
    lon_col: str | None = None,
    lat_col: str | None = None,
    sheet: str | int = 0,
    name: str | None = None,
    collection: Collection | None = None,
) -> tuple[gpd.GeoDataFrame, str]:
    """The file as a GeoDataFrame in lon/lat (coordinates of spreadsheets as they are).

    The content is checked to be of the type the name says and opened only by that type's
    reader, with GDAL unable to reach other files or the network (service/layers/uploads.py)."""
    fmt = file_format(path)
    source = uploads.check(path, fmt, name or path.name)
    try:
        if fmt in ("CSV", "XLSX"):
            table = (
                _unquote_formulas(pd.read_csv(path, dtype=str, keep_default_na=False))
                if fmt == "CSV"
                else pd.read_excel(path, sheet_name=sheet, dtype=object)
            )
            if collection is not None:
                table = sheets.rename_headers(table, collection.id)
                if not collection.geometry_types:  # units, persons: a table is all they are
                    return gpd.GeoDataFrame(table, geometry=[None] * len(table), crs=4326), fmt
            return _points_from_table(table, lon_col, lat_col), fmt
        frame = pyogrio.read_dataframe(source)
    except Problem:
        raise
    except Exception as exc:  # the reader's own words say best what is wrong with the file
        reason = uploads.without_paths(str(exc), path, source)
        raise Problem(
            f"The file could not be read: {reason}",
            status=422,
            errors=[{"field": "file", "reason": reason}],
        ) from None
    if not isinstance(frame, gpd.GeoDataFrame):  # a table alone (GeoPackage, zipped CSV)
        raise Problem(
            "The file has no geometry column.",
            status=422,
            errors=[{"field": "file", "reason": "no geometry column: a table alone"}],
        )
    if frame.crs is not None and frame.crs.to_epsg() not in (4326, 4490):
        try:
            frame = frame.to_crs(4326)
        except Exception as exc:  # a CRS PROJ cannot use (a grid it does not have ...)
            raise Problem(
                "The file's coordinate system cannot be converted to longitude/latitude.",
                status=422,
                errors=[{"field": "file", "reason": uploads.without_paths(str(exc), path)}],
            ) from None
    return frame, fmt


def _points_from_table(table: pd.DataFrame, lon_col, lat_col) -> gpd.GeoDataFrame:
    lower = {c.lower().strip(): c for c in table.columns}
    lon = lon_col or next((lower[n] for n in LON_NAMES if n in lower), None)
    lat = lat_col or next((lower[n] for n in LAT_NAMES if n in lower), None)
    if "wkt" in lower:  # shapes as text (what an export of polygons writes beside lon/lat)
        wkt = table[lower["wkt"]].map(lambda v: v if isinstance(v, str) and v.strip() else None)
        shapes = shapely.from_wkt(wkt.to_numpy(dtype=object), on_invalid="ignore")
        drop = [lower["wkt"], *(c for c in (lon, lat) if c in table.columns)]
        return gpd.GeoDataFrame(table.drop(columns=drop), geometry=shapes, crs=4326)
    if lon not in table.columns or lat not in table.columns:
        raise Problem(
            "The table needs longitude and latitude columns.",
            status=422,
            errors=[
                {
                    "field": "file",
                    "reason": f"name them one of {LON_NAMES} and {LAT_NAMES}, or "
                    "give --lon-col/--lat-col",
                }
            ],
        )
    x = pd.to_numeric(table[lon], errors="coerce")
    y = pd.to_numeric(table[lat], errors="coerce")
    geoms = [
        shapely.Point(a, b) if not (math.isnan(a) or math.isnan(b)) else None
        for a, b in zip(x, y, strict=True)
    ]
    return gpd.GeoDataFrame(table.drop(columns=[lon, lat]), geometry=geoms, crs=4326)


def _local_time(value, tz: ZoneInfo):
    """A time written without a zone in a file is the city's local time."""
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return value  # left for the validator to name
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)).isoformat()
    return value


def _plain(value, tz: ZoneInfo):
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, str) and value == "":
        return None
    if isinstance(value, dt.datetime):  # pandas Timestamps are datetimes too
        return (value if value.tzinfo else value.replace(tzinfo=tz)).isoformat()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, str) and value.startswith("[") and value.endswith("]"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def import_features(
    conn: Connection,
    c: Collection,
    city_id: int,
    frame: gpd.GeoDataFrame,
    *,
    crs: str,
    repair: bool,
    actor_id: int | None,
    dry_run: bool,
    progress: Callable[[int], None] | None = None,
    timings: dict[str, float] | None = None,
    valid_from: dt.datetime | None = None,
) -> Report:
    """Validate every row; insert them all, or none. Rolls back on any error or dry run.

    Zones without their own ``valid_from`` start at ``valid_from``, else at the city's first
    case, so zones imported after the cases own them (the cases are judged again by the
    rules in this transaction)."""
    tz = ZoneInfo(
        conn.execute(text("SELECT timezone FROM city WHERE id = :c"), {"c": city_id}).scalar()
    )
    report = Report(rows=len(frame), dry_run=dry_run)
    if c.id == "zones" and valid_from is None:
        valid_from = conn.execute(
            text("SELECT min(observed_at) FROM violation WHERE city_id = :c"), {"c": city_id}
        ).scalar()
    start = {"valid_from": valid_from.isoformat()} if c.id == "zones" and valid_from else {}
    extent = write.city_extent(conn, city_id)
    columns_of = [col for col in frame.columns if col != frame.geometry.name]
    clock = _Clock(timings)
    outer = conn.begin_nested()
    valid: list[tuple[int, dict]] = []
    # points are checked a column at a time; only the ones that fail go one by one
    fast, wkbs = (
        check_points(frame.geometry.values, extent, crs)
        if c.geometry_types == ("Point",) and crs in TO_WGS84
        else (np.zeros(len(frame), dtype=bool), None)
    )
    # violations: rows whose properties pass checked a column at a time are staged from the
    # columns; the others (and every row of other layers) are validated one by one
    plain, columns = np.zeros(len(frame), bool), None
    if c.id == "violations" and fast.any():
        plain, columns = bulk.checked(
            frame[columns_of],
            set(c.properties) - set(write.SPECS[c.id].model.model_fields),
            write.codes(conn, city_id, "violation_category"),
            tz,
            dt.datetime.now(dt.UTC),
        )
        plain &= fast
        if columns is not None:
            columns = columns[plain]
            columns.insert(0, "row_no", np.flatnonzero(plain) + 1)
            columns["wkb"] = wkbs[plain]
        if progress:
            progress(int(plain.sum()))
    # the rows read one by one, by row number from 1
    one_by_one = np.flatnonzero(~plain)
    records = dict(
        zip(
            (one_by_one + 1).tolist(),
            frame[columns_of].iloc[one_by_one].astype(object).to_dict("records"),
            strict=True,
        )
    )
    # areas and units: parents before their children, so a file may hold a district, its
    # street offices and their communities (or their units) in any order; each row is
    # written as soon as it is checked, so its children find it
    nested = c.id in ("areas", "units")
    order, cycles = (
        _parents_first(list(records.values())) if nested else ((one_by_one + 1).tolist(), {})
    )
    report.errors += [
        {
            "row": i,
            "field": "parent_code",
            "reason": f"the parents form a cycle through rows {', '.join(map(str, loop))}",
        }
        for i, loop in cycles.items()
    ]
    geoms = frame.geometry.values
    for i in order:
        props, geom = records[i], geoms[i - 1]
        done = bool(fast[i - 1])
        feature = {
            "type": "Feature",
            "geometry": None if done or geom is None or geom.is_empty else mapping(geom),
            "properties": start
            | {
                k: _local_time(v, tz) if k in TIME_FIELDS else v
                for k, v in ((k, _plain(v, tz)) for k, v in props.items())
                if v is not None
            },
        }
        try:
            incoming = write.validate_feature(
                conn, c, city_id, feature, crs, repair, extent, wkbs[i - 1] if done else None
            )
            valid.append((i, {**incoming.row, "provenance": "import"}))
            if nested:
                write.insert(conn, c, city_id, valid.pop()[1], actor_id)
                report.inserted += 1
        except Problem as exc:
            for e in exc.errors or [{"field": "", "reason": exc.detail}]:
                report.errors.append({"row": i, **e})
        if progress:
            progress(1)
    clock.lap("validate")
    if c.id == "violations":
        report.errors += bulk.stage(conn, city_id, columns, valid, actor_id)
        clock.lap("stage")
        if not report.errors and not dry_run:
            report.inserted = bulk.insert_staged(conn, city_id, clock.lap)
            clock.lap("insert")
    else:
        for i, row in valid:
            try:
                # each insert in its own savepoint, so that conflicts with stored rows are
                # reported for every row; all is rolled back below when any is wrong
                write.insert(conn, c, city_id, row, actor_id)
                report.inserted += 1
            except Problem as exc:
                for e in exc.errors:
                    report.errors.append({"row": i, **e})
    report.errors.sort(key=lambda e: e["row"])
    if report.errors or dry_run:
        outer.rollback()
        report.inserted = 0
    else:
        outer.commit()
    return report


def _parents_first(records: list[dict]) -> tuple[list[int], dict[int, list[int]]]:
    """Row numbers (from 1) with every area after the row of its ``parent_code`` when that
    parent is in the file; rows in a cycle of parents are returned apart, with the cycle."""
    row_of = {}
    for i, r in enumerate(records, start=1):
        code = r.get("code")
        if code is not None and not (isinstance(code, float) and math.isnan(code)):
            row_of.setdefault(str(code).strip(), i)
    parent = {}
    for i, r in enumerate(records, start=1):
        p = r.get("parent_code")
        if isinstance(p, str | int) and str(p).strip() in row_of:
            parent[i] = row_of[str(p).strip()]
    order, state, cycles = [], {}, {}

    def visit(i: int, path: list[int]) -> None:
        if state.get(i) == "done":
            return
        if state.get(i) == "open":
            loop = path[path.index(i) :]
            for j in loop:
                cycles[j] = loop
            return
        state[i] = "open"
        if i in parent:
            visit(parent[i], [*path, i])
        state[i] = "done"
        if i not in cycles:
            order.append(i)

    for i in range(1, len(records) + 1):
        visit(i, [])
    return [i for i in order if i not in cycles], cycles


class _Clock:
    """Phase times for benchmarks; does nothing without a dict to fill."""

    def __init__(self, into: dict[str, float] | None):
        self._now, self._into = time.perf_counter, into
        self._last = self._now()

    def lap(self, name: str) -> None:
        if self._into is not None:
            now = self._now()
            self._into[name] = self._into.get(name, 0.0) + now - self._last
            self._last = now


def export_features(
    conn: Connection,
    c: Collection,
    city_id: int,
    path: Path,
    crs: str = "wgs84",
    limit: int | None = None,
) -> int:
    """Write every feature of the collection in the city to ``path``; return the count.

    GeoJSON is streamed from the database to the file, so memory stays flat however many
    features there are; the other formats go through a GeoDataFrame.
    """
    fmt = file_format(path)
    q = Query(where=["t.city_id = :city_id"], params={"city_id": city_id}, limit=limit or 2**62)
    if c.current_only:
        q.where.append(
            f"{c.temporal[0]} <= now() AND ({c.temporal[1]} IS NULL OR {c.temporal[1]} > now())"
        )
    if fmt == "GeoJSON" and crs == "wgs84":
        return _stream_geojson(conn, c, q, path)
    features = [json.loads(f) for f in read.stream(conn, c, q)]
    frame = gpd.GeoDataFrame.from_features(features, crs=4326)
    frame.insert(0, "id", [f["id"] for f in features])
    for col in frame.columns:
        if col != "geometry" and frame[col].map(lambda v: isinstance(v, list | dict)).any():
            frame[col] = frame[col].map(lambda v: json.dumps(v, ensure_ascii=False))
    if fmt in ("CSV", "XLSX"):
        pts = frame.geometry.representative_point()
        convert = FROM_WGS84[crs]
        x, y = (pts.x.to_numpy(), pts.y.to_numpy())
        if convert is not None:
            x, y = convert(x, y)
        table = pd.DataFrame(frame.drop(columns="geometry"))
        table["lon"], table["lat"] = np.round(x, 7), np.round(y, 7)
        if not (frame.geom_type == "Point").all():
            table["wkt"] = frame.geometry.to_wkt(rounding_precision=7)
        if fmt == "CSV":
            _quote_formulas(table).to_csv(path, index=False)
        else:
            _write_xlsx(table, path)
        return len(frame)
    if fmt == "ESRI Shapefile" and path.suffix == ".zip":
        with tempfile.TemporaryDirectory() as tmp:
            shp = Path(tmp) / f"{c.id}.shp"
            pyogrio.write_dataframe(frame, shp, driver=fmt, encoding="UTF-8")
            with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
                for part in Path(tmp).iterdir():
                    zf.write(part, part.name)
        return len(frame)
    if path.exists():
        path.unlink() if path.is_file() else shutil.rmtree(path)
    pyogrio.write_dataframe(frame, path, driver=fmt, layer=c.id)
    return len(frame)


# a spreadsheet program takes a cell that begins with one of these for a formula
# (OWASP: CSV injection); exported text keeps them as text
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _quote_formulas(table: pd.DataFrame) -> pd.DataFrame:
    """CSV: text that a spreadsheet would run gets a leading ``'`` (taken off on import)."""
    out = table.copy()
    for col in out.columns:
        if not pd.api.types.is_numeric_dtype(out[col]):
            out[col] = out[col].map(
                lambda v: "'" + v if isinstance(v, str) and v.startswith(FORMULA_START) else v
            )
    return out


def _unquote_formulas(table: pd.DataFrame) -> pd.DataFrame:
    """The inverse of ``_quote_formulas`` for a CSV read back."""
    quoted = tuple("'" + c for c in FORMULA_START)
    for col in table.columns:
        if not pd.api.types.is_numeric_dtype(table[col]):
            table[col] = table[col].map(
                lambda v: v[1:] if isinstance(v, str) and v.startswith(quoted) else v
            )
    return table


def _write_xlsx(table: pd.DataFrame, path: Path) -> None:
    """XLSX with every text cell stored as text: openpyxl would store ``=...`` as a formula."""
    from openpyxl import Workbook

    wb = Workbook(write_only=False)
    ws = wb.active
    ws.append([str(c) for c in table.columns])
    for values in table.astype(object).itertuples(index=False, name=None):
        ws.append([None if _missing(v) else v for v in values])
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    wb.save(path)


def _missing(value) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def _stream_geojson(conn: Connection, c: Collection, q: Query, path: Path) -> int:
    n = 0
    with path.open("wb") as fh:
        head = {"type": "FeatureCollection", "name": c.id}
        fh.write(json.dumps(head).encode()[:-1] + b', "features": [\n')
        for count, batch in read.batches(conn, c, q):
            if n:
                fh.write(b",\n")
            fh.write(batch)
            n += count
        fh.write(b"\n]}\n")
    return n
