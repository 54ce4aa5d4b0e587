"""The OpenAPI entries of the OGC API – Features routes, one set per collection of the
registry (service/layers/features/collections.py) with its write model's schema."""

from __future__ import annotations

from service.layers.features.collections import COLLECTIONS
from service.layers.features.params import (
    BBOX_PATTERN,
    BIGINT_MAX,
    CRS84,
    DEFAULT_LIMIT,
    MAX_LIMIT,
    MAX_OFFSET,
)
from service.layers.features.write import SPECS
from service.web.ogc import MAX_FEATURE_BYTES
from service.web.openapi_parts import (
    _FEATURE,
    _LANG,
    _PROBLEM,
    FEATURE_ETAG,
    FILE_TYPES,
    IDEMPOTENCY_KEY,
    _created,
    _geometry,
    _if_match,
    _ok,
    _path,
    _q,
    _ref,
    _tagged,
)


def collection_paths(schemas: dict) -> dict:
    """Paths of every collection; adds each one's properties schema to ``schemas``."""
    paths: dict = {}
    for cid, c in COLLECTIONS.items():
        props_schema = SPECS[cid].model.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        schemas[f"{cid}_properties"] = props_schema
        types = c.geometry_types + (("Polygon",) if "MultiPolygon" in c.geometry_types else ())
        geometry = (
            _geometry(tuple(dict.fromkeys(types)))
            if types
            else {"type": "null", "description": "units and persons have no geometry"}
        )
        feature = {
            "allOf": [
                _ref("Feature"),
                {"properties": {"properties": _ref(f"{cid}_properties"), "geometry": geometry}},
            ]
        }
        body = {
            "required": True,
            "description": f"a GeoJSON Feature, at most {MAX_FEATURE_BYTES} bytes",
            "content": {
                t: {"schema": feature} for t in ("application/geo+json", "application/json")
            },
        }
        change = {
            "type": "object",
            "properties": {
                "properties": {"type": ["object", "null"]},
                "geometry": {"anyOf": [geometry, {"type": "null"}]},
            },
        }
        fid = _path("featureId", {"type": "integer"})
        match = _if_match("the ETag read", FEATURE_ETAG)
        errors = {s: _PROBLEM for s in ("403", "409", "422")}
        paths[f"/collections/{cid}"] = {
            "get": {
                "summary": c.title_en,
                "parameters": [_LANG],
                "responses": {"200": _ok("metadata", schema=_ref("Collection"))},
            }
        }
        paths[f"/collections/{cid}/items"] = {
            "get": {
                "summary": f"{c.title_en}: features",
                "parameters": _items_params(cid),
                "responses": {
                    "200": _ok(
                        "FeatureCollection, streamed",
                        "application/geo+json",
                        _ref("FeatureCollection"),
                    ),
                },
            },
            "post": {
                "summary": f"Create one of {c.title_en}",
                "parameters": [*_write_params(), IDEMPOTENCY_KEY],
                "requestBody": body,
                "responses": {
                    "201": _created({"description": "created", "content": _FEATURE}),
                    **errors,
                },
            },
        }
        paths[f"/collections/{cid}/import"] = {
            "post": {
                "summary": f"Import a file into {c.title_en}: every row or none",
                "parameters": [IDEMPOTENCY_KEY],
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file"],
                                "properties": {
                                    "file": {
                                        "type": "string",
                                        "format": "binary",
                                        "description": FILE_TYPES,
                                    },
                                    "dry_run": {"type": "boolean"},
                                    "crs": {"type": "string", "enum": ["wgs84", "gcj02", "bd09"]},
                                    "repair": {"type": "boolean"},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": _ok("dry run: the report", schema=_ref("ImportReport")),
                    "201": _ok("imported: the report", schema=_ref("ImportReport")),
                    **errors,
                },
            }
        }
        paths[f"/collections/{cid}/items/{{featureId}}"] = {
            "get": {
                "summary": "One feature, with its ETag",
                "parameters": [fid],
                "responses": {"200": _tagged({"description": "the feature", "content": _FEATURE})},
            },
            "put": {
                "summary": "Replace",
                "parameters": [fid, match, *_write_params()],
                "requestBody": body,
                "responses": {
                    "200": _tagged({"description": "replaced", "content": _FEATURE}),
                    "412": _PROBLEM,
                    "428": _PROBLEM,
                    **errors,
                },
            },
            "patch": {
                "summary": "Change some properties or the geometry",
                "parameters": [fid, match, *_write_params()],
                "requestBody": {
                    "required": True,
                    "description": "a JSON merge patch: properties to change, or the geometry",
                    "content": {
                        t: {"schema": change}
                        for t in ("application/merge-patch+json", "application/json")
                    },
                },
                "responses": {
                    "200": _tagged({"description": "updated", "content": _FEATURE}),
                    "412": _PROBLEM,
                    "428": _PROBLEM,
                    **errors,
                },
            },
            "delete": {
                "summary": "Delete (a zone is retired: valid_to = now)",
                "parameters": [fid, match],
                "responses": {
                    "204": {"description": "deleted"},
                    "403": _PROBLEM,
                    "412": _PROBLEM,
                    "428": _PROBLEM,
                },
            },
        }
    return paths


def _items_params(cid: str) -> list[dict]:
    c = COLLECTIONS[cid]
    params = [
        _q(
            "limit",
            f"page size, default {DEFAULT_LIMIT}, capped at {MAX_LIMIT}",
            {"type": "integer", "minimum": 1, "maximum": BIGINT_MAX},
        ),
        _q(
            "after",
            "the features after this id (what the next link carries; as fast deep down as "
            "on the first page); not with offset",
            {"type": "integer", "minimum": -1, "maximum": BIGINT_MAX},
        ),
        _q(
            "offset",
            "features to skip (for old clients: slow deep down; the next link carries after)",
            {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET},
        ),
        _q(
            "bbox",
            "minlon,minlat,maxlon,maxlat in degrees (CRS84), or six numbers with heights",
            {"type": "string", "pattern": BBOX_PATTERN},
        ),
        _q("bbox-crs", "the bbox's CRS: CRS84 only", {"type": "string", "enum": [CRS84]}),
        _q("crs", "the features' CRS: CRS84 only", {"type": "string", "enum": [CRS84]}),
        _q("f", "the format: GeoJSON", {"type": "string", "enum": ["json", "geojson"]}),
        _q("datetime", "RFC 3339 instant or interval a/b, open ends as .."),
    ]
    kinds = {
        "int": {"type": "integer", "minimum": -BIGINT_MAX, "maximum": BIGINT_MAX},
        "bool": {"type": "boolean"},
    }
    for name, flt in c.filters.items():
        params.append(
            _q(name, flt.doc or f"only features whose {name} equals this", kinds.get(flt.kind))
        )
    return params


def _write_params() -> list[dict]:
    return [
        _q(
            "crs",
            "coordinates sent in wgs84 (default), gcj02 or bd09",
            {"type": "string", "enum": ["wgs84", "gcj02", "bd09"]},
        ),
        _q("repair", "repair an invalid polygon instead of rejecting it", {"type": "boolean"}),
    ]
