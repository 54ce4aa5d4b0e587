"""Query parameters of /collections/{id}/items, checked and turned into SQL."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from service.accounts.scope import CaseScope
from service.errors import Problem, field_error
from service.layers.features.collections import Collection

BIGINT_MAX = 2**63 - 1  # PostgreSQL's bigint: the largest whole number any query takes
DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
MAX_OFFSET = BIGINT_MAX - MAX_LIMIT  # OFFSET and OFFSET + LIMIT stay bigints
_NUMBER = r"-?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?"  # ASCII; no nan, inf
BBOX_PATTERN = rf"^{_NUMBER}(?:,{_NUMBER}){{3}}(?:,{_NUMBER},{_NUMBER})?$"  # 4 numbers, or 6
COMMON = {"limit", "offset", "after", "bbox", "bbox-crs", "datetime", "f", "crs"}
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"

_WHOLE = re.compile(r"-?[0-9]{1,20}")  # ASCII digits: not ², not ٣ (which int() reads as 3)


def whole_number(
    args: Mapping[str, str], name: str, default: int, lo: int, hi: int, errors: list[dict]
) -> int:
    """``args[name]`` as a whole number from ``lo`` to ``hi`` written in ASCII digits; else
    ``default``, with what is wrong added to ``errors``."""
    raw = args.get(name)
    if raw is None:
        return default
    if not _WHOLE.fullmatch(raw):
        errors.append(field_error(name, f"should be a whole number in digits 0-9, got {raw!r}"))
        return default
    value = int(raw)
    if not lo <= value <= hi:
        errors.append(field_error(name, f"should be from {lo} to {hi}, got {value}"))
        return default
    return value


@dataclass
class Query:
    where: list[str] = field(default_factory=list)
    params: dict = field(default_factory=dict)
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    after: int | None = None  # keyset paging: the features after this id (the next link's)


def parse_items_query(c: Collection, args, city_id: int, scope: CaseScope | None) -> Query:
    """Every parameter checked; unknown ones and bad values are one 400 naming them all."""
    errors = []
    q = Query(where=["t.city_id = :city_id"], params={"city_id": city_id})
    for name in args:
        if name not in COMMON and name not in c.filters:
            allowed = ", ".join(sorted(COMMON | set(c.filters)))
            errors.append(field_error(name, f"unknown parameter; this collection takes {allowed}"))
    q.limit = whole_number(args, "limit", DEFAULT_LIMIT, 1, BIGINT_MAX, errors)
    q.limit = min(q.limit, MAX_LIMIT)  # capped, not rejected (OGC API – Features, 7.15.3)
    q.offset = whole_number(args, "offset", 0, 0, MAX_OFFSET, errors)
    if "after" in args:
        q.after = whole_number(args, "after", -1, -1, BIGINT_MAX, errors)
        if "offset" in args:
            errors.append(field_error("offset", "give offset or after, not both"))
    if args.get("f") not in (None, "json", "geojson"):
        errors.append(field_error("f", "only json (GeoJSON) is served here"))
    if args.get("crs") not in (None, CRS84):
        errors.append(field_error("crs", "features are served in CRS84 (lon/lat) only"))
    if args.get("bbox-crs") not in (None, CRS84):
        errors.append(field_error("bbox-crs", f"a bbox is read in CRS84 ({CRS84}) only"))
    if "bbox" in args and not c.geometry_types:
        errors.append(field_error("bbox", f"{c.id} have no geometry"))
    elif "bbox" in args:
        _bbox(args["bbox"], q, errors)
    if "datetime" in args:
        _datetime(c, args["datetime"], q, errors)
    elif c.current_only:
        start, end = c.temporal
        q.where.append(f"{start} <= now() AND ({end} IS NULL OR {end} > now())")
    for name, flt in c.filters.items():
        if name in args:
            value = _cast(args[name], flt.kind, name, errors)
            key = f"f_{name}"
            q.where.append(flt.sql.replace(":value", f":{key}"))
            q.params[key] = value
    if scope is not None and c.id == "violations":  # the cases the reader may see
        q.where.append(scope.where())
        q.params |= scope.params
    if errors:
        raise Problem("Some query parameters are not understood.", status=400, errors=errors)
    return q


def _cast(raw: str, kind: str, name: str, errors):
    if kind == "int":
        return whole_number({name: raw}, name, 0, -BIGINT_MAX, BIGINT_MAX, errors)
    if kind == "bool":
        if raw.lower() in ("true", "1"):
            return True
        if raw.lower() in ("false", "0"):
            return False
        errors.append(field_error(name, f"should be true or false, got {raw!r}"))
    return raw


def _bbox(raw: str, q: Query, errors) -> None:
    nums = [float(v) for v in raw.split(",")] if re.fullmatch(BBOX_PATTERN, raw) else []
    if len(nums) == 6:  # with heights: drop them
        nums = [nums[0], nums[1], nums[3], nums[4]]
    if len(nums) != 4:
        errors.append(field_error("bbox", "should be minlon,minlat,maxlon,maxlat"))
        return
    minx, miny, maxx, maxy = nums
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        errors.append(field_error("bbox", "should be minlon,minlat,maxlon,maxlat in degrees"))
        return
    q.where.append(
        "t.geom && ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326) "
        "AND ST_Intersects(t.geom, ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326))"
    )
    q.params.update(minx=minx, miny=miny, maxx=maxx, maxy=maxy)


def _instant(text: str, name: str, errors) -> dt.datetime | None:
    if text in ("..", ""):
        return None
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        errors.append(field_error(name, f"should be RFC 3339 time or interval, got {text!r}"))
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _datetime(c: Collection, raw: str, q: Query, errors) -> None:
    if c.temporal is None:
        return  # the collection has no time: every feature matches
    start_col, end_col = c.temporal
    end_col = end_col or start_col
    if "/" in raw:
        a, _, b = raw.partition("/")
        lo, hi = _instant(a, "datetime", errors), _instant(b, "datetime", errors)
        if lo is None and hi is None and not (a in ("..", "") and b in ("..", "")):
            return
    else:
        lo = hi = _instant(raw, "datetime", errors)
        if lo is None:
            return
    if lo is not None:
        q.where.append(
            f"({end_col} IS NULL OR {end_col} >= :dt_lo)"
            if end_col != start_col
            else f"{start_col} >= :dt_lo"
        )
        q.params["dt_lo"] = lo
    if hi is not None:
        q.where.append(f"{start_col} <= :dt_hi")
        q.params["dt_hi"] = hi
