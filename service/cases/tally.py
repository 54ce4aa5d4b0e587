"""The loop's tally kept on each case, so that the figures (service/cases/kpis.py) read one row
per case and no events: when the case was first fixed, how many disputes and passed
verifications it has (failed ones are ``rework_count``), the unit those were counted to and
whether they went to more than one unit (then the figures read that case's events).

``loop.act`` keeps the tally with each step (``TALLY_SET``, part of its one UPDATE);
``RECOUNT`` computes it again from the events, for cases whose events were written in bulk
(the demo city's histories, the benchmark's).
"""

from __future__ import annotations

# the events that count to a unit: their ``case_event.unit_id`` is the owner at the time
COUNTED = ("dispute", "verify_pass", "verify_fail")

# SET clauses for a step ``:act`` taken for unit ``:u`` (the unit the event is written with)
TALLY_SET = """
first_fix_at = CASE WHEN CAST(:act AS varchar) = 'fix' THEN coalesce(first_fix_at, now())
               ELSE first_fix_at END,
disputes = disputes + (CAST(:act AS varchar) = 'dispute')::int,
verify_passes = verify_passes + (CAST(:act AS varchar) = 'verify_pass')::int,
tally_unit = CASE WHEN CAST(:act AS varchar) IN ('dispute', 'verify_pass', 'verify_fail')
             THEN coalesce(tally_unit, CAST(:u AS bigint)) ELSE tally_unit END,
tally_mixed = tally_mixed OR (CAST(:act AS varchar) IN ('dispute', 'verify_pass', 'verify_fail')
              AND tally_unit IS DISTINCT FROM CAST(:u AS bigint) AND tally_unit IS NOT NULL)
"""

# the tally of the cases ``v`` matched by ``{where}``, from their events
RECOUNT = """
UPDATE violation v SET
    first_fix_at = t.first_fix_at,
    rework_count = t.fails,
    disputes = t.disputes,
    verify_passes = t.passes,
    tally_unit = t.tally_unit,
    tally_mixed = t.units > 1
  FROM (
    SELECT e.city_id, e.violation_id,
           min(e.at) FILTER (WHERE e.action = 'fix') AS first_fix_at,
           count(*) FILTER (WHERE e.action = 'verify_fail') AS fails,
           count(*) FILTER (WHERE e.action = 'dispute') AS disputes,
           count(*) FILTER (WHERE e.action = 'verify_pass') AS passes,
           min(e.unit_id) FILTER (WHERE e.action IN ('dispute', 'verify_pass', 'verify_fail'))
               AS tally_unit,
           count(DISTINCT e.unit_id) FILTER (
               WHERE e.action IN ('dispute', 'verify_pass', 'verify_fail')) AS units
      FROM case_event e JOIN violation v ON v.city_id = e.city_id AND v.id = e.violation_id
     WHERE {where}
     GROUP BY 1, 2
  ) t
 WHERE v.city_id = t.city_id AND v.id = t.violation_id
"""
