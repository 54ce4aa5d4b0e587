"""Public-service advertising coverage over HTTP (``GET /api/ad-coverage`` and ``.xlsx``):
each assessment point's status, the sites near it and the stale sites, for the office that
puts the ads up and the inspectors who check them."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask_login import current_user

from service.ads import coverage
from service.store.db import reading
from service.web.auth import require_role
from service.web.downloads import XLSX, attachment

bp = Blueprint("ads", __name__)

# and admins; a unit's users too: a unit puts up and keeps ads (no case is read here)
READERS = ("planner", "leader", "inspector", "unit")


def _coverage() -> dict:
    with reading() as conn:
        return coverage.coverage(conn, current_user.city_id)


@bp.get("/api/ad-coverage")
@require_role(*READERS)
def ad_coverage():
    """Every point asked for an ad in sight: covered, stale or uncovered (with why)."""
    return jsonify(_coverage())


@bp.get("/api/ad-coverage.xlsx")
@require_role(*READERS)
def ad_coverage_xlsx():
    """The same as a spreadsheet with Chinese headers."""
    return attachment(coverage.xlsx(_coverage()), XLSX, "ad-coverage.xlsx")
