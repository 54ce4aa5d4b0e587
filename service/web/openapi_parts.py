"""Pieces the OpenAPI document is built from: the problem answer, parameters, headers and
the small schema builders (service/web/openapi.py and the openapi_* modules)."""

from __future__ import annotations

from service.layers.transfer import FORMATS
from service.web.catalogue_api import CATALOGUES
from service.web.inputs import BIGINT_MAX, MAX_JSON_DEPTH

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
