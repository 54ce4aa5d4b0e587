"""The case's loop (形成清单、限时整改、核查销号): who may do what to a case, from which state,
and what it takes — the one table the API, the pages and the README read.

Every step is a ``case_event`` row (who, when, from, to, comment, photos, where the phone
was) written in the same transaction as the case's new state, counters and due date, after
checking the version the caller read (``If-Match``): two people cannot act on one version.
A unit's users reach only their own unit's cases (``case_scope``: another's is not found);
the office (planners, leaders, admins) decides disputes and extensions; a fix is verified by
someone who is not a unit's user, so no unit closes its own case.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, text

from service.accounts.scope import CaseScope, and_where, scope_params
from service.cases import tally
from service.errors import Forbidden, NotFound, Problem, field_error

FIX_WITHIN_M = 50  # an after-photo is taken this close to the case
COMMENT_MAX = 2000

OFFICE = ("planner", "leader", "admin")  # the campaign office: dispatches and decides
UNIT = ("unit",)
VERIFIERS = ("inspector", "planner", "leader", "admin")  # never a unit's user


@dataclass(frozen=True)
class Step:
    """An action: the states it starts from, the state it leads to (None: the same), who may
    take it, and what it needs."""

    before: tuple[str, ...]
    after: str | None
    roles: tuple[str, ...]
    comment: bool = False  # a reason or a note is required
    photo_near: bool = False  # at least one photo, taken within FIX_WITHIN_M of the case
    due: bool = False  # a new due date (due_at)
    unit: bool = False  # a unit's code (reassign)
    approve: bool = False  # a decision, true or false (extend_decide)


STEPS: dict[str, Step] = {
    "dispatch": Step(("open",), "dispatched", OFFICE),
    "accept": Step(("dispatched",), "rectifying", UNIT),
    "start": Step(("dispatched", "hung"), "rectifying", (*UNIT, *OFFICE)),
    "fix": Step(("dispatched", "rectifying"), "resolved", UNIT, photo_near=True),
    "verify_pass": Step(("resolved",), "closed", VERIFIERS),
    "verify_fail": Step(("resolved",), "rectifying", VERIFIERS, comment=True),
    "invalidate": Step(
        ("open", "dispatched", "rectifying", "disputed"), "invalid", OFFICE, comment=True
    ),  # fmt: skip
    "dispute": Step(("dispatched", "rectifying"), "disputed", UNIT, comment=True),
    "reassign": Step(
        ("open", "dispatched", "rectifying", "disputed"), "dispatched", OFFICE, unit=True
    ),  # fmt: skip
    "extend_request": Step(("dispatched", "rectifying"), None, UNIT, comment=True, due=True),
    "extend_decide": Step(("dispatched", "rectifying"), None, OFFICE, approve=True),
    "hang": Step(
        ("dispatched", "rectifying"), "hung", ("leader", "admin"), comment=True, due=True
    ),  # fmt: skip
}


@dataclass(frozen=True)
class Act:
    """What the caller sent: the action and its fields (already checked as values)."""

    action: str
    comment: str | None = None
    lon: float | None = None
    lat: float | None = None
    accuracy_m: float | None = None
    photos: tuple[str, ...] = ()  # references of photos already kept
    unit: str | None = None
    due_at: str | None = None
    approve: bool | None = None


def step_of(action: str) -> Step:
    if action not in STEPS:
        raise Problem(
            "The action is not known.",
            status=422,
            errors=[field_error("action", "one of " + ", ".join(STEPS))],
        )
    return STEPS[action]


def case_for(
    conn: Connection, city: int, case_id: int, scope: CaseScope | None, lock: bool = True
) -> dict:
    """The case as the reader may see it (locked for a step); another unit's is not found."""
    row = conn.execute(
        text(
            "SELECT v.id, v.case_no, v.status, v.version, v.unit_id, v.due_at, "
            "v.rework_count, v.extension_count, c.timezone FROM violation v "
            "JOIN city c ON c.id = v.city_id "
            f"WHERE v.city_id = :c AND v.id = :i{and_where(scope, 'v.unit_id')}"
            + (" FOR UPDATE OF v" if lock else "")
        ),
        {"c": city, "i": case_id, **scope_params(scope)},
    ).first()
    if row is None:
        raise NotFound(f"There is no case {case_id}.")
    return dict(row._mapping)


