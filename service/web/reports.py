"""Reporting from a phone: the inspector's page, the report endpoint and the photos.

``POST /api/reports`` takes a multipart form (``category``, ``description``, ``lon``,
``lat``, ``accuracy_m``, ``crs``, ``observed_at``, up to ``MAX_PHOTOS`` files in
``photos``) and files the case through the same checks and rules as the features API; the
answer is the case as the rules left it: its owner, deadline and near points.

Photos are kept outside the database under ``HOME/photos``, named by the SHA-256 of their
bytes (the same photo sent twice is kept once), and the case holds their references
(``/photos/<sha256>.<ext>``). Only whole JPEG, PNG and WebP images are taken, each at most
``MAX_PHOTO_BYTES``, checked by :mod:`service.cases.photos`. A photo is served only to someone
who may see a case that refers to it: the original to staff, a copy without EXIF (no GPS
position) to everyone else.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, request, send_file
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import text

from service.accounts.scope import and_where, case_scope, scope_params
from service.cases import photos
from service.cases.photos import MAX_PHOTO_BYTES, MAX_PHOTOS
from service.cases.receipt import receipt
from service.errors import Forbidden, NotFound, Problem, field_error
from service.layers.features import read, write
from service.layers.features.collections import VIOLATIONS, WRITERS_CASES
from service.layers.reads import violation_categories
from service.store.db import reading, writing
from service.web.auth import actor
from service.web.i18n import catalogue, current_language, translator
from service.web.idempotency import idempotent
from service.web.inputs import form_number

bp = Blueprint("reports", __name__)

_NAME = re.compile(r"^([0-9a-f]{64})\.(jpg|png|webp)$")
_FIELDS = {"category", "description", "lon", "lat", "accuracy_m", "crs", "observed_at"}


def photo_dir() -> Path:
    return Path(current_app.config["HOME"]) / "photos"


def _may_report() -> None:
    if current_user.role != "admin" and current_user.role not in WRITERS_CASES:
        raise Forbidden(f"Reporting needs one of the roles: {', '.join(WRITERS_CASES)}.")


@bp.get("/report")
def report_page():
    """The inspector's page: a form that fits a phone."""
    _may_report()
    lang = current_language()
    t = translator(lang)
    with reading() as conn:
        categories = violation_categories(conn, current_user.city_id)
    key = "name_en" if lang == "en" else "name_zh"
    return render_template(
        "report.html",
        t=t,
        lang=lang,
        other_lang="zh" if lang == "en" else "en",
        categories=[(c["code"], c[key] or c["name_zh"]) for c in categories],
        csrf_token=generate_csrf(),
        limits={"photos": MAX_PHOTOS, "mb": MAX_PHOTO_BYTES // (1024 * 1024)},
        messages={k: t(k) for k in catalogue("zh") if k.startswith(("report.", "field."))},
    )


def store_photos(files) -> tuple[list[str], list[Path]]:
    """Check every photo first, then keep them; returns the references and the files this
    call created (removed again if the case is not written)."""
    sent = [(f.filename, f.stream.read(MAX_PHOTO_BYTES + 1)) for f in files[:MAX_PHOTOS]]
    return photos.keep(photo_dir(), photos.check(sent, len(files)))


@bp.post("/api/reports")
@idempotent
def create_report():
    """File a case from the phone page (multipart form); 201 with the case as judged."""
    _may_report()
    if request.mimetype != "multipart/form-data":
        raise Problem(
            "Send the report as multipart/form-data.",
            status=415,
            errors=[field_error("Content-Type", f"got {request.mimetype or 'none'}")],
        )
    form = request.form
    errors = [
        field_error(k, f"unknown field; a report takes {', '.join(sorted(_FIELDS))}, photos")
        for k in form
        if k not in _FIELDS and k != "csrf_token"
    ]
    errors += [
        field_error(k, "unknown file field; photos go in 'photos'")
        for k in request.files
        if k != "photos"
    ]
    lon = form_number(errors, "lon", form.get("lon"), True)
    lat = form_number(errors, "lat", form.get("lat"), True)
    accuracy = form_number(errors, "accuracy_m", form.get("accuracy_m"), False)
    crs = form.get("crs", "wgs84").lower()
    if crs not in ("wgs84", "gcj02"):
        errors.append(field_error("crs", "wgs84 (the phone's own position) or gcj02"))
    if errors:
        raise Problem("The report is not complete.", status=422, errors=errors)
    props = {
        "category": form.get("category", ""),
        "description": form.get("description") or None,
        "source": "inspection",
        "location_accuracy_m": accuracy,
    }
    if form.get("observed_at"):
        props["observed_at"] = form["observed_at"]
    refs, created = store_photos(request.files.getlist("photos"))
    props["photos"] = refs
    feature = {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
    }
    city = current_user.city_id
    try:
        with writing(actor()) as conn:
            incoming = write.validate_feature(conn, VIOLATIONS, city, feature, crs, False)
            fid = write.insert(conn, VIOLATIONS, city, incoming.row, current_user.id)
            body, version = read.one(conn, VIOLATIONS, city, fid)
            told = receipt(conn, city, fid, current_language())
    except Exception:
        forget_photos(created)
        raise
    case = json.loads(body)
    case["notes"] = incoming.notes
    case["receipt"] = told
    resp = Response(
        json.dumps(case, ensure_ascii=False), status=201, mimetype="application/geo+json"
    )
    resp.headers["ETag"] = f'"{fid}.{version}"'
    resp.headers["Location"] = f"/collections/violations/items/{fid}"
    return resp


def forget_photos(created: list[Path]) -> None:
    """A photo only a failed report or step brought is not kept (unless a case or a step
    now refers to it)."""
    with reading() as conn:
        for path in created:
            ref = json.dumps([f"/photos/{path.name}"])
            if (
                conn.execute(
                    text(
                        "SELECT 1 FROM violation WHERE photos @> CAST(:r AS jsonb) UNION ALL "
                        "SELECT 1 FROM case_event WHERE photos @> CAST(:r AS jsonb) LIMIT 1"
                    ),
                    {"r": ref},
                ).first()
                is None
            ):
                photos.discard(path)


@bp.get("/photos/<name>")
def photo(name: str):
    """A photo of a case the caller may see."""
    m = _NAME.match(name)
    if not m:
        raise NotFound("No such photo.")
    scope = case_scope(current_user)
    params = {"c": current_user.city_id, "ref": json.dumps([f"/photos/{name}"])}
    params |= scope_params(scope)
    with reading() as conn:
        # a case's own photos, or those of a step of its loop (an after-photo)
        seen = conn.execute(
            text(
                "SELECT 1 FROM violation WHERE city_id = :c "
                f"AND photos @> CAST(:ref AS jsonb){and_where(scope, 'unit_id')} "
                "UNION ALL SELECT 1 FROM case_event e JOIN violation v ON v.city_id = e.city_id "
                "AND v.id = e.violation_id WHERE e.city_id = :c AND e.photos @> CAST(:ref AS "
                f"jsonb){and_where(scope, 'v.unit_id')} LIMIT 1"
            ),
            params,
        ).first()
    path = photo_dir() / m.group(1)[:2] / name
    if seen is None or not path.exists():
        raise NotFound("No such photo.")
    if current_user.role not in photos.STAFF:
        path = photos.stripped_copy(path)  # no GPS position for a unit's users
    resp = send_file(path, mimetype=photos.MEDIA[m.group(2)], max_age=86400)
    resp.headers["Cache-Control"] = "private, max-age=86400, immutable"
    resp.headers["Vary"] = "Authorization, Cookie"  # the same URL is another file by role
    resp.headers.update(photos.HEADERS)
    return resp
