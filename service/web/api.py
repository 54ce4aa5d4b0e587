"""The JSON API (``/api``)."""

from __future__ import annotations

import math

from flask import Blueprint, Response, jsonify, request
from flask_login import current_user

from service.accounts.scope import case_scope
from service.errors import NotFound, Problem, field_error
from service.layers import problems, search, sheets, zone_check, zone_edit
from service.store.db import reading
from service.web.auth import require_role
from service.web.downloads import XLSX, attachment
from service.web.inputs import json_body, whole_number

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/me")
def me():
    """The caller: ``{id, name, role}``."""
    return jsonify(current_user.as_json())


@bp.get("/problem-points")
def problem_points():
    """Assessment points ranked by the open violations in their surroundings."""
    unknown = set(request.args) - {"limit", "category"}
    errors = [field_error(k, "unknown parameter; takes limit, category") for k in unknown]
    limit = whole_number(request.args, "limit", 50, 1, 10_000, errors)
    if errors:
        raise Problem("Some query parameters are not understood.", status=400, errors=errors)
    with reading() as conn:
        rows = problems.ranked(
            conn,
            current_user.city_id,
            limit,
            request.args.get("category"),
            case_scope(current_user),
        )
    return jsonify(points=rows)


@bp.get("/assessment-points/<int:point_id>/nearby")
def nearby(point_id: int):
    """A point's open violations within its surroundings, with distances and its score."""
    with reading() as conn:
        found = problems.nearby(conn, current_user.city_id, point_id, case_scope(current_user))
    if found is None:
        raise NotFound(f"No assessment point {point_id}.")
    return jsonify(found)


@bp.get("/zone-check")
def zone_check_view():
    """Gaps, overlaps, points with no or two owners, sliver zones and the cases with no owner
    (the office's queue; within the reader's case scope), as GeoJSON."""
    unknown = set(request.args) - {"area", "tolerance_m2"}
    errors = [field_error(k, "unknown parameter; takes area, tolerance_m2") for k in unknown]
    try:
        tolerance = float(request.args.get("tolerance_m2", "1"))
        if not 0 <= tolerance < math.inf:
            raise ValueError
    except ValueError:
        errors.append(field_error("tolerance_m2", "a non-negative number of square metres"))
        tolerance = 1.0
    if errors:
        raise Problem("Some query parameters are not understood.", status=400, errors=errors)
    with reading() as conn:
        found = zone_check.check(
            conn,
            current_user.city_id,
            request.args.get("area"),
            tolerance,
            case_scope(current_user),
        )
    return jsonify(found)


@bp.post("/zones/clean")
@require_role("planner")
def zone_clean():
    """A drawn zone snapped to its neighbours' edges, its overlaps with them, and the shape
    trimmed against them: what the editor offers before it saves (nothing is written)."""
    body = json_body()
    with reading() as conn:
        return jsonify(zone_edit.clean(conn, current_user.city_id, body))


@bp.get("/search")
def search_view():
    """Places and cases by name or code: ``q``, ``limit`` (1–50)."""
    unknown = set(request.args) - {"q", "limit"}
    errors = [field_error(k, "unknown parameter; takes q, limit") for k in unknown]
    limit = whole_number(request.args, "limit", 20, 1, search.MAX_RESULTS, errors)
    if errors:
        raise Problem("Some query parameters are not understood.", status=400, errors=errors)
    scope = case_scope(current_user)
    with reading() as conn:
        hits = search.search(conn, current_user.city_id, request.args.get("q", ""), limit, scope)
    return jsonify(results=hits)


@bp.get("/templates/<collection>.xlsx")
def template(collection: str) -> Response:
    """An XLSX to fill in for an import: Chinese headers and an example row."""
    return attachment(sheets.template_xlsx(collection), XLSX, f"{collection}-template.xlsx")