def act(
    conn: Connection,
    city: int,
    case_id: int,
    user,
    scope: CaseScope | None,
    if_match: str | None,
    request: Act,
) -> dict:
    """Take ``request`` on the case for ``user`` (anything with id, role, unit_id), in the
    caller's transaction; the event written, as ``history`` shows it."""
    step = step_of(request.action)
    case = case_for(conn, city, case_id, scope)
    if user.role not in step.roles:
        raise Forbidden(
            f"A {user.role} may not {request.action} a case.",
            errors=[field_error("action", "who may: " + ", ".join(step.roles))],
        )
    _check_version(case, if_match)
    if case["status"] not in step.before:
        raise Problem(
            f"The step {request.action} cannot be taken on a case that is {case['status']}.",
            status=409,
            errors=[field_error("action", "the case should be " + " or ".join(step.before))],
        )
    errors = _missing(step, request)
    data: dict = {}
    unit_id = case["unit_id"]
    due_at = case["due_at"]
    tz = ZoneInfo(case["timezone"])
    if step.due and request.due_at:
        try:
            due_at = _due(request.due_at, tz)
            data["due_at"] = due_at.isoformat()
        except ValueError:
            errors.append(field_error("due_at", "a day (YYYY-MM-DD) or a time with its zone"))
    if step.unit and request.unit:
        unit_id = conn.execute(
            text("SELECT id FROM unit WHERE city_id = :c AND code = :u"),
            {"c": city, "u": request.unit},
        ).scalar()
        if unit_id is None:
            errors.append(field_error("unit", f"no unit {request.unit!r} in this city"))
        data["unit"] = request.unit
    if step.photo_near and request.lon is not None and request.lat is not None:
        away = conn.execute(
            text(
                "SELECT ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(:x, :y), 4326)"
                "::geography) FROM violation WHERE city_id = :c AND id = :i"
            ),
            {"x": request.lon, "y": request.lat, "c": city, "i": case_id},
        ).scalar()
        if away > FIX_WITHIN_M:
            errors.append(
                field_error(
                    "lon",
                    f"the photos were taken {away:.0f} m from the case; at most {FIX_WITHIN_M} m",
                )  # fmt: skip
            )
    if request.action == "dispatch" and case["unit_id"] is None:
        errors.append(field_error("unit", "the case has no owner: reassign it to a unit"))
    if errors:
        raise Problem("The step cannot be taken.", status=422, errors=errors)
    after = step.after or case["status"]
    counters = {"rework_count": case["rework_count"], "extension_count": case["extension_count"]}
    if request.action == "verify_fail":
        counters["rework_count"] += 1
    if request.action == "extend_request":
        data["requested"] = True
        due_at = case["due_at"]  # moved only when the office approves
    if request.action == "extend_decide":
        asked = _pending_extension(conn, city, case_id)
        if asked is None:
            raise Problem(
                "No extension is asked for on this case.",
                status=409,
                errors=[field_error("action", "a unit asks first (extend_request)")],
            )
        data["approved"] = bool(request.approve)
        if request.approve:
            due_at = dt.datetime.fromisoformat(asked)
            counters["extension_count"] += 1
    # a due date the office approved or a leader set stands against the rules' deadline
    decided_due = request.action == "hang" or (
        request.action == "extend_decide" and bool(request.approve)
    )
    conn.execute(
        text(
            "UPDATE violation SET status = CAST(:s AS varchar), unit_id = :u, due_at = :d, "
            "version = version + 1, rework_count = :rw, extension_count = :ex, "
            "unit_override = coalesce(CAST(:uo AS bigint), unit_override), "
            "due_override = coalesce(CAST(:do AS timestamptz), due_override), "
            "resolved_at = CASE WHEN CAST(:s AS varchar) = 'resolved' THEN now() "
            "ELSE resolved_at END, closed_at = CASE WHEN CAST(:s AS varchar) IN ('closed', "
            "'invalid') THEN now() ELSE NULL END, " + tally.TALLY_SET + " "
            "WHERE city_id = :c AND id = :i"
        ),
        {
            "act": request.action,
            "s": after,
            "u": unit_id,
            "d": due_at,
            "uo": unit_id if request.action == "reassign" else None,
            "do": due_at if decided_due else None,
            "rw": counters["rework_count"],
            "ex": counters["extension_count"],
            "c": city,
            "i": case_id,
        },
    )
    event_id = conn.execute(
        text(
            "INSERT INTO case_event (city_id, violation_id, actor_id, action, from_status, "
            "to_status, comment, photos, geom, accuracy_m, unit_id, data) VALUES (:c, :i, :a, "
            ":act, :f, :t, :cm, CAST(:ph AS jsonb), CASE WHEN CAST(:x AS float8) IS NULL THEN "
            "NULL ELSE ST_SetSRID(ST_MakePoint(:x, :y), 4326) END, :acc, :u, "
            "CAST(:data AS jsonb)) "
            "RETURNING id"
        ),
        {
            "c": city,
            "i": case_id,
            "a": user.id,
            "act": request.action,
            "f": case["status"],
            "t": after,
            "cm": request.comment,
            "ph": json.dumps(list(request.photos)),
            "x": request.lon,
            "y": request.lat,
            "acc": request.accuracy_m,
            "u": unit_id,
            "data": json.dumps(data),
        },
    ).scalar()
    return next(e for e in history(conn, city, case_id) if e["id"] == event_id)


