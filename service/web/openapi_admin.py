"""The OpenAPI entries of the admin's JSON routes (service/web/admin.py)."""

from __future__ import annotations

from service.accounts.audit import DEFAULT_LIMIT, MAX_LIMIT, MAX_USER_CHARS
from service.store.models import AUDITED_TABLES

PROBLEM = {"$ref": "#/components/responses/Problem"}


def _q(name: str, description: str, schema: dict) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


def _json(description: str, key: str, item: dict) -> dict:
    schema = {
        "type": "object",
        "required": [key],
        "properties": {key: {"type": "array", "items": item}},
    }
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ENTRY = {
    "type": "object",
    "required": ["id", "at", "actor_name", "action", "table_name"],
    "properties": {
        "id": {"type": "integer"},
        "at": {"type": "string", "format": "date-time", "description": "in the city's time"},
        "actor_id": {"type": ["integer", "null"]},
        "actor_name": {"type": ["string", "null"]},
        "action": {"type": "string", "description": "INSERT, UPDATE, DELETE, view, refused"},
        "table_name": {"type": "string"},
        "row_key": {"type": ["string", "null"]},
        "old": {"type": ["object", "null"]},
        "new": {"type": ["object", "null"]},
    },
}
_ITEM = {
    "type": "object",
    "required": ["key", "count", "missing"],
    "properties": {
        "key": {"type": "string"},
        "count": {"type": "integer", "minimum": 0},
        "missing": {"type": "boolean"},
        "collection": {"type": ["string", "null"], "description": "the import that fills it"},
    },
}


def paths() -> dict:
    return {
        "/api/audit": {
            "get": {
                "summary": "The city's audit log, newest first (admins); a bad parameter is a "
                "400 naming it",
                "parameters": [
                    _q(
                        "user",
                        "who wrote: a user's name, or its id",
                        {"type": "string", "maxLength": MAX_USER_CHARS},
                    ),
                    _q("table", "the table written", {"type": "string", "enum": AUDITED_TABLES}),
                    _q(
                        "day",
                        "the day written, YYYY-MM-DD in the city's time zone",
                        {"type": "string", "format": "date"},
                    ),
                    _q(
                        "limit",
                        f"at most this many entries (default {DEFAULT_LIMIT})",
                        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
                    ),
                ],
                "responses": {"200": _json("entries", "entries", _ENTRY), "403": PROBLEM},
            }
        },
        "/api/city/checklist": {
            "get": {
                "summary": "What the admin's city has and lacks: a count per layer and "
                "catalogue (admins)",
                "responses": {"200": _json("the checklist", "items", _ITEM), "403": PROBLEM},
            }
        },
    }
