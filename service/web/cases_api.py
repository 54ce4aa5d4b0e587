"""The case's loop over HTTP (service/cases/loop.py): ``POST /api/cases/{id}/events`` takes a
step — multipart form data with photos, like ``/api/reports``, or JSON without — against the
ETag the caller read (``If-Match``); ``GET /api/cases/{id}/events`` is the case's history.
Both read the case within the reader's scope."""

from __future__ import annotations

import json

from flask import Blueprint, Response, request
from flask_login import current_user
from sqlalchemy import text

from service.accounts.scope import case_scope
from service.cases import loop
from service.errors import Problem, field_error
from service.store.db import reading, writing
from service.web.auth import actor
from service.web.inputs import form_number, json_body
from service.web.reports import forget_photos, store_photos

bp = Blueprint("cases", __name__)

FIELDS = ("action", "comment", "lon", "lat", "accuracy_m", "unit", "due_at", "approve")


@bp.post("/api/cases/<int:cid>/events")
def take_step(cid: int):
    """Take one step of the case's loop; 201 with the event and the case's new ETag."""
    if request.mimetype == "multipart/form-data":
        sent = {k: v for k, v in request.form.items() if k != "csrf_token"}
        files = request.files.getlist("photos")
        extra_files = [k for k in request.files if k != "photos"]
    else:
        body = json_body()
        if not isinstance(body, dict):
            raise Problem(
                "Send the step as a JSON object.", errors=[field_error("body", "an object")]
            )
        sent, files, extra_files = body, [], []
    errors = [
        field_error(k, "unknown field; a step takes " + ", ".join(FIELDS) + ", photos")
        for k in sent
        if k not in FIELDS
    ]
    errors += [field_error(k, "unknown file field; photos go in 'photos'") for k in extra_files]
    text_of = {}
    for k in ("action", "comment", "unit", "due_at", "approve"):
        v = sent.get(k)
        if v is not None and not isinstance(v, str | bool):
            errors.append(field_error(k, "should be text"))
        text_of[k] = v
    numbers = {
        k: form_number(errors, k, None if sent.get(k) is None else str(sent.get(k)), False)
        for k in ("lon", "lat", "accuracy_m")
    }
    approve = text_of["approve"]
    if isinstance(approve, str):
        approve = {"true": True, "false": False}.get(approve.lower(), approve)
    if approve is not None and not isinstance(approve, bool):
        errors.append(field_error("approve", "true or false"))
    if not text_of["action"]:
        errors.append(field_error("action", "missing"))
    if errors:
        raise Problem("The step cannot be taken.", status=422, errors=errors)
    loop.step_of(text_of["action"])
    refs, created = store_photos(files) if files else ([], [])
    step = loop.Act(
        action=text_of["action"],
        comment=text_of["comment"] or None,
        lon=numbers["lon"],
        lat=numbers["lat"],
        accuracy_m=numbers["accuracy_m"],
        photos=tuple(refs),
        unit=text_of["unit"] or None,
        due_at=text_of["due_at"] or None,
        approve=approve,
    )
    city = current_user.city_id
    try:
        with writing(actor()) as conn:
            event = loop.act(
                conn,
                city,
                cid,
                current_user,
                case_scope(current_user),
                request.headers.get("If-Match"),
                step,
            )
            version = conn.execute(
                text("SELECT version FROM violation WHERE city_id = :c AND id = :i"),
                {"c": city, "i": cid},
            ).scalar()
    except Exception:
        forget_photos(created)
        raise
    resp = Response(json.dumps(event, ensure_ascii=False), status=201, mimetype="application/json")
    resp.headers["ETag"] = f'"{cid}.{version}"'
    return resp


@bp.get("/api/cases/<int:cid>/events")
def case_history(cid: int):
    """The case's events, oldest first: who did what, when, with comments and photos."""
    if request.args:
        raise Problem(
            "Some query parameters are not understood.",
            errors=[field_error(k, "unknown parameter; takes none") for k in sorted(request.args)],
        )
    city = current_user.city_id
    with reading() as conn:
        case = loop.case_for(conn, city, cid, case_scope(current_user), lock=False)
        events = loop.history(conn, city, cid)
    resp = Response(
        json.dumps({"id": cid, "case_no": case["case_no"], "status": case["status"],
                    "events": events},
                   ensure_ascii=False),
        mimetype="application/json",
    )  # fmt: skip
    resp.headers["ETag"] = f'"{cid}.{case["version"]}"'
    return resp
