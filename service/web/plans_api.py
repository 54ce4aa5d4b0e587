"""Routes of the inspection plans (service/rounds/inspections.py): API, exports, page."""

from __future__ import annotations

import datetime as dt
import json

from flask import Blueprint, Response, current_app, jsonify, request
from flask_login import current_user

from service.errors import Forbidden, NotFound, Problem, field_error
from service.layers.features.collections import WRITERS_CASES
from service.layers.features.params import whole_number
from service.rounds import inspections, listing, promise
from service.store.db import reading, writing
from service.web.auth import actor
from service.web.downloads import attachment
from service.web.idempotency import idempotent
from service.web.inputs import json_body

bp = Blueprint("plans", __name__)


def _plan(pid: int, what: str) -> dict:
    with writing(actor()) as conn:  # the read is logged, refused or not, and committed
        plan = inspections.read(conn, current_user.city_id, current_user, pid, what)
    if plan is None:
        raise NotFound(f"No inspection plan {pid}.")
    return plan


@bp.post("/api/inspection-plans")
@idempotent
def create_plan():
    """Plan an unannounced inspection round (leaders and admins); for several teams, the
    night's rounds, one for each (``{"plans": [...]}``)."""
    if current_user.role not in inspections.PLANNERS:
        raise Forbidden("Planning inspections needs the leader or admin role.")
    body = json_body()
    with writing(actor()) as conn:
        pids = inspections.create(
            conn, current_user.city_id, current_user.id, body, current_app.config
        )
        plans = [
            inspections.read(conn, current_user.city_id, current_user, pid, "created")
            for pid in pids
        ]
    if len(plans) == 1:
        resp = jsonify(plans[0])
        resp.headers["Location"] = f"/api/inspection-plans/{pids[0]}"
    else:
        resp = jsonify(plans=plans)
        day = plans[0]["date"]
        resp.headers["Location"] = f"/api/inspection-plans?from={day}&to={day}"
    resp.status_code = 201
    return resp


@bp.get("/api/inspection-plans")
def list_plans():
    """The rounds the caller may see: a team member's own from today (sealed ones as their
    date, window and release time), every round for leaders and admins; ``from``, ``to``
    (YYYY-MM-DD), ``limit`` (1–500)."""
    return jsonify(plans=_listed())


def _listed() -> list[dict]:
    errors = [
        field_error(k, "unknown parameter; takes from, to, limit")
        for k in sorted(set(request.args) - {"from", "to", "limit", "lang"})
    ]
    days = {}
    for k in ("from", "to"):
        try:
            days[k] = dt.date.fromisoformat(request.args[k]) if k in request.args else None
        except ValueError:
            errors.append(field_error(k, "a day as YYYY-MM-DD"))
    limit = whole_number(request.args, "limit", 100, 1, listing.MAX_LIST, errors)
    if errors:
        raise Problem("Some query parameters are not understood.", status=400, errors=errors)
    with reading() as conn:
        return listing.list_plans(
            conn, current_user.city_id, current_user, days.get("from"), days.get("to"), limit
        )


@bp.get("/rounds")
def rounds_page():
    """The rounds as a page: where inspectors and leaders land after signing in."""
    from flask import render_template

    from service.cases.loop import VERIFIERS
    from service.web.i18n import current_language, translator

    lang = current_language()
    return render_template(
        "rounds.html",
        t=translator(lang),
        plans=_listed(),
        other_lang="zh" if lang == "en" else "en",
        can_report=current_user.role in ("admin", *WRITERS_CASES),
        can_verify=current_user.role in VERIFIERS,
    )


@bp.get("/api/inspection-plans/<int:pid>")
def get_plan(pid: int):
    """A plan: 404 to anyone outside its team, leaders and admins; stops from release_at."""
    return jsonify(_plan(pid, "json"))


@bp.get("/api/inspection-plans/<int:pid>.gpx")
def plan_gpx(pid: int):
    """The plan's stops and street path as GPX 1.1."""
    body = inspections.gpx(_plan(pid, "gpx"))
    return attachment(body, "application/gpx+xml", f"plan-{pid}.gpx")


@bp.get("/api/inspection-plans/<int:pid>.geojson")
def plan_geojson(pid: int):
    """The plan's path and stops as a GeoJSON FeatureCollection."""
    body = json.dumps(inspections.geojson(_plan(pid, "geojson")), ensure_ascii=False)
    return Response(body, mimetype="application/geo+json")


