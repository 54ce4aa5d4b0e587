"""Benchmark of the loop's figures (service/cases/kpis.py) at a city's scale.

    .venv/bin/python bench/kpis.py [--violations 1000000] [--events 5000000] [--runs 3]
                                   [--home var/bench]

Reuses the synthetic city of bench/layers.py under --home (built and imported when missing;
its cases observed over 2026) and its events, topped up to --events as bench/loop.py does,
and times ``kpis.figures`` — the one statement of a level — in process, for every level over
a week, a month and the whole year, as an admin (the whole city). Each is run --runs times
after one untimed run; the median is shown. Target (issue "The closed loop"): a year of
1 M cases over all units ≤ 1 s. The floor beside it, in the same run: one pass over the same
cases counting them per unit (``count(*)`` and ``sum`` of the case's own columns, no events,
no roll-up) — what any statement over a year of cases costs here.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.layers import ROOT, benchmark_city, log, print_table, running_cluster  # noqa: E402
from bench.loop import _top_up_events  # noqa: E402
from service.cases import kpis  # noqa: E402

TARGET_YEAR_S = 1.0
FLOOR = (
    "SELECT unit_id, count(*), sum(rework_count), sum((status = 'closed')::int) FROM violation "
    "WHERE city_id = :c AND observed_at >= :lo AND observed_at < :hi AND NOT permitted "
    "AND status <> 'invalid' GROUP BY 1"
)
WINDOWS = {
    "a week": (dt.date(2026, 3, 2), dt.date(2026, 3, 8)),
    "a month": (dt.date(2026, 3, 1), dt.date(2026, 3, 31)),
    "the year": (dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--violations", type=int, default=1_000_000)
    ap.add_argument("--events", type=int, default=5_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--home", default=str(ROOT / "var" / "bench"))
    args = ap.parse_args()
    home = Path(args.home).resolve()
    with running_cluster(home) as (_, engine):
        city, _ = benchmark_city(engine, args.violations)
        stored = _top_up_events(engine, city, args.events)
        with engine.connect() as conn:
            n = conn.execute(
                text("SELECT count(*) FROM violation WHERE city_id = :c"), {"c": city}
            ).scalar()
        rows = []
        for window, (start, end) in WINDOWS.items():
            for level in kpis.LEVELS:
                times, result = [], None
                for i in range(args.runs + 1):
                    with engine.connect() as conn:
                        t = time.perf_counter()
                        result = kpis.figures(conn, city, start, end, level, None)
                        if i:
                            times.append(time.perf_counter() - t)
                s = statistics.median(times)
                received = sum(r["received"] for r in result["rows"])
                yearly = window == "the year"
                rows.append(
                    (
                        f"{level}, {window}",
                        f"{s * 1000:.0f} ms",
                        f"{len(result['rows'])} rows, {received:,} cases",
                        f"≤ {TARGET_YEAR_S * 1000:.0f} ms" if yearly else "—",
                        s <= TARGET_YEAR_S if yearly else True,
                    )
                )
                log(f"{level} {window}: {s:.2f} s")
            times = []
            for i in range(args.runs + 1):
                with engine.connect() as conn:
                    lo, hi = kpis.window(conn, city, start, end)
                    t = time.perf_counter()
                    conn.execute(text(FLOOR), {"c": city, "lo": lo, "hi": hi}).all()
                    if i:
                        times.append(time.perf_counter() - t)
            rows.append(
                (f"floor: one pass per unit, {window}",
                 f"{statistics.median(times) * 1000:.0f} ms", "no events, no roll-up", "—", True)
            )  # fmt: skip
        print_table(rows, n, f"Loop figures benchmark ({stored:,} events)")


if __name__ == "__main__":
    main()
