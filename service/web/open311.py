"""Open311 GeoReport v2 (``/open311/v2/``): the 12345 hotline, 数字城管 and citizen apps file
cases into the same loop and follow them (service/cases/open311.py says how a case reads).

Only client systems (role ``system``) and admins use these routes; a client system uses
nothing else. It authenticates with GeoReport's ``api_key`` parameter or the bearer header.
Errors here answer in GeoReport's format — a JSON array of ``{code, description}`` — with the
HTTP status the project would give, except that a refused value (422 elsewhere) is a 400 as
GeoReport clients expect. Only ``.json`` is served: ``.xml`` is a 404.
"""

from __future__ import annotations

import json
from http import HTTPStatus

from flask import Blueprint, Response, request
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from service.cases import open311
from service.errors import Forbidden, Problem, field_error
from service.layers.features import write
from service.layers.features.collections import VIOLATIONS
from service.store.db import reading, writing
from service.web.auth import actor
from service.web.i18n import request_language
from service.web.idempotency import idempotent
from service.web.inputs import form_number
from service.web.messages import detail_message, reason_message

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")

CLIENTS = ("system", "admin")
# what GeoReport lets a client send that chuangwen does not keep: the citizen's own
# particulars (kept by the client system, not here) and the client's bookkeeping
IGNORED = {
    "api_key", "jurisdiction_id", "email", "device_id", "account_id", "first_name",
    "last_name", "phone", "address_id",
}  # fmt: skip
FIELDS = {"service_code", "lat", "long", "description", "address_string", "source", "media_url"}
# a field of the case as GeoReport calls it
GEOREPORT_NAMES = {
    "properties.category": "service_code",
    "properties.description": "description",
    "properties.source": "source",
    "geometry": "lat",
    "geometry.coordinates": "lat",
}
ADDRESS_MAX = 500


def _errors(status: int, detail: str, errors: list[dict]) -> Response:
    lang = request_language()
    body = [{"code": status, "description": detail_message(detail, status, lang) or detail}]
    for e in errors:
        field = GEOREPORT_NAMES.get(e.get("field", ""), e.get("field", ""))
        body.append({"code": status, "description": f"{field}: {reason_message(e, lang)}"})
    resp = Response(
        json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json"
    )
    if status == HTTPStatus.UNAUTHORIZED:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="chuangwen"'
    return resp


@bp.errorhandler(Problem)
def _problem(exc: Problem) -> Response:
    status = 400 if exc.status == 422 else exc.status  # a refused value: GeoReport's 400
    return _errors(status, exc.detail, exc.errors)


@bp.errorhandler(HTTPException)
def _http(exc: HTTPException) -> Response:
    status = exc.code or 500
    resp = _errors(status, exc.description or HTTPStatus(status).phrase, [])
    for name, value in exc.get_headers(request.environ):
        if name.lower() != "content-type":
            resp.headers[name] = value
    return resp


def _client() -> int | None:
    """The cases the caller reads: a client system's own (its id), an admin's all (None)."""
    if current_user.role not in CLIENTS:
        raise Forbidden("Open311 is for client systems (role system) and admins.")
    return current_user.id if current_user.role == "system" else None


def _json(body, status: int = 200) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json"
    )


def _only(allowed: set[str]) -> None:
    unknown = sorted(k for k in request.args if k not in allowed | {"api_key", "jurisdiction_id"})
    if unknown:
        raise Problem(
            "Some query parameters are not understood.",
            errors=[field_error(k, "unknown parameter") for k in unknown],
        )


@bp.get("/services.json")
def service_list():
    """The city's violation categories as GeoReport services."""
    _client()
    _only(set())
    with reading() as conn:
        return _json(open311.services(conn, current_user.city_id))


@bp.get("/requests.json")
def request_list():
    """Service requests (cases) by GeoReport's filters."""
    reporter = _client()
    _only({"service_request_id", "service_code", "start_date", "end_date", "status"})
    with reading() as conn:
        found = open311.find_requests(
            conn, current_user.city_id, request.args.to_dict(), reporter, request.host_url
        )
    return _json(found)


@bp.get("/requests/<int:sid>.json")
def request_one(sid: int):
    """One service request, as a list of one (GeoReport's shape)."""
    reporter = _client()
    _only(set())
    with reading() as conn:
        found = open311.one_request(conn, current_user.city_id, sid, reporter, request.host_url)
    return _json([found])


@bp.post("/requests.json")
@idempotent
def request_create():
    """File a case: the same checks and rules as a report; dispatched on arrival when the
    rules find its owner. 201 with ``[{service_request_id, service_notice}]``."""
    _client()
    if request.mimetype not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise Problem(
            "Send the request as a form (application/x-www-form-urlencoded).",
            status=415,
            errors=[field_error("Content-Type", f"got {request.mimetype or 'none'}")],
        )
    form = request.form
    errors = []
    if form.get("media_url"):
        errors.append(
            field_error("media_url", "not fetched: this server makes no outside requests")
        )
    if request.files:
        errors.append(field_error("media", "photos are not taken over Open311"))
    lon = form_number(errors, "long", form.get("long"), True)
    lat = form_number(errors, "lat", form.get("lat"), True)
    if not form.get("service_code"):
        errors.append(field_error("service_code", "missing"))
    source = form.get("source") or "citizen"
    if source not in open311.SOURCES:
        errors.append(field_error("source", "one of " + ", ".join(open311.SOURCES)))
    address = (form.get("address_string") or "").strip() or None
    if address is not None and len(address) > ADDRESS_MAX:
        errors.append(field_error("address_string", f"at most {ADDRESS_MAX} characters"))
    if errors:
        raise Problem("The service request is not complete.", errors=errors)
    feature = {
        "type": "Feature",
        "properties": {
            "category": form["service_code"],
            "description": form.get("description") or None,
            "source": source,
            "photos": [],
        },
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
    }
    city = current_user.city_id
    with writing(actor()) as conn:
        incoming = write.validate_feature(conn, VIOLATIONS, city, feature, "wgs84", False)
        row = {**incoming.row, "address": address}
        fid = write.insert(conn, VIOLATIONS, city, row, current_user.id)
        case = open311.one_request(conn, city, fid, None, request.host_url)
    answer = [{"service_request_id": str(fid), "service_notice": case["service_notice"],
               "account_id": None}]  # fmt: skip
    resp = _json(answer, 201)
    resp.headers["Location"] = f"/open311/v2/requests/{fid}.json"
    return resp