@bp.get("/api/inspection-plans/<int:pid>/views")
def plan_views(pid: int):
    """Who looked at a plan, and when (leaders and admins)."""
    with writing(actor()) as conn:
        row = inspections.checked(conn, current_user.city_id, current_user, pid, "views")
    if row is None:
        raise NotFound(f"No inspection plan {pid}.")
    if current_user.role not in inspections.PLANNERS:
        raise Forbidden("Only leaders and admins see who looked at a plan.")
    with reading() as conn:
        return jsonify(views=inspections.views(conn, current_user.city_id, pid))


@bp.post("/api/inspection-plans/<int:pid>/stops/<int:seq>/arrive")
def arrive(pid: int, seq: int):
    """The team has arrived at a stop: the point's last inspection is now, or at ``at``
    (a JSON body ``{"at": ISO time}`` within the round's window, for a round recorded from
    paper)."""
    at = None
    if request.get_data(cache=True):
        body = json_body()
        if not isinstance(body, dict) or set(body) - {"at"}:
            raise Problem(
                "The check-in is not understood.",
                status=400,
                errors=[field_error("body", "an object with at most 'at'")],
            )
        at = body.get("at")
    with writing(actor()) as conn:
        done = inspections.arrive(conn, current_user.city_id, current_user, pid, seq, at)
    if done is None:
        raise NotFound(f"No inspection plan {pid}.")
    return jsonify(done)


@bp.post("/api/inspection-plans/<int:pid>/cancel")
def cancel(pid: int):
    """Cancel a round (leaders and admins): no more check-ins; nothing of it counted."""
    with writing(actor()) as conn:
        done = inspections.cancel(conn, current_user.city_id, current_user, pid)
    if done is None:
        raise NotFound(f"No inspection plan {pid}.")
    return jsonify(done)


@bp.get("/api/inspection-coverage")
def inspection_coverage():
    """What rounds of a mode, window and depot can promise (leaders and admins)."""
    if current_user.role not in inspections.PLANNERS:
        raise Forbidden("The coverage report is for leaders and admins.")
    with reading() as conn:
        return jsonify(
            promise.report(
                conn, current_user.city_id, current_user.id, request.args, current_app.config
            )
        )


@bp.get("/inspection-plans/<int:pid>")
def route_page(pid: int):
    """The round on the street map, for a phone, for the night and for print."""
    from zoneinfo import ZoneInfo

    from flask import url_for
    from flask_wtf.csrf import generate_csrf

    from maps.planner import base_tiles
    from maps.route import build_route_map
    from service.accounts.scope import case_scope
    from service.layers import basemap
    from service.layers import reads as layers
    from service.rounds import sheet
    from service.web.i18n import current_language, translator
    from service.web.pages import gcj02_grid, map_page

    lang = current_language()
    t = translator(lang)
    city = current_user.city_id
    plan = _plan(pid, "page")
    with reading() as conn:
        tz_name, centre = sheet.city_clock(conn, city)
        ids = [s["point_id"] for s in plan["stops"] if s["point_id"] is not None]
        details = sheet.stop_details(conn, city, ids, case_scope(current_user))
        verifying = sheet.verify_details(
            conn,
            city,
            [s["case_id"] for s in plan["stops"] if s["point_id"] is None],
            case_scope(current_user),
        )
        point_names, case_names = sheet.category_names(conn, city, lang)
        osm_streets = basemap.streets_from_osm(conn, city)
        gcj02 = gcj02_grid(layers.city(conn, city))
    if plan["depot"] is None:  # sealed: the map shows the city, not the depot
        plan = {**plan, "depot": centre}
    m = build_route_map(
        plan,
        details,
        t,
        ZoneInfo(tz_name),
        arrive_url=url_for("plans.arrive", pid=pid, seq=0).replace("/0/", "/{seq}/"),
        report_url=url_for("reports.report_page"),
        csrf_token=generate_csrf(),
        tiles=lambda mm: base_tiles(mm, current_app.config["TILES"], osm_streets, gcj02),
        point_categories={**point_names, "verify": t("route.verify.kind")},
        verifying=verifying,
        case_categories=case_names,
        stylesheet=url_for("static", filename="round.css"),
        script=url_for("static", filename="round.js"),
    )
    links = [(t("nav.language"), "?lang=" + ("zh" if lang == "en" else "en"))]
    return map_page(m, t, lang, t("route.title", id=pid), links)
