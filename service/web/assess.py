"""Mock assessments over HTTP (service/assessments/): the sheets (``GET`` for assessors,
``PUT`` a new version for admins), an assessor's scores at a point (``POST
/api/assessments``, multipart form data like ``/api/reports``: ``point``, ``score.<item>``
for every item, and for each deduction ``lon.<item>``, ``lat.<item>``, ``accuracy_m.<item>``
and files ``photos.<item>``), the phone page ``/assess/<point>``, and the lost points
(``GET /api/lost-points`` and ``.xlsx``, ``from``/``to``/``level`` = unit, department or
zone; a unit's users their own, within ``case_scope``)."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import text

from service.accounts.scope import case_scope
from service.assessments import lost, scoring, sheets
from service.cases.photos import MAX_PHOTO_BYTES, MAX_PHOTOS
from service.errors import NotFound, Problem, field_error
from service.store.db import reading, writing
from service.web.auth import actor, require_role
from service.web.downloads import XLSX, attachment
from service.web.i18n import catalogue, current_language, translator
from service.web.idempotency import idempotent
from service.web.inputs import form_number, json_body
from service.web.kpis_api import parse
from service.web.reports import forget_photos, store_photos

bp = Blueprint("assess", __name__)

ASSESSORS = ("inspector", "planner", "leader")  # and admins, who pass every require_role
READERS = ("planner", "leader", "unit")


@bp.get("/api/assessment-sheets/<category>")
@require_role(*ASSESSORS)
def sheet(category: str):
    """The latest version of a point category's sheet."""
    with reading() as conn:
        return jsonify(sheets.current(conn, current_user.city_id, category))


@bp.put("/api/assessment-sheets/<category>")
@require_role("admin")
def edit_sheet(category: str):
    """A new version of a sheet (``{"items": [...]}``); scores keep the version they used."""
    body = json_body()
    with writing(actor()) as conn:
        return jsonify(sheets.edit(conn, current_user.city_id, category, body, current_user.id))


def _form() -> tuple[str, dict, dict, list]:
    """The point, the scores and the deductions' places from the form (photos not yet
    kept); every field-level problem collected."""
    form = request.form
    errors = []
    given: dict[str, float | None] = {}
    seen: dict[str, scoring.Deduction] = {}
    for key in form:
        kind, _, item = key.partition(".")
        if key in ("point", "csrf_token"):
            continue
        if kind == "score" and item:
            given[item] = form_number(errors, key, form[key], True)
        elif kind in ("lon", "lat", "accuracy_m") and item:
            d = seen.setdefault(item, scoring.Deduction())
            setattr(d, kind, form_number(errors, key, form[key], False))
        else:
            errors.append(
                field_error(key, "unknown field; takes point, score.*, lon.*, lat.*, accuracy_m.*")
            )
    errors += [
        field_error(k, "unknown file field; photos go in photos.<item>")
        for k in request.files
        if not k.startswith("photos.")
    ]
    point = form.get("point", "")
    if not point:
        errors.append(field_error("point", "missing"))
    return point, given, seen, errors


@bp.post("/api/assessments")
@require_role(*ASSESSORS)
@idempotent
def create_assessment():
    """Score a point; each deduction filed as a case; 201 with the assessment."""
    if request.mimetype != "multipart/form-data":
        raise Problem(
            "Send the assessment as multipart/form-data.",
            status=415,
            errors=[field_error("Content-Type", f"got {request.mimetype or 'none'}")],
        )
    point, given, seen, errors = _form()
    if errors:
        raise Problem("The assessment is not complete.", status=422, errors=errors)
    created = []
    try:
        for key in request.files:
            item = key.partition(".")[2]
            try:
                refs, made = store_photos(request.files.getlist(key))
            except Problem as exc:  # name the item's field: photos[1] → photos.<item>[1]
                for e in exc.errors:
                    e["field"] = e["field"].replace("photos", key, 1)
                raise
            created += made
            seen.setdefault(item, scoring.Deduction()).photos = refs
        with writing(actor()) as conn:
            done = scoring.score(conn, current_user.city_id, current_user.id, point, given, seen)
    except Exception:
        forget_photos(created)
        raise
    return jsonify(done), 201


@bp.get("/assess/<point>")
@require_role(*ASSESSORS)
def assess_page(point: str):
    """The assessor's phone form at a point: each item of its sheet, a deduction's photo and
    place taken on the phone."""
    lang = current_language()
    t = translator(lang)
    with reading() as conn:
        row = conn.execute(
            text(
                "SELECT p.code, p.name, p.category_code, k.name_zh, k.name_en, p.radius_m "
                "FROM assessment_point p JOIN assessment_point_category k ON k.city_id = "
                "p.city_id AND k.code = p.category_code WHERE p.city_id = :c AND p.code = :p "
                "AND p.active"
            ),
            {"c": current_user.city_id, "p": point},
        ).first()
        if row is None:
            raise NotFound(f"No active assessment point {point!r}.")
        sheet_now = sheets.current(conn, current_user.city_id, row.category_code)
    return render_template(
        "assess.html",
        t=t,
        lang=lang,
        other_lang="zh" if lang == "en" else "en",
        point=row,
        category=(row.name_en or row.name_zh) if lang == "en" else row.name_zh,
        sheet=sheet_now,
        csrf_token=generate_csrf(),
        post_url=url_for("assess.create_assessment"),
        limits={"photos": MAX_PHOTOS, "mb": MAX_PHOTO_BYTES // (1024 * 1024)},
        messages={k: t(k) for k in catalogue("zh") if k.startswith(("assess.", "field."))},
    )


def _lost() -> dict:
    start, end, level = parse(request.args, lost.LEVELS)
    with reading() as conn:
        return lost.lost_points(
            conn, current_user.city_id, start, end, level, case_scope(current_user)
        )


@bp.get("/api/lost-points")
@require_role(*READERS)
def lost_points():
    """The points lost in mock assessments per unit, department or zone, and the gaps."""
    return jsonify(_lost())


@bp.get("/api/lost-points.xlsx")
@require_role(*READERS)
def lost_points_xlsx():
    """The same table as a spreadsheet with Chinese headers."""
    result = _lost()
    name = f"lost-points-{result['level']}-{result['from']}-{result['to']}.xlsx"
    return attachment(lost.xlsx(result), XLSX, name)
