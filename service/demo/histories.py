"""Histories for the demo's cases: each case's loop from its report to the state it is in,
so that the pages, the case popups and the loop's figures show something real from the
first start.

Written once, right after the demo's cases (their report, and their dispatch on arrival, come
from the database's trigger). Set-based: one statement per kind of step, each case's share of
chance drawn from a hash of its number (the same demo, the same histories):
- every case past dispatch was dispatched as it arrived, then accepted; a case found not
  valid was so a day after it was observed;
- 4 % were first disputed by their unit (a reason) and given back by the office;
- 6 % asked for three more days, which the office approved (the due date moves, and stands
  against the rules' deadline);
- every resolved or closed case was fixed at its resolved time; 15 % of the closed ones were
  fixed once before, failed verification (one rework) and fixed again;
- every closed case was verified by an inspector within two hours of its last fix.
Each step lies at its share of the time from the case's observation to its fix (or to now).
Unit steps carry the unit, not a person (the demo has no unit users of its own).
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from service.cases import tally

# a case's draw in [0, 1) for one purpose: stable, independent between purposes
_DRAW = "((hashtext(v.case_no || '{salt}') & 65535) / 65536.0)"
# the time from a case's observation to its fix (or to now): its steps are placed within it
_FIXED = "coalesce(v.resolved_at, now())"
_SPAN = f"greatest({_FIXED} - v.observed_at, interval '10 minutes')"


def _at(share: float) -> str:
    return f"v.observed_at + {_SPAN} * {share}"


PAST_DISPATCH = "('rectifying', 'resolved', 'closed')"

_EVENT = (
    "INSERT INTO case_event (city_id, violation_id, at, actor_id, action, from_status, "
    "to_status, comment, unit_id, data) "
)


def write_histories(conn: Connection, city_id: int, inspector_ids: list[int]) -> int:
    """Add the steps the demo's cases took (none may have any but their arrival's yet);
    return how many events were written."""
    inspector = (
        "(ARRAY[" + ",".join(str(int(i)) for i in inspector_ids) + "]::bigint[])"
        f"[1 + (hashtext(v.case_no) & 1023) % {max(len(inspector_ids), 1)}]"
        if inspector_ids
        else "NULL::bigint"
    )
    disputed = f"{_DRAW.format(salt='dispute')} < 0.04"
    extended = f"{_DRAW.format(salt='extend')} < 0.06"
    reworked = f"v.status = 'closed' AND {_DRAW.format(salt='rework')} < 0.15"
    mine = f"v.city_id = :c AND v.provenance = 'invented' AND v.status IN {PAST_DISPATCH}"
    steps = [
        # cases that went past dispatch were dispatched as they arrived
        _EVENT + "SELECT v.city_id, v.id, v.observed_at, NULL, 'dispatch', 'open', 'dispatched', "
        "'on arrival', v.unit_id, '{}'::jsonb FROM violation v WHERE v.city_id = :c AND "
        "v.provenance = 'invented' AND v.unit_id IS NOT NULL AND "
        "v.status IN ('rectifying', 'resolved', 'closed', 'invalid')",
        # a case found not valid, a day after it was observed
        _EVENT + "SELECT v.city_id, v.id, least(v.observed_at + interval '1 day', now()), NULL, "
        "'invalidate', "
        "CASE WHEN v.unit_id IS NULL THEN 'open' ELSE 'dispatched' END, 'invalid', "
        "'经核实不属实', v.unit_id, '{}'::jsonb FROM violation v WHERE v.city_id = :c AND "
        "v.provenance = 'invented' AND v.status = 'invalid'",
        # a dispute and the office's answer, in the first hour
        _EVENT + f"SELECT v.city_id, v.id, {_at(0.03)}, NULL, "
        "'dispute', 'dispatched', 'disputed', '不属于本单位管辖范围', v.unit_id, '{}'::jsonb "
        f"FROM violation v WHERE {mine} AND {disputed}",
        _EVENT + f"SELECT v.city_id, v.id, {_at(0.06)}, NULL, "
        "'reassign', 'disputed', 'dispatched', '经核实属于该单位，退回整改', v.unit_id, "
        "jsonb_build_object('unit', (SELECT code FROM unit WHERE id = v.unit_id)) "
        f"FROM violation v WHERE {mine} AND {disputed}",
        _EVENT + f"SELECT v.city_id, v.id, {_at(0.1)}, NULL, 'accept', "
        f"'dispatched', 'rectifying', NULL, v.unit_id, '{{}}'::jsonb FROM violation v WHERE {mine}",
        # more time asked and approved
        _EVENT + f"SELECT v.city_id, v.id, {_at(0.15)}, NULL, "
        "'extend_request', 'rectifying', 'rectifying', '需协调产权单位，申请延期三天', v.unit_id, "
        "jsonb_build_object('due_at', v.due_at + interval '3 days', 'requested', true) "
        f"FROM violation v WHERE {mine} AND {extended} AND v.due_at IS NOT NULL",
        _EVENT + f"SELECT v.city_id, v.id, {_at(0.2)}, NULL, "
        "'extend_decide', 'rectifying', 'rectifying', '同意', v.unit_id, "
        "jsonb_build_object('approved', true) "
        f"FROM violation v WHERE {mine} AND {extended} AND v.due_at IS NOT NULL",
        # a first fix that failed verification
        _EVENT + f"SELECT v.city_id, v.id, {_at(0.4)}, NULL, 'fix', "
        "'rectifying', 'resolved', '已整改', v.unit_id, '{}'::jsonb "
        f"FROM violation v WHERE {mine} AND {reworked}",
        _EVENT + f"SELECT v.city_id, v.id, {_at(0.6)}, {inspector}, "
        "'verify_fail', 'resolved', 'rectifying', '现场仍有残留，返工', v.unit_id, '{}'::jsonb "
        f"FROM violation v WHERE {mine} AND {reworked}",
        # the fix the case stands on, and its verification soon after (never after now)
        _EVENT + f"SELECT v.city_id, v.id, {_at(1.0)}, NULL, 'fix', 'rectifying', 'resolved', "
        "'已整改', v.unit_id, '{}'::jsonb FROM violation v WHERE "
        f"{mine} AND v.status IN ('resolved', 'closed')",
        _EVENT + f"SELECT v.city_id, v.id, least({_at(1.0)} + interval '2 hours', "
        f"greatest(now(), {_at(1.0)})), {inspector}, 'verify_pass', 'resolved', 'closed', NULL, "
        f"v.unit_id, '{{}}'::jsonb FROM violation v WHERE {mine} AND v.status = 'closed'",
    ]
    written = 0
    for sql in steps:
        written += conn.execute(text(sql), {"c": city_id}).rowcount
    # the case's row says what its history says
    conn.execute(
        text(
            "UPDATE violation v SET "
            "extension_count = (SELECT count(*) FROM case_event e WHERE e.city_id = v.city_id "
            "AND e.violation_id = v.id AND e.action = 'extend_decide' "
            "AND (e.data ->> 'approved')::boolean), "
            "due_override = CASE WHEN EXISTS (SELECT 1 FROM case_event e WHERE e.city_id = "
            "v.city_id AND e.violation_id = v.id AND e.action = 'extend_decide') "
            "THEN v.due_at + interval '3 days' END, "
            "closed_at = (SELECT max(e.at) FROM case_event e WHERE e.city_id = v.city_id AND "
            "e.violation_id = v.id AND e.action = 'verify_pass') "
            f"WHERE {mine}"
        ),
        {"c": city_id},
    )
    conn.execute(text(tally.RECOUNT.format(where=mine)), {"c": city_id})
    return written
