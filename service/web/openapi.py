"""The OpenAPI 3 document, built from the collection registry and the write models."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, json, render_template

from service.layers.basemap import MAX_ZOOM as BASEMAP_MAX_ZOOM
from service.layers.features.collections import COLLECTIONS
from service.layers.features.params import BBOX_PATTERN, CRS84, DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET
from service.layers.features.write import SPECS
from service.layers.search import MAX_RESULTS
from service.layers.sheets import HEADERS
from service.layers.tiles import MAX_ZOOM
from service.layers.transfer import FORMATS
from service.layers.zone_edit import MAX_SNAP_M
from service.rounds.inspections import PlanIn
from service.store.models import TRAVEL_MODES, ZONE_KINDS
from service.web.catalogue_api import CATALOGUES
from service.web.inputs import BIGINT_MAX, MAX_JSON_DEPTH
from service.web.ogc import MAX_FEATURE_BYTES
from service.web.openapi_accounts import paths as accounts_paths
from service.web.openapi_admin import paths as admin_paths

bp = Blueprint("openapi", __name__)

FILE_TYPES = (
    "GeoJSON, GeoPackage, zipped Shapefile, KML, CSV or XLSX, by the name's ending: "
    + ", ".join(sorted(FORMATS))
)
_PROBLEM = {"$ref": "#/components/responses/Problem"}
_FEATURE = {"application/geo+json": {"schema": {"$ref": "#/components/schemas/Feature"}}}
_WHOLE = {"type": "integer", "minimum": 1, "maximum": BIGINT_MAX}  # a database id
# what every operation can answer: a NUL in any text or a parameter not understood, no or an
# unknown sign-in, the database away; where the path names something, 404; with a body, 413
# (over the size limit) and 415 (not sent as the type it takes)
_ALWAYS = ("400", "401", "503")
FEATURE_ETAG = r'^(W/)?"?[0-9]+\.[0-9]{1,18}"?$'
ROW_ETAG = r'^"?[0-9a-f]{32}"?$'
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "a retry with the same key gets the first answer; nothing is written twice",
    "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,255}$"},
}


def _ok(description: str, media: str = "application/json", schema: dict | None = None) -> dict:
    content = {"schema": schema} if schema else {}
    return {"description": description, "content": {media: content}}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


_HEADER = {"schema": {"type": "string"}, "required": True}
_LANG = {
    "name": "lang",
    "in": "query",
    "required": False,
    "description": "the language of titles and pages: en for English, else Chinese",
    "schema": {"type": "string"},
}
_CATALOGUE = {
    "name": "name",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "enum": list(CATALOGUES)},
}
_PLAN = {"name": "planId", "in": "path", "required": True, "schema": {"type": "integer"}}
_DAY = {"type": "string", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "description": "YYYY-MM-DD"}
_REPORT = {
    "schema": {
        "type": "object",
        "required": ["category", "lon", "lat"],
        "additionalProperties": False,
        "properties": {
            "category": {"type": "string"},
            "description": {"type": "string"},
            "lon": {"type": "number"},
            "lat": {"type": "number"},
            "accuracy_m": {"type": "number"},
            "crs": {"type": "string", "enum": ["wgs84", "gcj02"]},
            "observed_at": {"type": "string", "format": "date-time"},
            "csrf_token": {"type": "string", "description": "pages only"},
            "photos": {
                "type": "array",
                "items": {"type": "string", "format": "binary"},
                "description": "JPEG, PNG or WebP, recognised by their first bytes",
            },
        },
    }
}


def _between(lo: int, hi: int) -> dict:
    return {"minimum": lo, "maximum": hi}


def _list_of(key: str) -> dict:
    return {
        "type": "object",
        "required": [key],
        "properties": {key: {"type": "array", "items": {"type": "object"}}},
    }


def _tagged(answer: dict) -> dict:
    return {**answer, "headers": {"ETag": _HEADER}}


def _created(answer: dict) -> dict:
    return {**answer, "headers": {"ETag": _HEADER, "Location": _HEADER}}


def _if_match(description: str, pattern: str) -> dict:
    return {
        "name": "If-Match",
        "in": "header",
        "required": True,
        "description": f"{description}; without it 428, a stale or another one 412",
        "schema": {"type": "string", "pattern": pattern},
    }


def _geometry(types: tuple[str, ...]) -> dict:
    return {
        "type": "object",
        "required": ["type", "coordinates"],
        "properties": {
            "type": {"type": "string", "enum": list(types)},
            "coordinates": {"type": "array"},
        },
    }


def _answers(paths: dict) -> None:
    """Add to every operation the problems any of them can answer (``_ALWAYS``, 404 where
    the path names something, 413 and 415 where it takes a body)."""
    for path, operations in paths.items():
        for op in operations.values():
            codes = {*_ALWAYS, *(["404"] if "{" in path else [])}
            codes |= {"413", "415"} if "requestBody" in op else set()
            for code in sorted(codes):
                op["responses"].setdefault(code, _PROBLEM)


def _json_body(schema: dict) -> dict:
    return {
        "required": True,
        "description": f"JSON nested at most {MAX_JSON_DEPTH} deep; no NUL in any text",
        "content": {"application/json": {"schema": schema}},
    }


def _q(name: str, description: str, schema: dict | None = None) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def _path(name: str, schema: dict | None = None) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": schema or {"type": "string"}}


def _items_params(cid: str) -> list[dict]:
    c = COLLECTIONS[cid]
    params = [
        _q(
            "limit",
            f"page size, default {DEFAULT_LIMIT}, capped at {MAX_LIMIT}",
            {"type": "integer", "minimum": 1, "maximum": BIGINT_MAX},
        ),
        _q(
            "offset",
            "features to skip (the next link carries it)",
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


def document() -> dict:
    paths: dict = {
        "/": {
            "get": {
                "summary": "Landing page (JSON for programs, the map for browsers)",
                "parameters": [
                    _q("f", "json: the landing page whatever Accept says; else by Accept"),
                    _LANG,
                ],
                "responses": {
                    "200": {
                        "description": "links (JSON), or the planner's map (HTML)",
                        "content": {
                            "application/json": {"schema": _ref("Landing")},
                            "text/html": {},
                        },
                    }
                },
            }
        },
        "/conformance": {
            "get": {
                "summary": "Conformance classes",
                "responses": {"200": _ok("conformsTo", schema=_ref("Conformance"))},
            }
        },
        "/collections": {
            "get": {
                "summary": "The collections",
                "parameters": [_LANG],
                "responses": {"200": _ok("collections", schema=_ref("Collections"))},
            }
        },
        "/api/me": {
            "get": {
                "summary": "The caller: id, name, role",
                "responses": {"200": _ok("the user", schema=_ref("Me"))},
            }
        },
        "/api/problem-points": {
            "get": {
                "summary": "Assessment points ranked by open violations in their surroundings",
                "parameters": [
                    _q("limit", "at most this many", {"type": "integer", **_between(1, 10_000)}),
                    _q("category", "assessment-point category"),
                ],
                "responses": {"200": _ok("points", schema=_list_of("points"))},
            }
        },
        "/api/catalogues/{name}": {
            "get": {
                "summary": "A catalogue: violation-categories or assessment-point-categories",
                "parameters": [_CATALOGUE],
                "responses": {"200": _ok("items", schema=_list_of("items"))},
            }
        },
        "/api/catalogues/{name}/{code}": {
            "get": {
                "summary": "One category, with its ETag",
                "parameters": [_CATALOGUE, _path("code")],
                "responses": {"200": _tagged(_ok("the category", schema=_ref("Category")))},
            },
            "patch": {
                "summary": "Change a category (admins; If-Match); cases are judged again",
                "parameters": [
                    _CATALOGUE,
                    _path("code"),
                    _if_match("the category's ETag", ROW_ETAG),
                ],
                "requestBody": _json_body(
                    {"anyOf": [_ref(model.__name__) for _, model in CATALOGUES.values()]}
                ),
                "responses": {
                    "200": _tagged(_ok("the category", schema=_ref("Category"))),
                    "403": _PROBLEM,
                    "412": _PROBLEM,
                    "422": _PROBLEM,
                    "428": _PROBLEM,
                },
            },
        },
        "/api/zone-check": {
            "get": {
                "summary": "Gaps, overlaps, points with no or two owners, sliver zones (GeoJSON)",
                "parameters": [
                    _q("area", "admin area code; default: all street offices"),
                    _q(
                        "tolerance_m2",
                        "ignore overlaps and gaps up to this area",
                        {"type": "number", "minimum": 0},
                    ),
                ],
                "responses": {
                    "200": _ok("FeatureCollection of findings", schema=_ref("FeatureCollection")),
                    "404": _PROBLEM,
                },
            }
        },
        "/tiles/{layer}/{z}/{x}/{y}.pbf": {
            "get": {
                "summary": "A vector tile (MVT) of violations (cases from zoom 13, counts per "
                "bin below) or grid_cells (from zoom 13)",
                "parameters": [
                    {
                        "name": name,
                        "in": "path",
                        "required": True,
                        "schema": {
                            "layer": {"type": "string", "enum": ["violations", "grid_cells"]},
                            "z": {"type": "integer", "minimum": 0, "maximum": MAX_ZOOM},
                        }.get(name, {"type": "integer", "minimum": 0}),
                        "description": "x and y: 0 to 2^z - 1" if name in "xy" else "",
                    }
                    for name in ("layer", "z", "x", "y")
                ]
                + [
                    _q("status", "violations: statuses, comma-separated"),
                    _q("category", "violations: category codes, comma-separated"),
                    _q("unit", "violations: owning unit codes, comma-separated"),
                    _q("from", "violations: observed on or after this day", _DAY),
                    _q("to", "violations: observed on or before this day", _DAY),
                ],
                "responses": {
                    "200": _ok("the tile", "application/vnd.mapbox-vector-tile"),
                    "404": _PROBLEM,
                },
            }
        },
        "/tiles/basemap/{z}/{x}/{y}.png": {
            "get": {
                "summary": "A 256 × 256 PNG tile of the base map drawn from the city's own "
                "streets and community borders (CHUANGWEN_TILES=own); blank outside the city",
                "parameters": [
                    {
                        "name": name,
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer", "minimum": 0, "maximum": BASEMAP_MAX_ZOOM}
                        if name == "z"
                        else {"type": "integer", "minimum": 0},
                        "description": "x and y: 0 to 2^z - 1" if name in "xy" else "",
                    }
                    for name in ("z", "x", "y")
                ],
                "responses": {
                    "200": _ok("the tile", "image/png"),
                    "304": {"description": "not modified (If-None-Match)"},
                    "400": _PROBLEM,
                },
            }
        },
        "/api/zones/clean": {
            "post": {
                "summary": "Snap a drawn zone to its same-kind neighbours' edges and report "
                "overlaps, with the shape trimmed against them (planners; writes nothing)",
                "requestBody": _json_body(
                    {
                        "type": "object",
                        "required": ["geometry", "kind"],
                        "properties": {
                            "geometry": _geometry(("Polygon", "MultiPolygon")),
                            "kind": {"type": "string", "enum": list(ZONE_KINDS)},
                            "id": {"anyOf": [_WHOLE, {"type": "null"}]},
                            "snap_m": {"type": "number", "minimum": 0, "maximum": MAX_SNAP_M},
                        },
                    }
                ),
                "responses": {
                    "200": _ok("the zone cleaned", schema=_ref("CleanZone")),
                    "403": _PROBLEM,
                    "422": _PROBLEM,
                },
            }
        },
        "/api/templates/{collection}.xlsx": {
            "get": {
                "summary": "An XLSX template for an import: Chinese headers (the field names "
                "as comments) and an example row",
                "parameters": [_path("collection", {"type": "string", "enum": list(HEADERS)})],
                "responses": {
                    "200": {
                        "description": "the workbook",
                        "content": {
                            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}
                        },
                    }
                },
            }
        },
        "/api/search": {
            "get": {
                "summary": "Areas, zones, points, stall areas, grid cells and cases by name or "
                "code, each with its bounding box",
                "parameters": [
                    {
                        **_q("q", "text to find (names anywhere, codes from the start)"),
                        "required": True,
                        "schema": {"type": "string", "minLength": 1, "maxLength": 100},
                    },
                    _q(
                        "limit",
                        "at most this many",
                        {"type": "integer", **_between(1, MAX_RESULTS)},
                    ),
                ],
                "responses": {"200": _ok("results", schema=_list_of("results"))},
            }
        },
        "/api/reports": {
            "post": {
                "summary": "Report a case from a phone (multipart: category, description, lon, "
                "lat, accuracy_m, crs, observed_at, photos); the case as the rules judged it",
                "requestBody": {"required": True, "content": {"multipart/form-data": _REPORT}},
                "responses": {
                    "201": _created(_ok("the case", "application/geo+json", _ref("Feature"))),
                    "403": _PROBLEM,
                    "422": _PROBLEM,
                },
            }
        },
        "/report": {
            "get": {
                "summary": "The inspector's report page (HTML, fits a phone)",
                "parameters": [_LANG],
                "responses": {"200": _ok("HTML", "text/html"), "403": _PROBLEM},
            }
        },
        "/photos/{name}": {
            "get": {
                "summary": "A case's photo, to those who may see the case",
                "parameters": [
                    _path("name", {"type": "string", "pattern": r"^[0-9a-f]{64}\.(jpg|png|webp)$"})
                ],
                "responses": {
                    "200": {
                        "description": "the image",
                        "content": {f"image/{t}": {} for t in ("jpeg", "png", "webp")},
                    }
                },
            }
        },
        "/api/inspection-plans": {
            "get": {
                "summary": "The rounds the caller may see: a team member's own from today "
                "(a sealed one as its date, window and release time), every round for leaders "
                "and admins",
                "parameters": [
                    _q("from", "first day (YYYY-MM-DD)", _DAY),
                    _q("to", "last day (YYYY-MM-DD)", _DAY),
                    _q("limit", "at most this many", {"type": "integer", **_between(1, 500)}),
                    _LANG,
                ],
                "responses": {"200": _ok("rounds", schema=_list_of("plans"))},
            },
            "post": {
                "summary": "Plan an unannounced inspection round (leaders, admins): JSON {date, "
                "window_start, window_end (HH:MM city time or ISO), depot [lon, lat], mode "
                "(walk|bike|drive), team [user ids], area, release_at}",
                "parameters": [IDEMPOTENCY_KEY],
                "requestBody": _json_body(_ref("PlanIn")),
                "responses": {
                    "201": {
                        **_ok("the plan: stops with ETAs, travel_s, dwell_s, distance_m, path"),
                        "content": {"application/json": {"schema": _ref("Plan")}},
                        "headers": {"Location": _HEADER},
                    },
                    "403": _PROBLEM,
                    "422": _PROBLEM,
                },
            },
        },
        "/api/inspection-plans/{planId}": {
            "get": {
                "summary": "A plan (its team, leaders and admins; 404 to anyone else; team "
                "members see the stops from release_at); the view is logged",
                "parameters": [_PLAN],
                "responses": {"200": _ok("the plan", schema=_ref("Plan"))},
            }
        },
        "/api/inspection-plans/{planId}.gpx": {
            "get": {
                "summary": "The plan as GPX 1.1 (waypoints and the street path)",
                "parameters": [_PLAN],
                "responses": {"200": _ok("GPX", "application/gpx+xml")},
            }
        },
        "/api/inspection-plans/{planId}.geojson": {
            "get": {
                "summary": "The plan as a GeoJSON FeatureCollection (path, then stops)",
                "parameters": [_PLAN],
                "responses": {
                    "200": _ok("GeoJSON", "application/geo+json", _ref("FeatureCollection"))
                },
            }
        },
        "/api/inspection-plans/{planId}/views": {
            "get": {
                "summary": "Who looked at a plan and when (leaders, admins)",
                "parameters": [_PLAN],
                "responses": {"200": _ok("views", schema=_list_of("views")), "403": _PROBLEM},
            }
        },
        "/api/inspection-plans/{planId}/stops/{seq}/arrive": {
            "post": {
                "summary": "Check in at a stop: the point's last inspection is now",
                "parameters": [_PLAN, _path("seq", {"type": "integer", "minimum": 0})],
                "responses": {"200": _ok("the check-in", schema=_ref("Arrival"))},
            }
        },
        "/inspection-plans/{planId}": {
            "get": {
                "summary": "The round on the street map (HTML, for a phone and for print)",
                "parameters": [_PLAN, _LANG],
                "responses": {"200": _ok("HTML", "text/html")},
            }
        },
        "/api/assessment-points/{pointId}/nearby": {
            "get": {
                "summary": "A point's open violations within its radius, with distances",
                "parameters": [_path("pointId", {"type": "integer"})],
                "responses": {"200": _ok("point, score, violations", schema=_ref("Nearby"))},
            }
        },
    }
    schemas: dict = {**_SCHEMAS, "PlanIn": _plan_in()}
    for _, model in CATALOGUES.values():
        schemas[model.__name__] = model.model_json_schema()
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
    paths.update(accounts_paths(IDEMPOTENCY_KEY))
    paths.update(admin_paths())
    _answers(paths)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "chuangwen",
            "version": "0.1.0",
            "description": "Civilized-city campaign layers: OGC API – Features and more.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": {
                "Problem": {
                    "description": "RFC 7807 problem",
                    "content": {
                        "application/problem+json": {
                            "schema": {"$ref": "#/components/schemas/Problem"}
                        }
                    },
                }
            },
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
        },
    }


_OBJECT = {"type": "object"}
_LINKS = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["href", "rel"],
        "properties": {"href": {"type": "string"}, "rel": {"type": "string"}},
    },
}
_SCHEMAS: dict = {
    "Problem": {
        "type": "object",
        "required": ["type", "title", "status", "detail", "instance", "errors"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string"},
            "instance": {"type": "string"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["field", "reason"],
                    "properties": {
                        "field": {"type": "string"},
                        "reason": {"type": "string"},
                        "row": {"type": "integer", "description": "file imports: the row"},
                    },
                },
            },
        },
    },
    "Feature": {
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"const": "Feature"},
            "id": {"type": "integer"},
            "geometry": {"type": ["object", "null"]},
            "properties": {"type": "object"},
        },
    },
    "FeatureCollection": {
        "type": "object",
        "required": ["type", "features"],
        "properties": {
            "type": {"const": "FeatureCollection"},
            "features": {"type": "array", "items": {"$ref": "#/components/schemas/Feature"}},
            "numberMatched": {"type": "integer", "minimum": 0},
            "numberReturned": {"type": "integer", "minimum": 0},
            "links": _LINKS,
        },
    },
    "Landing": {
        "type": "object",
        "required": ["title", "links"],
        "properties": {"title": {"type": "string"}, "links": _LINKS},
    },
    "Conformance": {
        "type": "object",
        "required": ["conformsTo"],
        "properties": {"conformsTo": {"type": "array", "items": {"type": "string"}}},
    },
    "Collection": {
        "type": "object",
        "required": ["id", "title", "links"],
        "properties": {
            "id": {"type": "string"},
            "title": {"type": "string"},
            "itemType": {"const": "feature"},
            "crs": {"type": "array", "items": {"type": "string"}},
            "links": _LINKS,
            "extent": _OBJECT,
        },
    },
    "Collections": {
        "type": "object",
        "required": ["links", "collections"],
        "properties": {
            "links": _LINKS,
            "collections": {"type": "array", "items": {"$ref": "#/components/schemas/Collection"}},
        },
    },
    "Me": {
        "type": "object",
        "required": ["id", "name", "role"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "role": {"type": "string"},
        },
    },
    "Category": {
        "type": "object",
        "required": ["code"],
        "properties": {"code": {"type": "string"}},
    },
    "CleanZone": {
        "type": "object",
        "required": ["geometry", "moved", "overlaps", "trimmed", "area_m2"],
        "properties": {
            "geometry": _OBJECT,
            "moved": {"type": "boolean"},
            "overlaps": {"type": "array", "items": _OBJECT},
            "trimmed": {"type": ["object", "null"]},
            "area_m2": {"type": "number"},
        },
    },
    "ImportReport": {
        "type": "object",
        "required": ["rows", "inserted", "dry_run", "errors", "notes"],
        "properties": {
            "rows": {"type": "integer", "minimum": 0},
            "inserted": {"type": "integer", "minimum": 0},
            "dry_run": {"type": "boolean"},
            "errors": {"type": "array", "items": _OBJECT},
            "notes": {"type": "array", "items": {"type": "string"}},
        },
    },
    "Plan": {
        "type": "object",
        "required": ["id", "date", "window_start", "window_end", "released", "stops"],
        "properties": {
            "id": {"type": "integer"},
            "date": {"type": "string"},
            "released": {"type": "boolean"},
            "depot": {"type": ["array", "null"], "items": {"type": "number"}},
            "stops": {"type": "array", "items": _OBJECT},
            "geometry": {"type": ["object", "null"]},
        },
    },
    "Arrival": {
        "type": "object",
        "required": ["seq", "point_id", "arrived_at"],
        "properties": {
            "seq": {"type": "integer"},
            "point_id": {"type": "integer"},
            "arrived_at": {"type": "string"},
        },
    },
    "Nearby": {
        "type": "object",
        "required": ["point", "score", "violations"],
        "properties": {
            "point": _OBJECT,
            "score": {"type": "number"},
            "violations": {"type": "array", "items": _OBJECT},
        },
    },
}


def _plan_in() -> dict:
    """The plan request's model, with what the server checks beyond it written in."""
    schema = PlanIn.model_json_schema()
    props = schema["properties"]
    props["team"]["items"] = _WHOLE
    props["mode"]["enum"] = list(TRAVEL_MODES)
    props["depot"]["items"] = {"type": "number", "minimum": -180, "maximum": 180}
    return schema


@bp.get("/api")
def openapi() -> Response:
    return Response(
        json.dumps(document(), ensure_ascii=False),
        mimetype="application/vnd.oai.openapi+json;version=3.1",
    )


@bp.get("/api.html")
def swagger() -> str:
    return render_template("swagger.html", debug=current_app.debug)
