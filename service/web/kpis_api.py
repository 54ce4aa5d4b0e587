"""The loop's figures over HTTP (service/cases/kpis.py): ``GET /api/kpis`` as JSON and
``GET /api/kpis.xlsx`` as the same table with Chinese headers, for the campaign office and
leaders; a unit's users get the rows of their own unit and its communities (``case_scope``),
inspectors none (403). ``from`` and ``to`` (YYYY-MM-DD, the city's days, both included) are
required; ``level`` is ``unit`` (the default), ``department``, ``street`` or ``community``.
A bad parameter is a 400 naming it."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from flask import Blueprint, jsonify, request
from flask_login import current_user

from service.accounts.scope import case_scope
from service.cases import kpis
from service.errors import Problem, field_error
from service.store.db import reading
from service.web.auth import require_role
from service.web.downloads import XLSX, attachment

bp = Blueprint("kpis", __name__)

PARAMETERS = ("from", "to", "level")
READERS = ("planner", "leader", "unit")  # and admins, who pass every require_role
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse(
    args: Mapping[str, str], levels: tuple[str, ...] = kpis.LEVELS
) -> tuple[dt.date, dt.date, str]:
    """``(from, to, level)`` from the query (``level`` one of ``levels``, the first by
    default); a Problem (400) names every bad parameter."""
    errors = [
        field_error(k, f"unknown parameter; takes {', '.join(PARAMETERS)}")
        for k in sorted(set(args) - set(PARAMETERS))
    ]
    days: dict[str, dt.date | None] = {}
    for name in ("from", "to"):
        raw = args.get(name)
        days[name] = None
        if raw is None:
            errors.append(field_error(name, "missing"))
            continue
        try:
            if not _DAY.fullmatch(raw):
                raise ValueError
            days[name] = dt.date.fromisoformat(raw)
        except ValueError:
            errors.append(field_error(name, f"a date as YYYY-MM-DD, got {raw!r}"))
    start, end = days["from"], days["to"]
    if start and end and end < start:
        errors.append(field_error("to", f"not before from ({start.isoformat()})"))
    level = args.get("level", levels[0])
    if level not in levels:
        errors.append(field_error("level", f"one of {', '.join(levels)}"))
    if errors:
        raise Problem("Some query parameters are not understood.", status=400, errors=errors)
    return start, end, level


def _figures() -> dict:
    start, end, level = parse(request.args)
    with reading() as conn:
        return kpis.figures(conn, current_user.city_id, start, end, level, case_scope(current_user))


@bp.get("/api/kpis")
@require_role(*READERS)
def kpis_json():
    """The figures per unit, department, street or community (README: "The loop's
    figures")."""
    return jsonify(_figures())


@bp.get("/api/kpis.xlsx")
@require_role(*READERS)
def kpis_xlsx():
    """The same table as a spreadsheet with Chinese headers."""
    result = _figures()
    name = f"kpis-{result['level']}-{result['from']}-{result['to']}.xlsx"
    return attachment(kpis.xlsx(result), XLSX, name)
