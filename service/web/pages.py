"""HTML pages: the planner's map, sign-in, attribution."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from sqlalchemy import text
from sqlalchemy.exc import InterfaceError, OperationalError
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from gis.chinacrs import gcj02_offset_grid
from maps.assets import VENDOR
from maps.page import add_page_chrome
from maps.planner import BUILT_IN_TILES, PlannerLayers, build_planner_map
from maps.style import STATUS_COLORS, unit_color
from maps.tools import PlannerTools
from service.accounts.scope import case_scope
from service.accounts.users import authenticate, list_users
from service.cases import loop
from service.errors import RETRY_AFTER_S, Problem, field_error
from service.layers import basemap
from service.layers import reads as layers
from service.layers.features.collections import WRITERS_CASES, WRITERS_LAYERS
from service.rounds import inspections
from service.store.db import get_engine, reading
from service.store.models import CASE_ACTIONS, TRAVEL_MODES, VIOLATION_SOURCES, ZONE_KINDS
from service.web.auth import sign_in, sign_out, throttle
from service.web.headers import csp_nonce
from service.web.i18n import COOKIE, current_language, translator
from service.web.ogc import landing

bp = Blueprint("pages", __name__)


@bp.after_app_request
def _remember_language(resp: Response) -> Response:
    lang = request.args.get("lang")
    if lang and lang == current_language():
        resp.set_cookie(COOKIE, lang, max_age=365 * 86400, samesite="Lax")
    return resp


@bp.get("/favicon.ico")
def favicon():
    return redirect(url_for("static", filename="favicon.svg"), code=301)


@bp.get("/health")
def health():
    """Whether the server runs and the database answers; ``?ready`` is 503 while it does
    not (for a load balancer), plain ``/health`` stays 200 (the process is alive)."""
    from service.layers.tiles import WARM

    unknown = set(request.args) - {"ready"}
    if unknown:
        raise Problem(
            "Some query parameters are not understood.",
            status=400,
            errors=[field_error(k, "unknown parameter; takes ready") for k in sorted(unknown)],
        )
    database = "ok"
    try:
        with get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
    except (OperationalError, InterfaceError):
        database = "unavailable"
    body = {"status": "ok", "database": database, "tile_warm_rounds": WARM["rounds"]}
    resp = jsonify(body)
    if "ready" in request.args and database != "ok":
        resp.status_code = 503
        resp.headers["Retry-After"] = str(RETRY_AFTER_S)
    return resp


def _wants_json() -> bool:
    if request.args.get("f") == "json":
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


@bp.get("/")
def planner_map():
    """The planner's map for a browser; the OGC API landing page for a program."""
    if _wants_json():
        return landing()
    lang = current_language()
    t = translator(lang)
    scope = case_scope(current_user)  # a unit's users see their own cases only
    with reading() as conn:
        tiled = _tiled(conn, current_user.city_id)
        city, data = _planner_layers(conn, current_user.city_id, lang)
        picks = layers.pick_lists(conn, current_user.city_id, scope)
        osm_streets = basemap.streets_from_osm(conn, current_user.city_id)
    tile_url = url_for("tiles.tile", layer="violations", z=0, x=0, y=0).replace(
        "/0/0/0.pbf", "/{z}/{x}/{y}.pbf"
    )
    layer_url = url_for("map_layers.layer", layer="areas").replace("/areas", "/")
    m = build_planner_map(
        data,
        t,
        lang=lang,
        tiles=current_app.config["TILES"],
        attribution_url=url_for("pages.attribution"),
        violation_tiles=tile_url if tiled else None,
        violation_items=layer_url + "violations",
        layer_url=lambda name: layer_url + name,
        cell_tiles=tile_url.replace("/violations/", "/grid_cells/"),
        streets_from_osm=osm_streets,
        gcj02=gcj02_grid(city),
        case_history=_case_history(t, picks),
    )
    m.add_child(PlannerTools(_tools_config(t, lang, city, picks, m.layer_names, tiled, tile_url)))
    links = [
        (t("nav.language"), "?lang=" + ("zh" if lang == "en" else "en")),
        (t("nav.attribution"), url_for("pages.attribution")),
    ]
    if current_user.role in ("admin", *WRITERS_CASES):
        links.insert(0, (t("nav.report"), url_for("reports.report_page")))
    if current_user.role in ("admin", "inspector", "leader"):
        links.insert(0, (t("nav.rounds"), url_for("plans.rounds_page")))
    if current_user.role in ("inspector", "planner", "leader", "admin"):  # loop.VERIFIERS
        links.insert(0, (t("tasks.verify_link"), url_for("tasks.verify_page")))
    if current_user.role == "unit":
        links.insert(0, (t("tasks.title"), url_for("tasks.tasks_page")))
    if current_user.role == "admin":
        links[:0] = [
            (t("admin.nav.city"), url_for("admin.city_page")),
            (t("admin.nav.users"), url_for("admin.users_page")),
            (t("admin.nav.audit"), url_for("admin.audit_page")),
        ]
    title = t(
        "app.city_map", city=city["name"] if lang == "zh" else city["name_en"] or city["name"]
    )
    return map_page(m, t, lang, title, links)


