"""The category catalogues over HTTP: everyone reads, only admins edit.

A catalogue row has no version column, so its ETag is a digest of the row itself: an edit must
send the ETag it read, and a row someone else changed meanwhile gets 412.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, request
from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import text

from service.errors import NotFound, Problem, field_error, validated
from service.store.db import reading, writing
from service.web.auth import actor, require_role
from service.web.inputs import json_body

bp = Blueprint("catalogues", __name__, url_prefix="/api/catalogues")


class ViolationCategoryPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name_zh: str | None = Field(default=None, min_length=1, max_length=100)
    name_en: str | None = Field(default=None, min_length=1, max_length=100)
    department_code: str | None = Field(default=None, min_length=1, max_length=32)
    severity: int | None = Field(default=None, ge=1, le=5)
    severity_near_point: int | None = Field(default=None, ge=1, le=6)
    deadline_h: int | None = Field(default=None, gt=0, le=24 * 365)
    vending: bool | None = None


class PointCategoryPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name_zh: str | None = Field(default=None, min_length=1, max_length=100)
    name_en: str | None = Field(default=None, min_length=1, max_length=100)
    default_radius_m: int | None = Field(default=None, gt=0, le=5000)
    default_weight: float | None = Field(default=None, gt=0, le=100)
    dwell_s: int | None = Field(default=None, gt=0, le=86_400)
    checklist: list[str] | None = None
    color: str | None = Field(default=None, pattern=r"^#[0-9a-fA-F]{6}$")
    # how near a public-service ad should be in sight of the category's points
    ad_sight_m: int | None = Field(default=None, gt=0, le=500)


CATALOGUES = {
    "violation-categories": ("violation_category", ViolationCategoryPatch),
    "assessment-point-categories": ("assessment_point_category", PointCategoryPatch),
}


def _catalogue(name: str):
    if name not in CATALOGUES:
        raise NotFound(
            f"No catalogue {name!r}.",
            errors=[field_error("catalogue", f"one of {', '.join(CATALOGUES)}")],
        )
    return CATALOGUES[name]


def _rows(conn, table: str, code: str | None = None, lock: bool = False) -> list[dict]:
    """Rows with their ETags; ``lock`` holds the row until the transaction ends, so two
    edits sent with the same ETag are compared and written one after the other."""
    where = "city_id = :c" + (" AND code = :k" if code else "")
    sql = (
        f"SELECT to_jsonb(t) - 'city_id' AS row, md5((to_jsonb(t))::text) AS etag "
        f"FROM {table} t WHERE {where} ORDER BY code" + (" FOR UPDATE" if lock else "")
    )
    return [
        {**r.row, "_etag": r.etag}
        for r in conn.execute(text(sql), {"c": current_user.city_id, "k": code})
    ]


@bp.get("/<name>")
def list_catalogue(name: str) -> Response:
    table, _ = _catalogue(name)
    with reading() as conn:
        rows = _rows(conn, table)
    for r in rows:
        r.pop("_etag")
    return Response(
        json.dumps({"items": rows}, ensure_ascii=False, default=str), mimetype="application/json"
    )


@bp.patch("/<name>/<code>")
@require_role("admin")
def edit(name: str, code: str) -> Response:
    table, model = _catalogue(name)
    change = validated(model, json_body(), "The change is not valid.")
    values = change.model_dump(exclude_unset=True)
    if not values:
        raise Problem("Nothing to change.", status=422, errors=[field_error("body", "empty")])
    if_match = (request.headers.get("If-Match") or "").strip('"')
    if not if_match:
        raise Problem(
            "Send If-Match with the ETag you read.",
            status=428,
            errors=[field_error("If-Match", "missing")],
        )
    with writing(actor()) as conn:
        current = _rows(conn, table, code, lock=True)
        if not current:
            raise NotFound(f"No {code!r} in {name}.")
        if current[0]["_etag"] != if_match:
            raise Problem(
                "Someone else changed this row since you read it; nothing was written.",
                status=412,
                errors=[field_error("If-Match", "stale")],
            )
        sets = ", ".join(
            f"{k} = CAST(:{k} AS jsonb)" if k == "checklist" else f"{k} = :{k}" for k in values
        )
        params = {**values, "c": current_user.city_id, "k": code}
        if "checklist" in values:
            params["checklist"] = json.dumps(values["checklist"], ensure_ascii=False)
        if (
            "department_code" in values
            and not conn.execute(
                text("SELECT 1 FROM unit WHERE city_id = :c AND code = :d"),
                {"c": current_user.city_id, "d": values["department_code"]},
            ).first()
        ):
            raise Problem(
                "Unknown department.",
                status=422,
                errors=[field_error("department_code", "no unit with this code in the city")],
            )
        conn.execute(text(f"UPDATE {table} SET {sets} WHERE city_id = :c AND code = :k"), params)
        row = _rows(conn, table, code)[0]
    etag = row.pop("_etag")
    resp = Response(json.dumps(row, ensure_ascii=False, default=str), mimetype="application/json")
    resp.headers["ETag"] = f'"{etag}"'
    return resp


@bp.get("/<name>/<code>")
def one(name: str, code: str) -> Response:
    table, _ = _catalogue(name)
    with reading() as conn:
        rows = _rows(conn, table, code)
    if not rows:
        raise NotFound(f"No {code!r} in {name}.")
    etag = rows[0].pop("_etag")
    resp = Response(
        json.dumps(rows[0], ensure_ascii=False, default=str), mimetype="application/json"
    )
    resp.headers["ETag"] = f'"{etag}"'
    return resp
