"""Paging the features API through a million cases: keyset against offset, and GDAL.

    .venv/bin/python bench/paging.py [--home var/bench] [--limit 10000]

The synthetic city of bench/layers.py (built there, 1 M cases) in its cluster, `chuangwen
serve` on a free port. Measured over HTTP with a planner's token, each page read to its
end: the first page; the page at the middle and the last page asked by ``after`` (the next
links' keyset) and, beside them, the same pages asked by ``offset`` (the old way, the
baseline); then GDAL's OAPIF driver (what QGIS uses) reading every case by following the
next links (``ogr2ogr -f GeoJSONSeq /dev/null``, ``PAGE_SIZE`` = ``--limit``).
Targets (performance issue, item 4): the last page ≤ 1.5 × the first; GDAL through all of
them ≤ 60 s. Its floor beside it: GDAL converting the same pages from local files, and the
server's pages read one after another.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.layers import benchmark_city, log, running_cluster, start_server  # noqa: E402
from bench.routes import print_rows  # noqa: E402
from service.accounts.users import create_user, issue_token  # noqa: E402
from service.store.db import Actor, set_actor  # noqa: E402


def _get(url: str, token: str) -> float:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=600) as r:
        while r.read(1 << 20):
            pass
    return time.perf_counter() - t0


def _timed(url: str, token: str, runs: int = 3) -> float:
    return statistics.median(_get(url, token) for _ in range(runs))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", default=str(ROOT / "var" / "bench"))
    ap.add_argument("--violations", type=int, default=1_000_000)
    ap.add_argument("--limit", type=int, default=10_000)
    args = ap.parse_args()
    home = Path(args.home).resolve()
    with running_cluster(home) as (cluster, engine):
        city, _ = benchmark_city(engine, args.violations)
        with engine.begin() as conn:
            set_actor(conn, Actor(None, "bench"))
            user = create_user(conn, city, f"bench_paging_{time.time_ns()}", "planner")
            token = issue_token(conn, user)
            n = conn.execute(
                text("SELECT count(*) FROM violation WHERE city_id = :c"), {"c": city}
            ).scalar()
            mid_at, last_at = (
                conn.execute(
                    text(
                        "SELECT id FROM violation WHERE city_id = :c ORDER BY id OFFSET :o LIMIT 1"
                    ),
                    {"c": city, "o": o},
                ).scalar()
                for o in (n // 2 - 1, n - args.limit - 1)
            )
        with start_server(cluster.url, home) as base:
            items = f"{base}/collections/violations/items?limit={args.limit}"
            _get(items, token)  # the count, once per version, and warm plans
            first = _timed(items, token)
            rows = [("page of 10,000 cases", "asked by", "seconds", "× first page", "target")]
            rows.append(("first", "-", f"{first:.2f}", "1.00", ""))
            for name, key, off in (
                ("middle", mid_at, n // 2),
                ("last", last_at, n - args.limit),
            ):
                by_key = _timed(f"{items}&after={key}", token)
                by_offset = _timed(f"{items}&offset={off}", token, runs=1)
                target = "≤ 1.5" if name == "last" else ""
                rows.append((name, "after (next links)", f"{by_key:.2f}",
                             f"{by_key / first:.2f}", target))  # fmt: skip
                rows.append((name, "offset (baseline)", f"{by_offset:.2f}",
                             f"{by_offset / first:.2f}", ""))  # fmt: skip
                log(rows[-2])
                log(rows[-1])
            env = {**os.environ, "GDAL_HTTP_HEADERS": f"Authorization: Bearer {token}"}
            t0 = time.perf_counter()
            out = subprocess.run(
                [
                    "ogr2ogr", "-f", "GeoJSONSeq", "/dev/null", "-oo",
                    f"PAGE_SIZE={args.limit}", f"OAPIF:{base}", "violations",
                ],
                env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
            gdal = time.perf_counter() - t0
            ok = out.returncode == 0
            rows.append(
                (
                    f"GDAL OAPIF, all {n:,} cases",
                    "next links",
                    f"{gdal:.1f}",
                    f"{n / gdal:,.0f} features/s",
                    "≤ 60 s" + ("" if ok else f" (exit {out.returncode}: {out.stderr[-200:]})"),
                )
            )
            log(rows[-1])
            rows += _gdal_floor(items, token, home, n, args.limit, first)
    print_rows(f"Paging the features API ({n:,} cases, 2 cores)", rows)


def _gdal_floor(items: str, token: str, home: Path, n: int, limit: int, first: float):
    """The floor of GDAL's read: GDAL converting one page from a local file (best of three,
    times the pages), and the server's pages one after another (the first page's time, times
    the pages), which GDAL waits for in turn."""
    page = home / "page.geojson"
    req = urllib.request.Request(items, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=600) as r:
        page.write_bytes(r.read())
    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run(["ogr2ogr", "-f", "GeoJSONSeq", "/dev/null", str(page)], check=True)
        runs.append(time.perf_counter() - t0)
    page.unlink()
    pages = -(-n // limit)
    rows = [
        ("floor: GDAL alone, the pages from files", "-", f"{min(runs) * pages:.1f}",
         f"{min(runs):.2f} s a page", ""),
        ("floor: the server's pages in turn", "-", f"{first * pages:.1f}", f"{pages} pages", ""),
    ]  # fmt: skip
    for row in rows:
        log(row)
    return rows


if __name__ == "__main__":
    main()