def _check_version(case: dict, if_match: str | None) -> None:
    current = f'"{case["id"]}.{case["version"]}"'
    if not if_match:
        raise Problem(
            "Send If-Match with the case's ETag, so that no one acts on a changed case.",
            status=428,
            errors=[field_error("If-Match", f"the case's ETag, now {current}")],
        )
    if current not in [t.strip() for t in if_match.split(",")] and if_match.strip() != "*":
        raise Problem(
            "The case has changed since it was read.",
            status=412,
            errors=[field_error("If-Match", f"the case's ETag is now {current}")],
        )


def _missing(step: Step, request: Act) -> list[dict]:
    errors = []
    if step.comment and not (request.comment or "").strip():
        errors.append(field_error("comment", "a reason is required for this step"))
    if request.comment and len(request.comment) > COMMENT_MAX:
        errors.append(field_error("comment", f"at most {COMMENT_MAX} characters"))
    if step.photo_near:
        if not request.photos:
            errors.append(field_error("photos", "at least one photo of the fixed place"))
        if request.lon is None or request.lat is None:
            errors.append(field_error("lon", "where the photos were taken (lon and lat)"))
    if step.due and not request.due_at:
        errors.append(field_error("due_at", "the new due date"))
    if step.unit and not request.unit:
        errors.append(field_error("unit", "the unit to give the case to"))
    if step.approve and request.approve is None:
        errors.append(field_error("approve", "true or false"))
    return errors


def _due(value: str, tz: ZoneInfo) -> dt.datetime:
    """A day (the end of it in the city's time) or a time with its zone."""
    if len(value) == 10:
        day = dt.date.fromisoformat(value)
        return dt.datetime.combine(day, dt.time(23, 59), tz)
    when = dt.datetime.fromisoformat(value)
    if when.tzinfo is None:
        raise ValueError("no zone")
    return when


def _pending_extension(conn: Connection, city: int, case_id: int) -> str | None:
    """The due date the last unanswered extension request asks for."""
    rows = conn.execute(
        text(
            "SELECT action, data FROM case_event WHERE city_id = :c AND violation_id = :i "
            "AND action IN ('extend_request', 'extend_decide') ORDER BY at DESC, id DESC LIMIT 1"
        ),
        {"c": city, "i": case_id},
    ).first()
    if rows is None or rows.action != "extend_request":
        return None
    return rows.data.get("due_at")


def history(conn: Connection, city: int, case_id: int) -> list[dict]:
    """The case's events, oldest first, with who took them by name."""
    rows = conn.execute(
        text(
            "SELECT e.id, e.at, e.action, e.from_status, e.to_status, e.comment, e.photos, "
            "ST_X(e.geom) AS lon, ST_Y(e.geom) AS lat, e.accuracy_m, e.data, "
            "coalesce(a.display_name, a.name) AS actor, u.code AS unit, u.name AS unit_name "
            "FROM case_event e LEFT JOIN app_user a ON a.city_id = e.city_id AND a.id = e.actor_id "
            "LEFT JOIN unit u ON u.city_id = e.city_id AND u.id = e.unit_id "
            "WHERE e.city_id = :c AND e.violation_id = :i ORDER BY e.at, e.id"
        ),
        {"c": city, "i": case_id},
    )
    out = []
    for r in rows:
        event = dict(r._mapping)
        event["at"] = event["at"].isoformat()
        out.append(event)
    return out
