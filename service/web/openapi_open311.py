"""The OpenAPI entries of the Open311 GeoReport v2 routes (service/web/open311.py). Their
errors are GeoReport's: a JSON array of ``{code, description}``."""

from __future__ import annotations

from service.cases.open311 import SOURCES

_ERRORS = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["code", "description"],
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
    },
}
PROBLEM_SCHEMA = {"$ref": "#/components/schemas/Problem"}


def _error(description: str) -> dict:
    # a path that matches no route at all (``.xml``, a bad id) is the server's 404 problem
    return {
        "description": description,
        "content": {
            "application/json": {"schema": _ERRORS},
            "application/problem+json": {"schema": PROBLEM_SCHEMA},
        },
    }


_NULLABLE = {"type": ["string", "null"]}
_REQUEST = {
    "type": "object",
    "required": ["service_request_id", "status", "service_code", "requested_datetime"],
    "properties": {
        "service_request_id": {"type": "string"},
        "status": {"type": "string", "enum": ["open", "closed"]},
        "status_notes": _NULLABLE,
        "service_name": {"type": "string"},
        "service_code": {"type": "string"},
        "description": _NULLABLE,
        "agency_responsible": _NULLABLE,
        "service_notice": _NULLABLE,
        "requested_datetime": {"type": "string"},
        "updated_datetime": _NULLABLE,
        "expected_datetime": _NULLABLE,
        "address": _NULLABLE,
        "address_id": _NULLABLE,
        "zipcode": _NULLABLE,
        "lat": {"type": ["number", "null"]},
        "long": {"type": ["number", "null"]},
        "media_url": _NULLABLE,
    },
}
_SERVICE = {
    "type": "object",
    "required": ["service_code", "service_name", "metadata", "type"],
    "properties": {
        "service_code": {"type": "string"},
        "service_name": {"type": "string"},
        "description": {"type": "string"},
        "metadata": {"type": "boolean"},
        "type": {"type": "string"},
        "keywords": {"type": "string"},
        "group": {"type": "string"},
    },
}


def _q(name: str, description: str) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "string"},
    }


_API_KEY = _q("api_key", "a token of the client system (or the bearer header)")
_JURISDICTION = _q("jurisdiction_id", "accepted and ignored: one city per user")


def _list(description: str, item: dict) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"type": "array", "items": item}}},
    }


def _refusals(*codes: str) -> dict:
    said = {
        "400": "a parameter or field refused (GeoReport's errors)",
        "401": "no token, or an unknown api_key or token",
        "403": "not a client system (role system) or an admin",
        "404": "no such service request (or the client system did not file it)",
        "413": "the body is too large",
        "415": "not a form",
    }
    return {c: _error(said[c]) for c in codes}


def paths(idempotency_key: dict) -> dict:
    tag = ["Open311"]
    return {
        "/open311/v2/services.json": {
            "get": {
                "tags": tag,
                "summary": "The city's violation categories as GeoReport services",
                "parameters": [_API_KEY, _JURISDICTION],
                "responses": {"200": _list("services", _SERVICE), **_refusals("400", "401", "403")},
            }
        },
        "/open311/v2/requests.json": {
            "get": {
                "tags": tag,
                "summary": "Service requests (cases) the client system filed (an admin: all), "
                "newest first, at most 1,000; without dates the last 90 days",
                "parameters": [
                    _API_KEY,
                    _JURISDICTION,
                    _q("service_request_id", "case ids, comma-separated (the rest is ignored)"),
                    _q("service_code", "category codes, comma-separated"),
                    _q("start_date", "ISO 8601 with its zone: requested from"),
                    _q("end_date", "ISO 8601 with its zone: requested until"),
                    _q("status", "open, closed, or both comma-separated"),
                ],
                "responses": {
                    "200": _list("service requests", _REQUEST),
                    **_refusals("400", "401", "403"),
                },
            },
            "post": {
                "tags": tag,
                "summary": "File a case; dispatched on arrival when the rules find its owner",
                "parameters": [idempotency_key],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {
                                "type": "object",
                                "required": ["service_code", "lat", "long"],
                                "properties": {
                                    "api_key": {"type": "string"},
                                    "service_code": {"type": "string"},
                                    "lat": {"type": "number"},
                                    "long": {"type": "number"},
                                    "description": {"type": "string"},
                                    "address_string": {"type": "string", "maxLength": 500},
                                    "source": {"type": "string", "enum": list(SOURCES)},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "201": _list(
                        "the new request's id and notice",
                        {
                            "type": "object",
                            "required": ["service_request_id"],
                            "properties": {
                                "service_request_id": {"type": "string"},
                                "service_notice": _NULLABLE,
                                "account_id": _NULLABLE,
                            },
                        },
                    ),
                    **_refusals("400", "401", "403", "413", "415"),
                },
            },
        },
        "/open311/v2/requests/{service_request_id}.json": {
            "get": {
                "tags": tag,
                "summary": "One service request (a list of one)",
                "parameters": [
                    {
                        "name": "service_request_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer"},
                    },
                    _API_KEY,
                    _JURISDICTION,
                ],
                "responses": {
                    "200": _list("the service request", _REQUEST),
                    **_refusals("400", "401", "403", "404"),
                },
            }
        },
    }