def gcj02_grid(city: dict) -> dict | None:
    """With CHUANGWEN_TILES_GCJ02 and a tile URL: the offsets that move its tiles onto the
    city's WGS-84 layers (None otherwise)."""
    if not current_app.config["TILES_GCJ02"] or current_app.config["TILES"] in BUILT_IN_TILES:
        return None
    return gcj02_offset_grid((city["minx"], city["miny"], city["maxx"], city["maxy"]))


def map_page(m, t, lang: str, title: str, links: list[tuple[str, str]]) -> Response:
    """A folium map as the signed-in user's page: title bar, links, sign-out, stylesheet."""
    add_page_chrome(
        m,
        title=title,
        user=current_user.display_name or current_user.name,
        links=links,
        logout=(t("nav.logout"), url_for("pages.logout")),
        stylesheet=url_for("static", filename="chuangwen.css"),
        icon=url_for("static", filename="favicon.svg"),
        csrf_token=generate_csrf(),
        lang=lang,
        nonce=csp_nonce(),
    )
    return Response(m.get_root().render(), mimetype="text/html")


def _tools_config(t, lang, city, picks, layer_names, tiled, tile_url) -> dict:
    """What planner.js needs: URLs, forms, pick lists, labels, the layers' JS names."""
    name = "name_en" if lang == "en" else "name_zh"
    units = [(u["code"], f"{u['code']} {u['name']}") for u in picks["units"]]
    persons = [
        (p["id"], f"{p['name']}（{p['title'] or ''} {p['unit']}）") for p in picks["persons"]
    ]
    vcats = [(c["code"], c[name] or c["name_zh"]) for c in picks["violation_categories"]]

    def field(key, kind="text", label=None, **more):
        return {"name": key, "type": kind, "label": t(label or f"field.{key}"), **more}

    forms = {
        "zones": [
            field("code", required=True),
            field("name", required=True),
            field(
                "kind", "select", required=True, options=[(k, t(f"kind.{k}")) for k in ZONE_KINDS]
            ),
            field("unit", "select", required=True, options=units),
            field("first_person_id", "select", "field.first_person", options=persons, numeric=True),
            field(
                "direct_person_id", "select", "field.direct_person", options=persons, numeric=True
            ),
            field(
                "area_code",
                "select",
                "field.area",
                options=[(a["code"], f"{a['code']} {a['name']}") for a in picks["areas"]],
            ),
            field("valid_from", "datetime"),
            field("valid_to", "datetime"),
        ],
        "assessment_points": [
            field("code", required=True),
            field("name", required=True),
            field(
                "category",
                "select",
                required=True,
                options=[(c["code"], c[name] or c["name_zh"]) for c in picks["point_categories"]],
            ),
            field("address"),
            field("weight", "number"),
            field("radius_m", "number"),
            field("active", "checkbox"),
        ],
        "stall_areas": [
            field("code", required=True),
            field("name", required=True),
            field("opens_at", "time", required=True),
            field("closes_at", "time", required=True),
            field("allowed_categories", "multi", "field.allowed", required=True, options=vcats),
            field("unit", "select", options=units),
        ],
        "ad_sites": [
            field("code", required=True),
            field("name"),
            field("content"),
            field("facing_deg", "number"),
            field("width_m", "number"),
            field("height_m", "number"),
            field("last_checked", "date"),
            field("unit", "select", options=units),
        ],
        "grid_cells": [
            field("code", required=True),
            field(
                "community_code",
                "select",
                "layer.communities",
                required=True,
                options=[
                    (a["code"], f"{a['code']} {a['name']}")
                    for a in picks["areas"]
                    if a["level"] == "community"
                ],
            ),
            field("size_m", "number", default=100),
            field("row", "number", default=0),
            field("col", "number", default=0),
        ],
    }
    can_edit = current_user.role in ("admin", *WRITERS_LAYERS)
    can_plan = current_user.role in inspections.PLANNERS
    offset = dt.datetime.now(ZoneInfo(city["timezone"])).utcoffset()
    return {
        "csrf": generate_csrf(),
        "canEdit": can_edit,
        "lang": lang,
        "utcOffsetMinutes": int(offset.total_seconds() // 60) if offset else 0,
        "urls": {
            "collections": url_for("ogc.collections"),
            "zoneClean": url_for("api.zone_clean"),
            "zoneCheck": url_for("api.zone_check_view"),
            "problems": url_for("api.problem_points"),
            "nearby": url_for("api.nearby", point_id=0).replace("/0/", "/{id}/"),
            "search": url_for("api.search_view"),
        },
        "forms": forms if can_edit else {},
        "layers": layer_names,
        "violations": {
            "mode": "tiles" if tiled else "features",
            "layer": (layer_names.get("violations") or [None])[0],
            "tiles": tile_url,
        },
        "filters": {
            "status": [(s, t(f"status.{s}")) for s in STATUS_COLORS],
            "category": vcats,
            "unit": units,
        },
        "categoryNames": dict(vcats),
        "pointColors": {c["code"]: c["color"] for c in picks["point_categories"]},
        "canPlan": can_plan,
        "planning": _planning(t, city, picks) if can_plan else None,
        "msg": {k: t(k) for k in ui_messages()},
    }


def _case_history(t, picks: dict) -> dict:
    """What a case's popup needs for its history and the steps the reader may take there
    (those needing photos from the place are the phone pages')."""
    role = current_user.role
    steps = {
        action: {
            "before": list(step.before),
            "comment": step.comment,
            "unit": step.unit,
            "due": step.due,
            "approve": step.approve,
        }
        for action, step in loop.STEPS.items()
        if role in step.roles and not step.photo_near
    }
    return {
        "url": url_for("cases.case_history", cid=0).replace("/0/", "/{id}/"),
        "post": url_for("cases.take_step", cid=0).replace("/0/", "/{id}/") if steps else None,
        "steps": steps,
        "actions": {a: t(f"action.{a}") for a in CASE_ACTIONS},
        "units": [(u["code"], f"{u['code']} {u['name']}") for u in picks["units"]],
        "csrf": generate_csrf(),
    }


def _planning(t, city: dict, picks: dict) -> dict:
    """What the map's form for a new round offers: the team (the city's active inspectors),
    the ways of travel, the areas a round may keep to, tomorrow in the city's time."""
    with reading() as conn:
        team = [
            (u["id"], u["display_name"] or u["name"])
            for u in list_users(conn, current_user.city_id)
            if u["role"] == "inspector" and u["active"]
        ]
    tomorrow = dt.datetime.now(ZoneInfo(city["timezone"])).date() + dt.timedelta(days=1)
    return {
        "url": url_for("plans.create_plan"),
        "coverage": url_for("plans.inspection_coverage"),
        "round": url_for("plans.route_page", pid=0).replace("/0", "/{id}"),
        "team": team,
        "modes": [(m, t(f"mode.{m}")) for m in TRAVEL_MODES],
        "areas": [
            (a["code"], f"{a['code']} {a['name']}")
            for a in picks["areas"]
            if a["level"] in ("street", "community")
        ],
        "tomorrow": tomorrow.isoformat(),
    }


def ui_messages() -> list[str]:
    """The catalogue keys the page's scripts use."""
    from service.web.i18n import catalogue

    prefixes = ("ui.", "layer.", "status.", "check.", "field.", "mode.")
    return [k for k in catalogue("zh") if k.startswith(prefixes)]


def _more_than(conn, table: str, city_id: int, n: int) -> bool:
    return bool(
        conn.execute(
            text(
                f"SELECT count(*) > :n FROM (SELECT 1 FROM {table} WHERE city_id = :c "
                "LIMIT :n + 1) s"
            ),
            {"c": city_id, "n": n},
        ).scalar()
    )


def _tiled(conn, city_id: int) -> bool:
    """Whether the map draws the cases from vector tiles: asked with ``?violations=tiles`` or
    ``=features``, else when the city has more than CHUANGWEN_EMBED_MAX cases."""
    asked = request.args.get("violations")
    if asked in ("tiles", "features"):
        return asked == "tiles"
    return _more_than(conn, "violation", city_id, current_app.config["EMBED_MAX"])


def _planner_layers(conn, city_id: int, lang: str) -> tuple[dict, PlannerLayers]:
    """What the map page says of its layers (the features are asked for by the page): the
    layers asked for whole — at most CHUANGWEN_EMBED_FEATURES features of zones, points and
    stall areas in all, the smallest layers first — and the catalogues naming their codes."""
    city = layers.city(conn, city_id)
    budget = current_app.config["EMBED_FEATURES"]
    tables = {
        "stall_areas": "stall_area",
        "ad_sites": "ad_site",
        "zones": "zone",
        "assessment_points": "assessment_point",
    }
    sizes = {
        name: conn.execute(
            text(f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE city_id = :c LIMIT :n) s"),
            {"c": city_id, "n": budget + 1},
        ).scalar()
        for name, table in tables.items()
    }
    whole, used = {}, 0
    for name in sorted(tables, key=sizes.get):
        used += sizes[name]
        whole[name] = used <= budget
    units = conn.execute(text("SELECT id, code FROM unit WHERE city_id = :c"), {"c": city_id})
    key = "name_en" if lang == "en" else "name_zh"
    offset = dt.datetime.now(ZoneInfo(city["timezone"])).utcoffset()
    data = PlannerLayers(
        bounds=(city["minx"], city["miny"], city["maxx"], city["maxy"]),
        point_categories=layers.assessment_point_categories(conn, city_id),
        violation_categories={
            c["code"]: c[key] or c["name_zh"] for c in layers.violation_categories(conn, city_id)
        },
        unit_colors={u.code: unit_color(u.id) for u in units},
        zone_kinds=ZONE_KINDS,
        sources=VIOLATION_SOURCES,
        whole=whole,
        utc_offset_minutes=int(offset.total_seconds() // 60) if offset else 0,
    )
    return city, data


class LoginForm(FlaskForm):
    username = StringField(validators=[DataRequired(), Length(max=64)])
    password = PasswordField(validators=[DataRequired(), Length(max=256)])


@bp.route("/login", methods=["GET", "POST"])
def login():
    lang = current_language()
    t = translator(lang)
    form = LoginForm()
    failed = wait_s = False
    if form.validate_on_submit():
        name, address = form.username.data, request.remote_addr or ""
        wait_s = throttle.wait_s(name, address, current_app.config)
        if not wait_s:
            with reading() as conn:
                user = authenticate(conn, name, form.password.data)
            if user is not None:
                throttle.succeeded(name)
                sign_in(user)
                return redirect(_safe_next(request.args.get("next"), _landing(user.role)))
            throttle.failed(name, address)
            current_app.logger.warning("sign-in failed: user %r from %s", name, address)
            failed = True
        else:
            current_app.logger.warning(
                "sign-in refused for %ss: user %r from %s", wait_s, name, address
            )
    status = 429 if wait_s else 401 if failed else 200
    other = "zh" if lang == "en" else "en"
    resp = make_response(
        render_template(
            "login.html", form=form, t=t, failed=failed, wait_s=wait_s, other_lang=other
        ),
        status,
    )
    if wait_s:
        resp.headers["Retry-After"] = str(wait_s)
    return resp


@bp.post("/logout")
def logout():
    sign_out()
    return redirect(url_for("pages.login"))


@bp.get("/attribution")
def attribution():
    t = translator(current_language())
    return render_template("attribution.html", t=t, vendor=VENDOR)


def _landing(role: str) -> str:
    """Where a sign-in lands without a ``next``: inspectors and leaders on their rounds, a
    unit's users on their cases to fix, everyone else on the map."""
    if role == "unit":
        return url_for("tasks.tasks_page")
    return url_for("plans.rounds_page" if role in ("inspector", "leader") else "pages.planner_map")


def _safe_next(target: str | None, landing: str | None = None) -> str:
    """Only same-site paths: an open redirect would hand sign-ins to another host."""
    landing = landing or url_for("pages.planner_map")
    if not target:
        return landing
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return landing
    return target
