"""The JSON API (``/api``)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_login import current_user

from service import problems
from service.db import reading
from service.errors import NotFound, Problem, field_error

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/me")
def me():
    """The caller: ``{id, name, role}``."""
    return jsonify(current_user.as_json())


@bp.get("/problem-points")
def problem_points():
    """Assessment points ranked by the open violations in their surroundings."""
    unknown = set(request.args) - {"limit", "category"}
    limit = request.args.get("limit", "50")
    errors = [field_error(k, "unknown parameter; takes limit, category") for k in unknown]
    if not limit.isdigit() or not 1 <= int(limit) <= 10_000:
        errors.append(field_error("limit", "a whole number from 1 to 10000"))
    if errors:
        raise Problem("Some query parameters are not understood.", status=400, errors=errors)
    with reading() as conn:
        rows = problems.ranked(conn, current_user.city_id, int(limit), request.args.get("category"))
    return jsonify(points=rows)


@bp.get("/assessment-points/<int:point_id>/nearby")
def nearby(point_id: int):
    """A point's open violations within its surroundings, with distances and its score."""
    with reading() as conn:
        found = problems.nearby(conn, current_user.city_id, point_id)
    if found is None:
        raise NotFound(f"No assessment point {point_id}.")
    return jsonify(found)
