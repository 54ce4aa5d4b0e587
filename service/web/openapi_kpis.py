"""The OpenAPI paths of the loop's figures (service/web/kpis_api.py)."""

from __future__ import annotations

from service.cases.kpis import COUNTS, LEVELS, RATES
from service.web.downloads import XLSX

PROBLEM = {"$ref": "#/components/responses/Problem"}

_ROW = {
    "type": "object",
    "required": ["code", "name", *COUNTS, *(r[0] for r in RATES), "median_fix_hours"],
    "properties": {
        "code": {
            "type": ["string", "null"],
            "description": "the unit's, department's or admin area's code; null: no owner",
        },
        "name": {"type": ["string", "null"]},
        **{n: {"type": "integer", "minimum": 0} for n in COUNTS},
        **{
            r[0]: {
                "type": ["number", "null"],
                "minimum": 0,
                "maximum": 1,
                "description": "null: 0/0",
            }
            for r in RATES
        },
        "median_fix_hours": {"type": ["number", "null"]},
    },
}
_FIGURES = {
    "type": "object",
    "required": ["from", "to", "level", "as_of", "rows"],
    "properties": {
        "from": {"type": "string", "format": "date"},
        "to": {"type": "string", "format": "date"},
        "level": {"type": "string", "enum": list(LEVELS)},
        "as_of": {"type": "string", "format": "date-time", "description": "now, for overdue"},
        "rows": {"type": "array", "items": _ROW},
    },
}


def _parameters() -> list[dict]:
    day = {"type": "string", "format": "date"}
    return [
        {
            "name": "from",
            "in": "query",
            "required": True,
            "description": "the first day cases were observed, YYYY-MM-DD in the city's time",
            "schema": day,
        },
        {
            "name": "to",
            "in": "query",
            "required": True,
            "description": "the last day (included), not before from",
            "schema": day,
        },
        {
            "name": "level",
            "in": "query",
            "required": False,
            "description": "rows per owner unit (default), department, street or community",
            "schema": {"type": "string", "enum": list(LEVELS)},
        },
    ]


def paths() -> dict:
    summary = (
        "The loop's figures (按期整改率, 返工率 …) per unit, department, street or community, "
        "over the cases observed in a window "
        "(README: The loop's figures); a unit's user gets its own rows, an inspector 403; a "
        "bad parameter is a 400 naming it"
    )
    return {
        "/api/kpis": {
            "get": {
                "summary": summary,
                "parameters": _parameters(),
                "responses": {
                    "200": {
                        "description": "the figures",
                        "content": {"application/json": {"schema": _FIGURES}},
                    },
                    "400": PROBLEM,
                    "403": PROBLEM,
                },
            }
        },
        "/api/kpis.xlsx": {
            "get": {
                "summary": "The same table as /api/kpis, as an XLSX sheet with Chinese headers",
                "parameters": _parameters(),
                "responses": {
                    "200": {"description": "the workbook", "content": {XLSX: {}}},
                    "400": PROBLEM,
                    "403": PROBLEM,
                },
            }
        },
    }
