"""The leaders' dashboard (service/summaries/dashboard.py): the page ``/dashboard`` and its
data, ``GET /api/dashboard`` (the figures, the trend, the ranking and the flag),
``/api/dashboard/heat`` (the open cases per square) and ``/api/dashboard/drill`` (``area``: a
street office's or a community's code; ``unit``: a unit's code). Planners, leaders, admins."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request, url_for
from flask_login import current_user

from maps.assets import VENDOR
from service.errors import Problem, field_error
from service.store.db import reading
from service.summaries import dashboard
from service.web.auth import require_role
from service.web.i18n import catalogue, current_language, translator

bp = Blueprint("dashboard", __name__)

READERS = ("planner", "leader")  # and admins


@bp.get("/dashboard")
@require_role(*READERS)
def dashboard_page():
    """Figures, charts, the ranking and its flag, the heat map, the drill-down."""
    lang = current_language()
    t = translator(lang)
    vendor = url_for("static", filename="vendor")
    return render_template(
        "dashboard.html",
        t=t,
        lang=lang,
        other_lang="zh" if lang == "en" else "en",
        vendor={k: f"{vendor}/{v}" for k, v in VENDOR.items()},
        urls={
            "overview": url_for("dashboard.overview"),
            "heat": url_for("dashboard.heat"),
            "drill": url_for("dashboard.drill"),
            "tiles": url_for("basemap.tile", z=0, x=0, y=0).replace("/0/0/0.png", ""),
        },
        messages={
            k: t(k) for k in catalogue("zh") if k.startswith(("dash.", "ranking.list.", "status."))
        },
    )


@bp.get("/api/dashboard")
@require_role(*READERS)
def overview():
    """This week so far against last week, twelve weeks of trend, last week's ranking."""
    with reading() as conn:
        return jsonify(dashboard.overview(conn, current_user.city_id))


@bp.get("/api/dashboard/heat")
@require_role(*READERS)
def heat():
    """The open cases as [lat, lon, count] per square."""
    with reading() as conn:
        return jsonify(
            {"cell_m": dashboard.HEAT_CELL_M, "points": dashboard.heat(conn, current_user.city_id)}
        )


@bp.get("/api/dashboard/drill")
@require_role(*READERS)
def drill():
    """One level of the drill-down: street offices, a street office's communities, a
    community's units, a unit's cases."""
    unknown = sorted(set(request.args) - {"area", "unit"})
    if unknown:
        raise Problem(
            "Some query parameters are not understood.",
            status=400,
            errors=[field_error(k, "unknown parameter; takes area, unit") for k in unknown],
        )
    with reading() as conn:
        return jsonify(
            dashboard.drill(
                conn, current_user.city_id, request.args.get("area"), request.args.get("unit")
            )
        )
