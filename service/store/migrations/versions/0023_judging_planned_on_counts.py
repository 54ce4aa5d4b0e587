"""the judging's last join planned on the row counts of its scratch tables; a first import's
bins written without looking for stored ones

Revision ID: 0023
Revises: 0022
"""

import importlib.util
from pathlib import Path

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def _migration(filename: str):
    spec = importlib.util.spec_from_file_location(filename, Path(__file__).with_name(filename))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# violation_judge_many (0006) gathers statistics on its copy of the cases, not on the tables
# its joins make (each case's cell, zone, near points and stall area). Without them the last
# query, which joins the four to the cases, guesses their sizes and builds its hash tables on
# the cases side, a million wide rows at each of four joins, on one core. Counted, it builds
# them on the narrow tables, in parallel: 5.2 → 3.6 s of a million cases' judging.
_CASES_BY_CITY = _migration("0022_cases_by_city.py")
_PART = _CASES_BY_CITY._part
OLD_JUDGE_MANY = _PART(
    _migration("0006_set_based_judgement.py").JUDGE_MANY,
    "CREATE FUNCTION violation_judge_many(",
    "DROP FUNCTION violation_rejudge(integer);",
)
_LAST = "    RETURN QUERY EXECUTE format(\n"
assert OLD_JUDGE_MANY.count(_LAST) == 1
JUDGE_MANY = OLD_JUDGE_MANY.replace(
    _LAST,
    "    EXECUTE format('ANALYZE %I, %I, %I, %I', t || '_cell', t || '_zone', t || '_near',\n"
    "                   t || '_stall');\n" + _LAST,
)


# A city's first import (service/layers/partitions.py) counts its cases into bins its city
# does not have: written without ON CONFLICT, whose look-up before each of the 394,000 bins of
# a million cases costs 1.2 s.
_BINS = _CASES_BY_CITY.BINS
OLD_BINS = _PART(
    _BINS,
    "CREATE FUNCTION violation_bins_sql(",
    "CREATE OR REPLACE FUNCTION violation_bins_apply()",
) + _PART(_BINS, "CREATE FUNCTION violation_bins_add(")
_MERGED = (
    "        ON CONFLICT (city_id, bx, by, status, category_code)\n"
    "        DO UPDATE SET n = b.n + excluded.n)\n"
)
_CHANGES = {
    "violation_bins_sql(p_cases text)": "violation_bins_sql(p_cases text, "
    "p_fresh boolean DEFAULT false)",
    "violation_bins_add(p_cases text)": "violation_bins_add(p_cases text, "
    "p_fresh boolean DEFAULT false)",
    "its cases change.\n": "its cases change.\n-- p_fresh: the cases' city has no bin yet (a "
    "city's first import): they are written\n-- without looking for one.\n",
    _MERGED: "        %s)\n",
    "    $q$, p_cases)": "    $q$, p_cases, CASE WHEN p_fresh THEN '' ELSE "
    "'ON CONFLICT (city_id, bx, by, status, category_code) "
    "DO UPDATE SET n = b.n + excluded.n' END)",
    "'SELECT city_id, status, category_code, geom_3857, 1 AS d FROM %I', p_cases));": "'SELECT "
    "city_id, status, category_code, geom_3857, 1 AS d FROM %I', p_cases), p_fresh);",
}
BINS = OLD_BINS
for old, new in _CHANGES.items():
    assert BINS.count(old) == 1, old
    BINS = BINS.replace(old, new)


def upgrade() -> None:
    op.execute(JUDGE_MANY)
    op.execute("DROP FUNCTION violation_bins_add(text), violation_bins_sql(text);\n" + BINS)


def downgrade() -> None:
    op.execute(OLD_JUDGE_MANY)
    op.execute(
        "DROP FUNCTION violation_bins_add(text, boolean), violation_bins_sql(text, boolean);\n"
        + OLD_BINS
    )
