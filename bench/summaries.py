"""Benchmark of the weekly report (service/summaries/) at a city's scale.

    .venv/bin/python bench/summaries.py [--violations 1000000] [--units 2000] [--runs 3]
                                        [--home var/bench]

Reuses the synthetic city of bench/layers.py under --home (1 M cases over 2026 with the lives
bench/loop.py gives them) and, once, brings its territorial units to --units: grid units under
each community's unit (网格), the community's cases shared among them (their owners set as the
office would, ``unit_override``). Then times, in process and after one untimed run, the
week's summary gathered (``content.gather``) and written as PDF and as XLSX, for the busiest
week of the year; beside it, in the same run, the floor: the week's figures per unit alone
(``kpis.figures``), which the report needs at least. Then the leaders' dashboard's first view:
its three requests' work (``dashboard.overview``, ``heat``, the first ``drill``) as it is on
the server's "today". Targets (issue "Holding units to account"): the weekly report for 1 M
cases and 2,000 units ≤ 30 s; the dashboard's first view ≤ 1.5 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.layers import ROOT, benchmark_city, log, print_table, running_cluster  # noqa: E402
from bench.loop import _top_up_events  # noqa: E402
from service.cases import kpis  # noqa: E402
from service.ranking import score  # noqa: E402
from service.store.db import Actor, set_actor  # noqa: E402
from service.summaries import content, dashboard, documents, period  # noqa: E402

TARGET_S = 30.0
TARGET_DASHBOARD_S = 1.5


def _grid_units(engine, city: int, want: int) -> int:
    """Territorial units up to ``want``: grid units under the community units, each given a
    share of its community's cases (once)."""
    with engine.begin() as conn:
        have = conn.execute(
            text("SELECT count(*) FROM unit WHERE city_id = :c AND kind = 'territorial'"),
            {"c": city},
        ).scalar()
        if have >= want:
            return have
        t = time.perf_counter()
        set_actor(conn, Actor(None, "bench"))
        parents = conn.execute(
            text("SELECT id, code FROM unit WHERE city_id = :c AND kind = 'territorial' "
                 "AND parent_id IS NULL ORDER BY id"), {"c": city}
        ).all()  # fmt: skip
        per = -(-(want - have) // len(parents))
        conn.execute(
            text(
                "INSERT INTO unit (city_id, code, name, kind, parent_id, provenance) "
                "SELECT :c, p.code || '-G' || lpad(g::text, 3, '0'), '网格' || g || '（' || "
                "p.code || '）', 'territorial', p.id, 'invented' FROM unnest(CAST(:ids AS "
                "bigint[]), CAST(:codes AS text[])) p(id, code) CROSS JOIN generate_series(1, "
                ":per) g"
            ),
            {"c": city, "ids": [p.id for p in parents], "codes": [p.code for p in parents],
             "per": per},
        )  # fmt: skip
        conn.execute(text("ALTER TABLE violation DISABLE TRIGGER violation_audit"))
        conn.execute(
            text(
                "WITH kids AS (SELECT parent_id, array_agg(id ORDER BY id) AS ids FROM unit "
                "WHERE city_id = :c AND parent_id IS NOT NULL GROUP BY parent_id) "
                "UPDATE violation v SET unit_id = k.ids[1 + (v.id % (cardinality(k.ids) + 1))], "
                "unit_override = k.ids[1 + (v.id % (cardinality(k.ids) + 1))] FROM kids k "
                "WHERE v.city_id = :c AND v.unit_id = k.parent_id "
                "AND v.id % (cardinality(k.ids) + 1) <> cardinality(k.ids)"
            ),
            {"c": city},
        )
        conn.execute(text("ALTER TABLE violation ENABLE TRIGGER violation_audit"))
        conn.execute(text("ANALYZE violation"))
        have = conn.execute(
            text("SELECT count(*) FROM unit WHERE city_id = :c AND kind = 'territorial'"),
            {"c": city},
        ).scalar()
    log(f"{have} territorial units, cases shared in {time.perf_counter() - t:.1f} s")
    return have


def _timed(runs: int, fn):
    times, result = [], None
    for i in range(runs + 1):
        t = time.perf_counter()
        result = fn()
        if i:
            times.append(time.perf_counter() - t)
    return statistics.median(times), result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--violations", type=int, default=1_000_000)
    ap.add_argument("--units", type=int, default=2000)
    ap.add_argument("--events", type=int, default=5_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--home", default=str(ROOT / "var" / "bench"))
    args = ap.parse_args()
    home = Path(args.home).resolve()
    with running_cluster(home) as (_, engine):
        city, _ = benchmark_city(engine, args.violations)
        _top_up_events(engine, city, args.events)
        units = _grid_units(engine, city, args.units)
        with engine.connect() as conn:
            n = conn.execute(
                text("SELECT count(*) FROM violation WHERE city_id = :c"), {"c": city}
            ).scalar()
            busiest = conn.execute(
                text(
                    "SELECT to_char(observed_at AT TIME ZONE 'Asia/Shanghai', 'IYYY-\"W\"IW') "
                    "AS w, count(*) FROM violation WHERE city_id = :c GROUP BY 1 "
                    "ORDER BY 2 DESC LIMIT 1"
                ),
                {"c": city},
            ).one()
        p = period.parse("weekly", busiest.w)
        start, end = score.week_days(p.label)
        rows = []
        with engine.connect() as conn:
            s_floor, _ = _timed(
                args.runs, lambda: kpis.figures(conn, city, start, end, "unit", None)
            )
            s_gather, summary = _timed(args.runs, lambda: content.gather(conn, city, p))
            s_pdf, pdf = _timed(args.runs, lambda: documents.pdf(conn, city, summary))
            s_xlsx, xlsx = _timed(args.runs, lambda: documents.xlsx(summary))
            s_over, _ = _timed(args.runs, lambda: dashboard.overview(conn, city))
            s_heat, squares = _timed(args.runs, lambda: dashboard.heat(conn, city))
            s_drill, _ = _timed(args.runs, lambda: dashboard.drill(conn, city, None, None))
        total_pdf, total_xlsx = s_gather + s_pdf, s_gather + s_xlsx
        first_view = s_over + s_heat + s_drill
        overdue_units = len(summary["overdue"])
        rows += [
            (f"weekly report as PDF ({p.label})", f"{total_pdf:.1f} s",
             f"{busiest.count:,} cases in the week, {len(pdf) / 1e6:.1f} MB",
             f"≤ {TARGET_S:.0f} s", total_pdf <= TARGET_S),
            (f"weekly report as XLSX ({p.label})", f"{total_xlsx:.1f} s",
             f"{len(xlsx) / 1e6:.2f} MB", f"≤ {TARGET_S:.0f} s", total_xlsx <= TARGET_S),
            ("  of which: gathering", f"{s_gather:.1f} s",
             f"trend of 12 weeks, {overdue_units} units with overdue cases", "—", True),
            ("  of which: drawing the PDF", f"{s_pdf:.1f} s", "two maps, tables, chart", "—", True),
            ("floor: the week's figures per unit", f"{s_floor:.2f} s", "kpis.figures", "—", True),
            ("dashboard's first view (three requests' work)", f"{first_view:.2f} s",
             f"overview {s_over:.2f} s, heat {s_heat:.2f} s ({len(squares)} squares), "
             f"drill {s_drill:.2f} s", f"≤ {TARGET_DASHBOARD_S} s",
             first_view <= TARGET_DASHBOARD_S),
        ]  # fmt: skip
        log(f"{units} territorial units")
        print_table(rows, n, f"Summaries benchmark ({units:,} territorial units)")


if __name__ == "__main__":
    main()
