"""The OpenAPI 3 document, built from the collection registry and the write models."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, json, render_template

from service.features.collections import COLLECTIONS
from service.features.params import DEFAULT_LIMIT, MAX_LIMIT
from service.features.write import SPECS

bp = Blueprint("openapi", __name__)

FILE_TYPES = "GeoJSON, GeoPackage, zipped Shapefile, KML, CSV or XLSX"
_PROBLEM = {"$ref": "#/components/responses/Problem"}
_FEATURE = {"application/geo+json": {"schema": {"$ref": "#/components/schemas/Feature"}}}


def _q(name: str, description: str, schema: dict | None = None) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def _path(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _items_params(cid: str) -> list[dict]:
    c = COLLECTIONS[cid]
    params = [
        _q(
            "limit",
            f"page size, default {DEFAULT_LIMIT}, capped at {MAX_LIMIT}",
            {"type": "integer", "minimum": 1},
        ),
        _q("offset", "features to skip (the next link carries it)", {"type": "integer"}),
        _q("bbox", "minlon,minlat,maxlon,maxlat (CRS84)"),
        _q("datetime", "RFC 3339 instant or interval a/b, open ends as .."),
    ]
    kinds = {"int": {"type": "integer"}, "bool": {"type": "boolean"}}
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
                "responses": {"200": {"description": "links"}},
            }
        },
        "/conformance": {
            "get": {
                "summary": "Conformance classes",
                "responses": {"200": {"description": "conformsTo"}},
            }
        },
        "/collections": {
            "get": {
                "summary": "The collections",
                "responses": {"200": {"description": "collections"}},
            }
        },
        "/api/me": {
            "get": {
                "summary": "The caller: id, name, role",
                "responses": {"200": {"description": "the user"}, "401": _PROBLEM},
            }
        },
        "/api/problem-points": {
            "get": {
                "summary": "Assessment points ranked by open violations in their surroundings",
                "parameters": [
                    _q("limit", "at most this many", {"type": "integer"}),
                    _q("category", "assessment-point category"),
                ],
                "responses": {"200": {"description": "points"}, "400": _PROBLEM},
            }
        },
        "/api/catalogues/{name}": {
            "get": {
                "summary": "A catalogue: violation-categories or assessment-point-categories",
                "parameters": [_path("name")],
                "responses": {"200": {"description": "items"}, "404": _PROBLEM},
            }
        },
        "/api/catalogues/{name}/{code}": {
            "get": {
                "summary": "One category, with its ETag",
                "parameters": [_path("name"), _path("code")],
                "responses": {"200": {"description": "the category"}, "404": _PROBLEM},
            },
            "patch": {
                "summary": "Change a category (admins; If-Match); cases are judged again",
                "parameters": [_path("name"), _path("code")],
                "requestBody": {"required": True, "content": {"application/json": {}}},
                "responses": {
                    "200": {"description": "the category"},
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
                        {"type": "number"},
                    ),
                ],
                "responses": {
                    "200": {"description": "FeatureCollection of findings"},
                    "400": _PROBLEM,
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
                        "schema": {"type": "string", "enum": ["violations", "grid_cells"]}
                        if name == "layer"
                        else {"type": "integer", "minimum": 0},
                    }
                    for name in ("layer", "z", "x", "y")
                ]
                + [
                    _q("status", "violations: statuses, comma-separated"),
                    _q("category", "violations: category codes, comma-separated"),
                    _q("unit", "violations: owning unit codes, comma-separated"),
                    _q("from", "violations: observed on or after this day (YYYY-MM-DD)"),
                    _q("to", "violations: observed on or before this day (YYYY-MM-DD)"),
                ],
                "responses": {
                    "200": {
                        "description": "the tile",
                        "content": {"application/vnd.mapbox-vector-tile": {}},
                    },
                    "400": _PROBLEM,
                    "404": _PROBLEM,
                },
            }
        },
        "/api/zones/clean": {
            "post": {
                "summary": "Snap a drawn zone to its same-kind neighbours' edges and report "
                "overlaps, with the shape trimmed against them (planners; writes nothing)",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["geometry", "kind"],
                                "properties": {
                                    "geometry": {"type": "object"},
                                    "kind": {"type": "string"},
                                    "id": {"type": ["integer", "null"]},
                                    "snap_m": {"type": "number", "minimum": 0, "maximum": 50},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": {"description": "geometry, moved, overlaps, trimmed, area_m2"},
                    "400": _PROBLEM,
                    "403": _PROBLEM,
                    "422": _PROBLEM,
                },
            }
        },
        "/api/search": {
            "get": {
                "summary": "Areas, zones, points, stall areas, grid cells and cases by name or "
                "code, each with its bounding box",
                "parameters": [
                    _q("q", "text to find (names anywhere, codes from the start)"),
                    _q("limit", "at most this many (1-50)", {"type": "integer"}),
                ],
                "responses": {"200": {"description": "results"}, "400": _PROBLEM},
            }
        },
        "/api/reports": {
            "post": {
                "summary": "Report a case from a phone (multipart: category, description, lon, "
                "lat, accuracy_m, crs, observed_at, photos); the case as the rules judged it",
                "requestBody": {"required": True, "content": {"multipart/form-data": {}}},
                "responses": {
                    "201": {"description": "the case (GeoJSON Feature)"},
                    "403": _PROBLEM,
                    "413": _PROBLEM,
                    "415": _PROBLEM,
                    "422": _PROBLEM,
                },
            }
        },
        "/report": {
            "get": {
                "summary": "The inspector's report page (HTML, fits a phone)",
                "responses": {"200": {"description": "HTML"}, "403": _PROBLEM},
            }
        },
        "/photos/{name}": {
            "get": {
                "summary": "A case's photo, to those who may see the case",
                "parameters": [_path("name")],
                "responses": {"200": {"description": "the image"}, "404": _PROBLEM},
            }
        },
        "/api/inspection-plans": {
            "post": {
                "summary": "Plan an unannounced inspection round (leaders, admins): JSON {date, "
                "window_start, window_end (HH:MM city time or ISO), depot [lon, lat], mode "
                "(walk|bike|drive), team [user ids], area, release_at}",
                "requestBody": {"required": True, "content": {"application/json": {}}},
                "responses": {
                    "201": {
                        "description": "the plan: stops with ETAs, travel_s, dwell_s, "
                        "distance_m, geometry"
                    },
                    "403": _PROBLEM,
                    "422": _PROBLEM,
                },
            }
        },
        "/api/inspection-plans/{planId}": {
            "get": {
                "summary": "A plan (its team, leaders and admins; 404 to anyone else; team "
                "members see the stops from release_at); the view is logged",
                "parameters": [_path("planId")],
                "responses": {"200": {"description": "the plan"}, "404": _PROBLEM},
            }
        },
        "/api/inspection-plans/{planId}.gpx": {
            "get": {
                "summary": "The plan as GPX 1.1 (waypoints and the street path)",
                "parameters": [_path("planId")],
                "responses": {"200": {"description": "GPX"}, "404": _PROBLEM},
            }
        },
        "/api/inspection-plans/{planId}.geojson": {
            "get": {
                "summary": "The plan as a GeoJSON FeatureCollection (path, then stops)",
                "parameters": [_path("planId")],
                "responses": {"200": {"description": "GeoJSON"}, "404": _PROBLEM},
            }
        },
        "/api/inspection-plans/{planId}/views": {
            "get": {
                "summary": "Who looked at a plan and when (leaders, admins)",
                "parameters": [_path("planId")],
                "responses": {
                    "200": {"description": "views"},
                    "403": _PROBLEM,
                    "404": _PROBLEM,
                },
            }
        },
        "/api/inspection-plans/{planId}/stops/{seq}/arrive": {
            "post": {
                "summary": "Check in at a stop: the point's last inspection is now",
                "parameters": [_path("planId"), _path("seq")],
                "responses": {"200": {"description": "the check-in"}, "404": _PROBLEM},
            }
        },
        "/inspection-plans/{planId}": {
            "get": {
                "summary": "The round on the street map (HTML, for a phone and for print)",
                "parameters": [_path("planId")],
                "responses": {"200": {"description": "HTML"}, "404": _PROBLEM},
            }
        },
        "/api/assessment-points/{pointId}/nearby": {
            "get": {
                "summary": "A point's open violations within its radius, with distances",
                "parameters": [
                    {
                        "name": "pointId",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer"},
                    }
                ],
                "responses": {"200": {"description": "point, score, violations"}, "404": _PROBLEM},
            }
        },
    }
    schemas: dict = {
        "Problem": {
            "type": "object",
            "properties": {
                "type": {"type": "string"},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
                "instance": {"type": "string"},
                "errors": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"field": {"type": "string"}, "reason": {"type": "string"}},
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
                "geometry": {"type": "object"},
                "properties": {"type": "object"},
            },
        },
    }
    for cid, c in COLLECTIONS.items():
        props_schema = SPECS[cid].model.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        schemas[f"{cid}_properties"] = props_schema
        body = {
            "required": True,
            "content": {
                "application/geo+json": {
                    "schema": {
                        "allOf": [
                            {"$ref": "#/components/schemas/Feature"},
                            {
                                "properties": {
                                    "properties": {
                                        "$ref": f"#/components/schemas/{cid}_properties"
                                    },
                                    "geometry": {"description": " or ".join(c.geometry_types)},
                                }
                            },
                        ]
                    }
                }
            },
        }
        fid = {"name": "featureId", "in": "path", "required": True, "schema": {"type": "integer"}}
        match = {
            "name": "If-Match",
            "in": "header",
            "required": True,
            "description": "the ETag read; a stale one gets 412",
            "schema": {"type": "string"},
        }
        errors = {s: _PROBLEM for s in ("400", "401", "403", "409", "413", "415", "422")}
        paths[f"/collections/{cid}"] = {
            "get": {"summary": c.title_en, "responses": {"200": {"description": "metadata"}}}
        }
        paths[f"/collections/{cid}/items"] = {
            "get": {
                "summary": f"{c.title_en}: features",
                "parameters": _items_params(cid),
                "responses": {
                    "200": {
                        "description": "FeatureCollection, streamed",
                        "content": {"application/geo+json": {}},
                    },
                    "400": _PROBLEM,
                },
            },
            "post": {
                "summary": f"Create one of {c.title_en}",
                "parameters": _write_params(),
                "requestBody": body,
                "responses": {
                    "201": {"description": "created; Location and ETag", "content": _FEATURE},
                    **errors,
                },
            },
        }
        paths[f"/collections/{cid}/import"] = {
            "post": {
                "summary": f"Import a file into {c.title_en}: every row or none",
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
                    "200": {"description": "dry run: the report"},
                    "201": {"description": "imported: the report"},
                    **errors,
                },
            }
        }
        paths[f"/collections/{cid}/items/{{featureId}}"] = {
            "get": {
                "summary": "One feature, with its ETag",
                "parameters": [fid],
                "responses": {
                    "200": {"description": "the feature", "content": _FEATURE},
                    "404": _PROBLEM,
                },
            },
            "put": {
                "summary": "Replace",
                "parameters": [fid, match, *_write_params()],
                "requestBody": body,
                "responses": {
                    "200": {"description": "replaced", "content": _FEATURE},
                    "412": _PROBLEM,
                    "428": _PROBLEM,
                    **errors,
                },
            },
            "patch": {
                "summary": "Change some properties or the geometry",
                "parameters": [fid, match, *_write_params()],
                "requestBody": {"required": True, "content": {"application/json": {}}},
                "responses": {
                    "200": {"description": "updated", "content": _FEATURE},
                    "412": _PROBLEM,
                    "428": _PROBLEM,
                    **errors,
                },
            },
            "delete": {
                "summary": "Delete (a zone is retired: valid_to = now)",
                "parameters": [fid, match],
                "responses": {"204": {"description": "deleted"}, "412": _PROBLEM, "428": _PROBLEM},
            },
        }
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


@bp.get("/api")
def openapi() -> Response:
    return Response(
        json.dumps(document(), ensure_ascii=False),
        mimetype="application/vnd.oai.openapi+json;version=3.1",
    )


@bp.get("/api.html")
def swagger() -> str:
    return render_template("swagger.html", debug=current_app.debug)
