"""Benchmark of the map's vector tiles with the synthetic city's million violations.

    .venv/bin/python bench/tiles.py [--violations 1000000] [--home var/bench]

Reuses the city that bench/layers.py leaves under --home (building and importing it when
it is not there), serves it over HTTP, and prints the latency of every tile over the city
at zoom 10, 13 and 15, first asked (nothing cached) and asked again (cached).
Targets (issue "Planners edit the city on the map"): p95 ≤ 200 ms at z10, ≤ 50 ms at z13–15.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import urllib.request
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.layers import ROOT, bench_import, log, print_table, start_server  # noqa: E402
from bench.synthetic import CODE, build_city, violations  # noqa: E402
from gis.webtiles import tiles_over  # noqa: E402
from service.db import Actor, make_engine, set_actor, upgrade  # noqa: E402
from service.pgcluster import Cluster  # noqa: E402
from service.users import create_user, issue_token  # noqa: E402

TARGETS = {10: 200, 13: 50, 15: 50}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--violations", type=int, default=1_000_000)
    ap.add_argument("--home", default=str(ROOT / "var" / "bench"))
    ap.add_argument("--sample", type=int, default=150, help="tiles at most per zoom")
    args = ap.parse_args()
    home = Path(args.home).resolve()
    home.mkdir(parents=True, exist_ok=True)
    home.chmod(0o755)
    cluster = Cluster(home)
    cluster.start()
    try:
        upgrade(cluster.url)
        engine = make_engine(cluster.url)
        with engine.begin() as conn:
            set_actor(conn, Actor(None, "bench"))
            city = build_city(conn)
            have = conn.execute(
                text("SELECT count(*) FROM violation WHERE city_id = :c"), {"c": city}
            ).scalar()
        if have < args.violations:
            with engine.connect() as conn:
                frame = violations(conn, city, args.violations - have, seed=have + 2)
            frame["case_no"] = [f"T{have}-{i:08d}" for i in range(len(frame))]
            bench_import(engine, city, frame)
        with engine.begin() as conn:
            conn.execute(text("ANALYZE violation, violation_bin, violation_bin_change"))
            set_actor(conn, Actor(None, "bench"))
            user = create_user(conn, city, f"bench_planner_{time.time_ns()}", "planner")
            token = issue_token(conn, user)
            w, s, e, n = conn.execute(
                text(
                    "SELECT ST_XMin(extent), ST_YMin(extent), ST_XMax(extent), ST_YMax(extent) "
                    "FROM city WHERE code = :code"
                ),
                {"code": CODE},
            ).one()
            stored = conn.execute(
                text("SELECT count(*) FROM violation WHERE city_id = :c"), {"c": city}
            ).scalar()
        rows = []
        with start_server(cluster.url, home) as base:
            rng = random.Random(5)
            for z, target in TARGETS.items():
                tiles = tiles_over(w, s, e, n, z)
                tiles = rng.sample(tiles, min(args.sample, len(tiles)))
                cold = [_fetch(base, token, z, x, y) for x, y in tiles]
                warm = [_fetch(base, token, z, x, y) for x, y in tiles]
                for name, times in (("first", cold), ("cached", warm)):
                    p50, p95 = _pct(times)
                    log(f"z{z} {name}: p50 {p50:.1f} ms, p95 {p95:.1f} ms over {len(times)}")
                    rows.append(
                        (
                            f"tile z{z}, {name} ({len(times)} tiles)",
                            f"p50 {p50:.1f} ms, p95 {p95:.1f} ms",
                            f"max {max(t for t, _ in times):.1f} ms, "
                            f"{statistics.mean(b for _, b in times) / 1024:.0f} KiB mean",
                            f"p95 ≤ {target} ms",
                            p95 <= target,
                        )
                    )
        print_table(rows, stored, "Tiles benchmark")
    finally:
        cluster.stop()


def _fetch(base, token, z, x, y) -> tuple[float, int]:
    req = urllib.request.Request(
        f"{base}/tiles/violations/{z}/{x}/{y}.pbf", headers={"Authorization": f"Bearer {token}"}
    )
    t = time.perf_counter()
    with urllib.request.urlopen(req) as resp:
        body = resp.read()
    return (time.perf_counter() - t) * 1000, len(body)


def _pct(times) -> tuple[float, float]:
    ms = sorted(t for t, _ in times)
    if len(ms) < 2:
        return ms[0], ms[0]
    q = statistics.quantiles(ms, n=100, method="inclusive")
    return q[49], q[94]


if __name__ == "__main__":
    main()
