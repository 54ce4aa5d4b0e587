"""The audit log read back: who wrote what in a city, and when, newest first.

The log is written by the database's triggers (service/store/migrations); this reads it for
an admin, filtered by who wrote (name or id), the table and the day in the city's time zone.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, text

from service.errors import Problem, field_error
from service.layers.features.params import BIGINT_MAX, whole_number
from service.store.models import AUDITED_TABLES

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_USER_CHARS = 100
PARAMETERS = ("user", "table", "day", "limit")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DIGITS = re.compile(r"[0-9]{1,19}")


@dataclass(frozen=True)
class AuditFilter:
    user: str | None = None  # an actor's name, or its id in digits
    table: str | None = None
    day: dt.date | None = None  # in the city's time zone
    limit: int = DEFAULT_LIMIT


def parse_filter(args: Mapping[str, str], also: Collection[str] = ()) -> AuditFilter:
    """The filter from query parameters (an empty ``user`` is no filter); a Problem (400)
    names every parameter that is wrong or unknown. ``also``: parameters the caller takes
    itself."""
    errors = [
        field_error(k, f"unknown parameter; takes {', '.join(PARAMETERS)}")
        for k in sorted(set(args) - set(PARAMETERS) - set(also))
    ]
    limit = whole_number(args, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT, errors)
    user = args.get("user")
    if user is not None and len(user) > MAX_USER_CHARS:
        errors.append(field_error("user", f"at most {MAX_USER_CHARS} characters"))
    table = args.get("table")
    if table is not None and table not in AUDITED_TABLES:
        errors.append(field_error("table", f"one of {', '.join(AUDITED_TABLES)}"))
    day = None
    if "day" in args:
        try:
            if not _DAY.fullmatch(args["day"]):
                raise ValueError
            day = dt.date.fromisoformat(args["day"])
        except ValueError:
            errors.append(field_error("day", f"a date as YYYY-MM-DD, got {args['day']!r}"))
    if errors:
        raise Problem("Some query parameters are not understood.", status=400, errors=errors)
    return AuditFilter(user=(user or "").strip() or None, table=table, day=day, limit=limit)


def entries(conn: Connection, city_id: int, f: AuditFilter) -> list[dict]:
    """The city's audit entries that ``f`` selects, newest (last written) first, at most
    ``f.limit``: ``{id, at, actor_id, actor_name, action, table_name, row_key, old, new}``
    with ``at`` in the city's time zone."""
    tz = conn.execute(text("SELECT timezone FROM city WHERE id = :c"), {"c": city_id}).scalar()
    where, params = ["city_id = :c"], {"c": city_id, "n": f.limit, "tz": tz}
    if f.table:
        where.append("table_name = :table")
        params["table"] = f.table
    if f.user:
        by_id = _DIGITS.fullmatch(f.user) and int(f.user) <= BIGINT_MAX
        where.append("(actor_name = :user OR actor_id = :uid)" if by_id else "actor_name = :user")
        params.update(user=f.user, uid=int(f.user) if by_id else None)
    if f.day:
        # the day's bounds in the city's time zone (a day of a clock change is 23 or 25 h)
        where.append(
            "at >= CAST(:day AS timestamp) AT TIME ZONE :tz "
            "AND at < CAST(CAST(:day AS date) + 1 AS timestamp) AT TIME ZONE :tz"
        )
        params["day"] = f.day
    rows = conn.execute(
        text(
            "SELECT id, at, actor_id, actor_name, action, table_name, row_key, old, new "
            f"FROM audit_log WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT :n"
        ),
        params,
    )
    zone = ZoneInfo(tz)
    return [{**r._mapping, "at": r.at.astimezone(zone).isoformat()} for r in rows]
