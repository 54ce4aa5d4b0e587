"""Open311 GeoReport v2 over the case's loop: the city's violation categories as services, a
case as a service request, the case's states as GeoReport's two (open, closed).

Framework-free: the HTTP side is service/web/open311.py. A client system (role ``system``)
reads the cases it filed; an admin reads every case of the city.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, text

from service.errors import NotFound, Problem, field_error

# GeoReport's status from the case's state: done (verified, or found not to be a case) is
# closed; everything still in the loop is open
CLOSED_STATES = ("closed", "invalid")
OPEN_STATES = ("open", "dispatched", "rectifying", "resolved", "disputed", "hung")
STATE_NOTES = {
    "open": "新发现，待立案",
    "dispatched": "已立案派遣",
    "rectifying": "整改中",
    "resolved": "已整改，待核查",
    "closed": "已核查结案",
    "invalid": "经核实不属实",
    "disputed": "责任单位有异议，待重新派遣",
    "hung": "挂账整改",
}
# who the client system files for (violation.source); citizen when it does not say
SOURCES = ("citizen", "hotline", "digital_city")
MAX_REQUESTS = 1000
DEFAULT_DAYS = 90


def services(conn: Connection, city: int) -> list[dict]:
    """The city's violation categories as GeoReport services."""
    rows = conn.execute(
        text(
            "SELECT code, name_zh, name_en, group_code, deadline_h, department_code "
            "FROM violation_category WHERE city_id = :c ORDER BY group_code, code"
        ),
        {"c": city},
    )
    return [
        {
            "service_code": r.code,
            "service_name": r.name_zh,
            "description": f"{r.name_zh}（{r.name_en}）：限 {r.deadline_h} 小时内整改",
            "metadata": False,
            "type": "realtime",
            "keywords": ",".join(k for k in (r.name_zh, r.name_en, r.code) if k),
            "group": r.group_code,
        }
        for r in rows
    ]


def _stamp(value: dt.datetime | None, zone: ZoneInfo) -> str | None:
    return None if value is None else value.astimezone(zone).isoformat(timespec="seconds")


_SELECT = (
    "SELECT v.id, v.case_no, v.status, v.category_code, k.name_zh AS service_name, "
    "v.description, v.address, v.created_at, v.due_at, v.photos, ST_X(v.geom) AS lon, "
    "ST_Y(v.geom) AS lat, u.name AS agency, c.timezone, last.at AS last_at, "
    "last.comment AS last_comment, last.to_status AS last_status "
    "FROM violation v JOIN city c ON c.id = v.city_id "
    "JOIN violation_category k ON k.city_id = v.city_id AND k.code = v.category_code "
    "LEFT JOIN unit u ON u.city_id = v.city_id AND u.id = v.unit_id "
    "LEFT JOIN LATERAL (SELECT e.at, e.comment, e.to_status FROM case_event e "
    "WHERE e.city_id = v.city_id AND e.violation_id = v.id ORDER BY e.at DESC, e.id DESC "
    "LIMIT 1) last ON true "
)


def _request(r, base_url: str) -> dict:
    zone = ZoneInfo(r.timezone)
    notes = STATE_NOTES.get(r.last_status or r.status, r.status)
    if r.last_comment:
        notes = f"{notes}：{r.last_comment}"
    return {
        "service_request_id": str(r.id),
        "status": "closed" if r.status in CLOSED_STATES else "open",
        "status_notes": notes,
        "service_name": r.service_name,
        "service_code": r.category_code,
        "description": r.description,
        "agency_responsible": r.agency,
        "service_notice": f"案件编号 {r.case_no}",
        "requested_datetime": _stamp(r.created_at, zone),
        "updated_datetime": _stamp(r.last_at or r.created_at, zone),
        "expected_datetime": _stamp(r.due_at, zone),
        "address": r.address,
        "address_id": None,
        "zipcode": None,
        "lat": r.lat,
        "long": r.lon,
        "media_url": (base_url.rstrip("/") + r.photos[0]) if r.photos else None,
    }


def _who(reporter: int | None) -> tuple[str, dict]:
    """A client system reads the cases it filed; None (an admin): the whole city."""
    if reporter is None:
        return "", {}
    return " AND v.reported_by = :reporter", {"reporter": reporter}


def one_request(
    conn: Connection, city: int, case_id: int, reporter: int | None, base_url: str
) -> dict:
    where, params = _who(reporter)
    row = conn.execute(
        text(_SELECT + f"WHERE v.city_id = :c AND v.id = :i{where}"),
        {"c": city, "i": case_id, **params},
    ).first()
    if row is None:
        raise NotFound(f"There is no service request {case_id}.")
    return _request(row, base_url)


def _when(name: str, raw: str, errors: list) -> dt.datetime | None:
    try:
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        errors.append(field_error(name, "a date and time in ISO 8601, with its zone"))
        return None
    if value.tzinfo is None:
        errors.append(field_error(name, "a date and time in ISO 8601, with its zone"))
        return None
    return value


def find_requests(
    conn: Connection, city: int, args: dict[str, str], reporter: int | None, base_url: str
) -> list[dict]:
    """Requests by GeoReport's filters: ``service_request_id`` (a comma-separated list: the
    others are then ignored, as GeoReport says), ``service_code`` (a list too), ``start_date``,
    ``end_date`` (on requested_datetime; without either, the last 90 days), ``status`` (open,
    closed or both). Newest first, at most 1,000."""
    errors: list = []
    where, params = _who(reporter)
    sql = _SELECT + f"WHERE v.city_id = :c{where}"
    params["c"] = city
    if args.get("service_request_id"):
        ids = []
        for part in args["service_request_id"].split(","):
            part = part.strip()
            if not (part.isascii() and part.isdigit() and len(part) <= 18):
                errors.append(field_error("service_request_id", "case ids, comma-separated"))
                break
            ids.append(int(part))
        if errors:
            raise Problem("Some query parameters are not understood.", errors=errors)
        return [
            _request(r, base_url)
            for r in conn.execute(
                text(sql + " AND v.id = ANY(:ids) ORDER BY v.created_at DESC, v.id DESC"),
                {**params, "ids": ids[:MAX_REQUESTS]},
            )
        ]
    if args.get("service_code"):
        sql += " AND v.category_code = ANY(:codes)"
        params["codes"] = [s.strip() for s in args["service_code"].split(",")]
    start = _when("start_date", args["start_date"], errors) if args.get("start_date") else None
    end = _when("end_date", args["end_date"], errors) if args.get("end_date") else None
    if start is None and end is None and not errors:
        start = dt.datetime.now(dt.UTC) - dt.timedelta(days=DEFAULT_DAYS)
    if start is not None:
        sql += " AND v.created_at >= :start"
        params["start"] = start
    if end is not None:
        sql += " AND v.created_at <= :end"
        params["end"] = end
    if args.get("status"):
        wanted = {s.strip() for s in args["status"].split(",")}
        if not wanted <= {"open", "closed"}:
            errors.append(field_error("status", "open, closed or both, comma-separated"))
        states = [
            *(OPEN_STATES if "open" in wanted else ()),
            *(CLOSED_STATES if "closed" in wanted else ()),
        ]
        sql += " AND v.status = ANY(:states)"
        params["states"] = states
    if errors:
        raise Problem("Some query parameters are not understood.", errors=errors)
    sql += f" ORDER BY v.created_at DESC, v.id DESC LIMIT {MAX_REQUESTS}"
    return [_request(r, base_url) for r in conn.execute(text(sql), params)]
