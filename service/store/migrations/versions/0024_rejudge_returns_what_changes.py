"""the whole re-judging compares each case's judgement with its stored one inside the judging,
which returns only the cases that change

Revision ID: 0024
Revises: 0023
"""

import importlib.util
from pathlib import Path

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def _migration(filename: str):
    spec = importlib.util.spec_from_file_location(filename, Path(__file__).with_name(filename))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# violation_rejudge (0013) joined every case the judging returned back to the cases, to keep
# those whose judgement changed: a million rows kept by the judging's function scan, then a
# million probes of the cases' key, 2-4 s of a million cases' 18-21. With p_changed the
# judging's own last query makes that comparison (joined to the cases in the plan it is
# already running, in parallel) and returns only the cases that change: few, mostly none.
OLD_JUDGE_MANY = _migration("0023_judging_planned_on_counts.py").JUDGE_MANY
_CHANGES = {
    "CREATE OR REPLACE FUNCTION violation_judge_many(p_city integer, p_source text)": (
        "CREATE FUNCTION violation_judge_many(p_city integer, p_source text,\n"
        "                                     p_changed boolean DEFAULT false)"
    ),
    "-- observed_at timestamptz), k unique.\n": (
        "-- observed_at timestamptz), k unique. p_changed: k is a case of p_city, and only the\n"
        "-- cases whose judgement (the loop's decisions kept) differs from their stored one\n"
        "-- are returned.\n"
    ),
    "DECLARE\n": "DECLARE\n    q text;\n",
    "    RETURN QUERY EXECUTE format(\n"
    "        'SELECT s.k, cell.id, zn.id, zn.unit_id, vc.department_code, '\n": (
        "    q := format(\n"
        "        'SELECT s.k, cell.id AS grid_cell_id, zn.id AS zone_id, zn.unit_id, '\n"
        "        'vc.department_code, '\n"
    ),
    "        'ELSE vc.severity END, '\n"
    "        'vc.vending AND st.k IS NOT NULL, coalesce(np.near, ''[]''::jsonb), '\n": (
        "        'ELSE vc.severity END AS severity, '\n"
        "        'vc.vending AND st.k IS NOT NULL AS permitted, '\n"
        "        'coalesce(np.near, ''[]''::jsonb) AS near_points, '\n"
    ),
    "        'ELSE s.observed_at + make_interval(hours => vc.deadline_h) END '\n": (
        "        'ELSE s.observed_at + make_interval(hours => vc.deadline_h) END AS due_at '\n"
    ),
    "        t || '_src', t || '_cell', t || '_zone', t || '_near', t || '_stall')"
    " USING p_city;\n": (
        "        t || '_src', t || '_cell', t || '_zone', t || '_near', t || '_stall');\n"
        "    IF p_changed THEN\n"
        "        q := 'SELECT j.* FROM (' || q || ') j JOIN violation v ON v.city_id = $1 '\n"
        "            'AND v.id = j.k WHERE (v.grid_cell_id, v.zone_id, v.unit_id, '\n"
        "            'v.department_code, v.severity, v.permitted, v.near_points, v.due_at) '\n"
        "            'IS DISTINCT FROM (j.grid_cell_id, j.zone_id, '\n"
        "            'coalesce(v.unit_override, j.unit_id), j.department_code, j.severity, '\n"
        "            'j.permitted, j.near_points, coalesce(v.due_override, j.due_at))';\n"
        "    END IF;\n"
        "    RETURN QUERY EXECUTE q USING p_city;\n"
    ),
}
JUDGE_MANY = OLD_JUDGE_MANY
for _old, _new in _CHANGES.items():
    assert JUDGE_MANY.count(_old) == 1, _old
    JUDGE_MANY = JUDGE_MANY.replace(_old, _new)

# 0013's re-judging, written to replace the one in place (either way)
OLD_REJUDGE = _migration("0013_case_loop.py").REJUDGE.replace(
    "CREATE FUNCTION violation_rejudge(", "CREATE OR REPLACE FUNCTION violation_rejudge("
)
_SOURCE = "               'WHERE city_id = %s', p_city)) s\n"
assert OLD_REJUDGE.count(_SOURCE) == 1
REJUDGE = OLD_REJUDGE.replace(_SOURCE, "               'WHERE city_id = %s', p_city), true) s\n")


def upgrade() -> None:
    op.execute("DROP FUNCTION violation_judge_many(integer, text);\n" + JUDGE_MANY + REJUDGE)


def downgrade() -> None:
    op.execute(
        "DROP FUNCTION violation_judge_many(integer, text, boolean);\n"
        + OLD_JUDGE_MANY
        + OLD_REJUDGE
    )
