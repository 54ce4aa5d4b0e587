"""A round planned end to end over 2,000 candidate points on Jinan's network, and over 1,500 on a
dense street network of another city: the leader's wait.

    .venv/bin/python bench/plans.py [--plans 10] [--roads ../shared/data/jinan_roads/edges.shp]

In the cluster of bench/visits.py (under var/bench-rounds), a city on Jinan's whole-city street
network (28,597 streets) with 2,000 assessment points within 12 km of a central node. For a
walk of 4 hours and a drive of 8 hours, ``inspections.create`` (what POST
/api/inspection-plans runs, in its transaction, rolled back after) is timed: the first plan
over the points, which computes the travel times among them and keeps them with the network,
then ``--plans`` more on other nights from depots within 1 km of the centre, which find them
again. The street graph is built before (it is kept per network version). Target
(performance issue, item 5): a plan ≤ 2 s at p50. A row plans nights of two teams, each
from its own depot (item 6), and shows the stops team by team.

The same is timed on 海淀's 清华/五道口 extract (``--dense``, 641 streets in 2 × 2.4 km, where
points lie a street corner or two apart: many more stops fit a window than in Jinan) with
1,500 points, as many as its corners allow. It is a district's streets, not a whole city's:
the only whole-city network here is Jinan's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from bench.layers import log, running_cluster  # noqa: E402
from bench.routes import DENSE, print_rows  # noqa: E402
from bench.visits import _leader, jinan_city, plan_night  # noqa: E402
from service.rounds import roads  # noqa: E402
from service.store.db import Actor, set_actor  # noqa: E402

WINDOWS = {"walk": ("08:00", "12:00"), "drive": ("09:00", "17:00")}


def _plan(engine, city, leader, day, depot, mode, rng, team=None) -> tuple[float, str]:
    """Seconds to plan, and the stops planned, team by team (rolled back)."""
    with engine.connect() as conn:
        tx = conn.begin()
        set_actor(conn, Actor(leader.id, "bench"))
        t0 = time.perf_counter()
        pids = plan_night(conn, city, leader, day, WINDOWS[mode], depot, mode, rng, team)
        secs = time.perf_counter() - t0
        stops = conn.execute(
            text(
                "SELECT count(*) FROM unnest(CAST(:p AS bigint[])) WITH ORDINALITY u(id, k) "
                "LEFT JOIN inspection_stop s ON s.plan_id = u.id GROUP BY u.k ORDER BY u.k"
            ),
            {"p": pids},
        ).scalars()
        tx.rollback()
    return secs, " + ".join(map(str, stops))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plans", type=int, default=10)
    ap.add_argument("--home", default=str(ROOT / "var" / "bench-rounds"))
    ap.add_argument("--roads", default=str(ROOT.parent / "shared/data/jinan_roads/edges.shp"))
    ap.add_argument("--dense", default=str(DENSE))
    args = ap.parse_args()
    rows = [("mode", "first plan", "next plans p50", "p95", "stops (last plan)", "target", "met")]
    cities = (
        ("Jinan", Path(args.roads), 2000, 12_000, "370102", "济南", (1, 1, 2)),
        ("Haidian (dense)", Path(args.dense), 1500, 5_000, "110108", "海淀", (1, 1)),
    )
    with running_cluster(Path(args.home)) as (_cluster, engine):
        for place, path, points, radius, code, name, teams_by_mode in cities:
            rows += _plans_in(engine, place, path, points, radius, code, name, teams_by_mode, args)
    print_rows("A plan end to end (inspections.create, 2 cores)", rows)


def _plans_in(engine, place, path, points, radius, code, name, teams_by_mode, args) -> list:
    """The rows of one city: its points made once, then a first plan and ``--plans`` more
    for each mode (and number of teams)."""
    rows = []
    with engine.begin() as conn:
        set_actor(conn, Actor(None, "bench"))
        city, centre = jinan_city(conn, path, points, radius, code, name)
        leader = _leader(conn, city, f"bench_planner_{code}")
        other = _leader(conn, city, f"bench_planner_{code}_b")
    rng = np.random.default_rng(5)
    for mode, teams in zip(("walk", "drive", "drive"), teams_by_mode, strict=False):
        with engine.connect() as conn:
            net = roads.network(conn, city, mode)  # built once per network version
        near = net.reachable[np.hypot(*(net.xy[net.reachable] - net.xy[net.reachable[
            len(net.reachable) // 2]]).T) < 1000]  # fmt: skip
        team = [[leader.id], [other.id]][:teams] if teams > 1 else None
        day = dt.date(2026, 12, 1)
        first, stops = _plan(engine, city, leader, day, [centre] * teams, mode, rng, team)
        times = []
        for k in range(args.plans):
            depots = [[float(v) for v in net.lonlat[rng.choice(near)]] for _ in range(teams)]
            when = day + dt.timedelta(k + 1)
            secs, stops = _plan(engine, city, leader, when, depots, mode, rng, team)
            times.append(secs)
        p50 = statistics.median(times)
        p95 = sorted(times)[max(0, int(len(times) * 0.95) - 1)]
        rows.append(
            (
                f"{place}, {mode} {WINDOWS[mode][0]}-{WINDOWS[mode][1]}, {points:,} points"
                + (f", {teams} teams" if teams > 1 else ""),
                f"{first:.2f} s",
                f"{p50:.2f} s",
                f"{p95:.2f} s",
                stops,
                "≤ 2 s p50" if teams == 1 else "(none set)",
                ("yes" if p50 <= 2 else "NO") if teams == 1 else "—",
            )
        )
        log(rows[-1])
    return rows


if __name__ == "__main__":
    main()
