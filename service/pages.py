"""HTML pages: the planner's map, sign-in, attribution."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from sqlalchemy import text
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from maps.assets import VENDOR
from maps.page import add_page_chrome
from maps.planner import PlannerLayers, build_planner_map
from service import layers
from service.db import reading
from service.i18n import COOKIE, current_language, translator
from service.ogc import landing
from service.users import authenticate

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
    return jsonify(status="ok")


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
    with reading() as conn:
        tiled = _tiled(conn, current_user.city_id)
        city, data = _planner_layers(conn, current_user.city_id, with_violations=not tiled)
    m = build_planner_map(
        data,
        t,
        lang=lang,
        tiles=current_app.config["TILES"],
        attribution_url=url_for("pages.attribution"),
        violation_tiles=url_for("tiles.tile", layer="violations", z=0, x=0, y=0).replace(
            "/0/0/0.pbf", "/{z}/{x}/{y}.pbf"
        )
        if tiled
        else None,
        violation_items=url_for("ogc.items", cid="violations"),
    )
    add_page_chrome(
        m,
        title=t(
            "app.city_map", city=city["name"] if lang == "zh" else city["name_en"] or city["name"]
        ),
        user=current_user.display_name or current_user.name,
        links=[
            (t("nav.language"), "?lang=" + ("zh" if lang == "en" else "en")),
            (t("nav.attribution"), url_for("pages.attribution")),
        ],
        logout=(t("nav.logout"), url_for("pages.logout")),
        stylesheet=url_for("static", filename="chuangwen.css"),
        icon=url_for("static", filename="favicon.svg"),
        csrf_token=generate_csrf(),
        lang=lang,
    )
    return Response(m.get_root().render(), mimetype="text/html")


def _tiled(conn, city_id: int) -> bool:
    """Whether the map draws the cases from vector tiles: asked with ``?violations=tiles`` or
    ``=features``, else when the city has more than CHUANGWEN_EMBED_MAX cases."""
    asked = request.args.get("violations")
    if asked in ("tiles", "features"):
        return asked == "tiles"
    limit = current_app.config["EMBED_MAX"]
    more = conn.execute(
        text(
            "SELECT count(*) > :n FROM (SELECT 1 FROM violation WHERE city_id = :c LIMIT :n + 1) s"
        ),
        {"c": city_id, "n": limit},
    ).scalar()
    return bool(more)


def _planner_layers(conn, city_id: int, with_violations: bool = True) -> tuple[dict, PlannerLayers]:
    city = layers.city(conn, city_id)
    data = PlannerLayers(
        areas=layers.admin_areas(conn, city_id),
        grid_cells=layers.grid_cells(conn, city_id),
        zones=layers.zones(conn, city_id),
        points=layers.assessment_points(conn, city_id),
        stalls=layers.stall_areas(conn, city_id),
        violations=layers.violations(conn, city_id) if with_violations else None,
        point_categories=layers.assessment_point_categories(conn, city_id),
        bounds=(city["minx"], city["miny"], city["maxx"], city["maxy"]),
        crs_epsg=city["crs_epsg"],
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
    failed = False
    if form.validate_on_submit():
        with reading() as conn:
            user = authenticate(conn, form.username.data, form.password.data)
        if user is not None:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        failed = True
    status = 401 if failed else 200
    other = "zh" if lang == "en" else "en"
    return render_template("login.html", form=form, t=t, failed=failed, other_lang=other), status


@bp.post("/logout")
def logout():
    logout_user()
    return redirect(url_for("pages.login"))


@bp.get("/attribution")
def attribution():
    t = translator(current_language())
    return render_template("attribution.html", t=t, vendor=VENDOR)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: an open redirect would hand sign-ins to another host."""
    if not target:
        return url_for("pages.planner_map")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("pages.planner_map")
    return target
