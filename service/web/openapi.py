"""The OpenAPI 3 document, built from the collection registry and the write models."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, json, render_template

from service.cases import loop
from service.layers.basemap import MAX_ZOOM as BASEMAP_MAX_ZOOM
from service.layers.map_layers import LAYERS as MAP_LAYERS
from service.layers.search import MAX_RESULTS
from service.layers.sheets import HEADERS
from service.layers.tiles import MAX_ZOOM
from service.layers.zone_edit import MAX_SNAP_M
from service.rounds.inspections import PlanIn
from service.store.models import TRAVEL_MODES, ZONE_KINDS
from service.web.catalogue_api import CATALOGUES
from service.web.openapi_accounts import paths as accounts_paths
from service.web.openapi_admin import paths as admin_paths
from service.web.openapi_features import collection_paths
from service.web.openapi_kpis import paths as kpis_paths
from service.web.openapi_open311 import paths as open311_paths
from service.web.openapi_parts import (
    _CATALOGUE,
    _DAY,
    _HEADER,
    _LANG,
    _PLAN,
    _PROBLEM,
    _REPORT,
    _WHOLE,
    IDEMPOTENCY_KEY,
    ROW_ETAG,
    _answers,
    _between,
    _created,
    _geometry,
    _if_match,
    _json_body,
    _list_of,
    _ok,
    _path,
    _q,
    _ref,
    _tagged,
)

bp = Blueprint("openapi", __name__)

_CASE_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}


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
                "summary": "A vector tile (MVT) of violations (cases from zoom 14; at 13 cases "
                "where few and counts where they crowd; counts per bin below) or grid_cells "
                "(from zoom 13)",
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
                "streets, community borders, water, buildings and green areas "
                "(CHUANGWEN_TILES=own); blank outside the city",
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
                    "200": {
                        **_ok("the tile", "image/png"),
                        "headers": {
                            "X-Basemap-Drawn": {
                                "description": "what the tile shows: features with a part "
                                "inside it, names of streets (labels) and of water placed in it",
                                "schema": {
                                    "type": "string",
                                    "example": "streets=12; labels=3; water=2; buildings=40; "
                                    "green=1; water_labels=1",
                                },
                            }
                        },
                    },
                    "304": {"description": "not modified (If-None-Match)"},
                    "400": _PROBLEM,
                },
            }
        },
        "/api/cases/{id}/events": {
            "get": {
                "parameters": [_CASE_ID],
                "summary": "The case's history: every step of its loop, oldest first (who, "
                "when, from, to, comment, photos, where); a unit's users only their own cases",
                "responses": {"200": _ok("the events", "application/json"), "404": _PROBLEM},
            },
            "post": {
                "summary": "Take a step of the case's loop (dispatch, accept, start, fix, "
                "verify_pass, verify_fail, invalidate, dispute, reassign, extend_request, "
                "extend_decide, hang): multipart form data with photos, or JSON; If-Match with "
                "the case's ETag is required (428 without, 412 when it moved); who may take "
                "which step from which state: README 'The case's loop'",
                "parameters": [
                    _CASE_ID,
                    {
                        "name": "If-Match",
                        "in": "header",
                        "required": True,
                        "schema": {"type": "string"},
                    },
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        ctype: {
                            "schema": {
                                "type": "object",
                                "required": ["action"],
                                "properties": {
                                    "action": {"type": "string", "enum": list(loop.STEPS)},
                                    "comment": {"type": "string", "maxLength": 2000},
                                    "lon": {"type": "number"},
                                    "lat": {"type": "number"},
                                    "accuracy_m": {"type": "number"},
                                    "unit": {"type": "string"},
                                    "due_at": {"type": "string"},
                                    "approve": {"type": "boolean"},
                                    **(
                                        {
                                            "photos": {
                                                "type": "array",
                                                "items": {"type": "string", "format": "binary"},
                                            }
                                        }
                                        if ctype.startswith("multipart")
                                        else {}
                                    ),
                                },
                            }
                        }
                        for ctype in ("multipart/form-data", "application/json")
                    },
                },
                "responses": {
                    "201": _ok(
                        "the event written; ETag: the case's new version", "application/json"
                    ),
                    "403": _PROBLEM,
                    "404": _PROBLEM,
                    "409": _PROBLEM,
                    "412": _PROBLEM,
                    "422": _PROBLEM,
                    "428": _PROBLEM,
                },
            },
        },
        "/api/map/layers/{layer}": {
            "get": {
                "summary": "One layer of the planner map as GeoJSON, as the map page asks for "
                "it: the whole layer (ETag: the layer's version; 304 with If-None-Match when "
                "unchanged) or the features in a view (bbox). Properties carry codes, named by "
                "the page from the catalogues; cases only within the reader's scope",
                "parameters": [
                    {
                        "name": "layer",
                        "in": "path",
                        "required": True,
                        "schema": {
                            "type": "string",
                            "enum": list(MAP_LAYERS),
                        },
                    },
                    {
                        "name": "bbox",
                        "in": "query",
                        "schema": {"type": "string"},
                        "description": "west,south,east,north in degrees: the features in "
                        "this view only (not cached)",
                    },
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 10000},
                        "description": "with bbox: at most this many features",
                    },
                ],
                "responses": {
                    "200": _ok("a FeatureCollection", "application/geo+json"),
                    "304": {"description": "not modified (If-None-Match)"},
                    "400": _PROBLEM,
                    "404": _PROBLEM,
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
                "(walk|bike|drive), team [user ids], area, release_at}; team may be a list of "
                "teams (and depot one place each): then a round for each team, no point on two",
                "parameters": [IDEMPOTENCY_KEY],
                "requestBody": _json_body(_ref("PlanIn")),
                "responses": {
                    "201": {
                        **_ok(
                            "the plan: stops with ETAs, travel_s, dwell_s, distance_m, path; "
                            "for several teams {plans: [...]}, a plan for each"
                        ),
                        "content": {
                            "application/json": {
                                "schema": {
                                    "oneOf": [
                                        _ref("Plan"),
                                        {
                                            "type": "object",
                                            "required": ["plans"],
                                            "properties": {
                                                "plans": {"type": "array", "items": _ref("Plan")}
                                            },
                                        },
                                    ]
                                }
                            }
                        },
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
                "summary": "Check in at a stop: the point's last visit is now, or at 'at' (a "
                'JSON body {"at": ISO time with its zone} within the round\'s window and not '
                "ahead of now, for a round recorded from paper); 409 once the round is "
                "cancelled",
                "parameters": [_PLAN, _path("seq", {"type": "integer", "minimum": 0})],
                "responses": {
                    "200": _ok("the check-in", schema=_ref("Arrival")),
                    "409": _PROBLEM,
                    "422": _PROBLEM,
                },
            }
        },
        "/api/inspection-plans/{planId}/cancel": {
            "post": {
                "summary": "Cancel a round (leaders, admins): no more check-ins; the visits it "
                "made stand",
                "parameters": [_PLAN],
                "responses": {"200": _ok("id, cancelled_at"), "404": _PROBLEM},
            }
        },
        "/api/inspection-coverage": {
            "get": {
                "summary": "What rounds of a mode, window and depot can promise (leaders, "
                "admins): points out of reach, stops a night, whether the floor is kept "
                "unforeseeably, the floor kept, the stops a night it needs, and the same for "
                "other modes, longer windows and more teams",
                "parameters": [
                    _q("mode", "walk, bike or drive (default walk)"),
                    _q("window", "HH:MM-HH:MM in the city's time (required)"),
                    _q("depot", "lon,lat (required)"),
                    _q("area", "an area's code"),
                    _q("teams", "teams a night, 1 to 20 (default 1)"),
                ],
                "responses": {"200": _ok("the report"), "400": _PROBLEM, "403": _PROBLEM},
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
    paths.update(collection_paths(schemas))
    paths.update(accounts_paths(IDEMPOTENCY_KEY))
    paths.update(admin_paths())
    paths.update(kpis_paths())
    paths.update(open311_paths(IDEMPOTENCY_KEY))
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
        "required": ["type", "title", "status", "detail", "message", "instance", "errors"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string", "description": "what is wrong, in English"},
            "message": {
                "type": "string",
                "description": "the detail in the request's language (?lang=, the lang "
                "cookie, Accept-Language; Chinese by default), for people",
            },
            "instance": {"type": "string"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["field", "reason", "message"],
                    "properties": {
                        "field": {"type": "string"},
                        "reason": {"type": "string", "description": "in English"},
                        "message": {
                            "type": "string",
                            "description": "the reason in the request's language",
                        },
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
            "night": {
                "type": "object",
                "description": "a round of a night of several teams, to leaders and admins: "
                "which team of how many, and the night's plans",
                "properties": {
                    "team": {"type": "integer"},
                    "teams": {"type": "integer"},
                    "plans": {"type": "array", "items": {"type": "integer"}},
                },
            },
        },
    },
    "Arrival": {
        "type": "object",
        "required": ["seq", "point_id", "arrived_at"],
        "properties": {
            "seq": {"type": "integer"},
            "point_id": {"type": ["integer", "null"], "description": "null: a verification"},
            "case_id": {"type": "integer", "description": "the case a verification stop visits"},
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
    team = {"type": "array", "items": _WHOLE, "minItems": 1, "maxItems": 20}
    place = {
        "type": "array",
        "items": {"type": "number", "minimum": -180, "maximum": 180},
        "minItems": 2,
        "maxItems": 2,
    }
    for name, one in (("team", team), ("depot", place)):
        several = {**props[name], "items": one}
        props[name] = {"description": several.pop("description"), "anyOf": [one, several]}
    props["mode"]["enum"] = list(TRAVEL_MODES)
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
