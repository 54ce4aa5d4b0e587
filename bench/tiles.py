"""Benchmark of the map's vector tiles with the synthetic city's million violations.

    .venv/bin/python bench/tiles.py [--violations 1000000] [--home var/bench]

Reuses the city that bench/layers.py leaves under --home (building and importing it when
it is not there), serves it over HTTP, and prints
- the planner page in headless Chromium: from navigation to every violation tile in view drawn
  (the first load after the server starts, nothing cached, then the median of five more);
- the latency of every tile over the city at zoom 10, 13 and 15 (at most --sample a zoom),
  first asked (nothing cached) and asked again (cached).
Targets (issue "Planners edit the city on the map"): page ready ≤ 1.5 s; tile p95 ≤ 200 ms
at z10, ≤ 50 ms at z13–15.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
import urllib.request
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.layers import ROOT, benchmark_city, log, print_table, running_cluster, start_server  # noqa: E402
from bench.synthetic import CODE  # noqa: E402
from gis.webtiles import tiles_over  # noqa: E402
from service.accounts.users import create_user, issue_token  # noqa: E402
from service.store.db import Actor, set_actor  # noqa: E402

TARGETS = {10: 200, 13: 50, 15: 50}
PASSWORD = "bench-password"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--violations", type=int, default=1_000_000)
    ap.add_argument("--home", default=str(ROOT / "var" / "bench"))
    ap.add_argument("--sample", type=int, default=150, help="tiles at most per zoom")
    args = ap.parse_args()
    home = Path(args.home).resolve()
    with running_cluster(home) as (cluster, engine):
        city, _ = benchmark_city(engine, args.violations)
        with engine.begin() as conn:
            conn.execute(text("ANALYZE violation, violation_bin, violation_bin_change"))
            set_actor(conn, Actor(None, "bench"))
            name = f"bench_planner_{time.time_ns()}"
            user = create_user(conn, city, name, "planner", password=PASSWORD)
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
        rng = random.Random(5)
        sample = {
            z: rng.sample(
                tiles_over(w, s, e, n, z), min(args.sample, len(tiles_over(w, s, e, n, z)))
            )
            for z in TARGETS
        }
        # 1. nothing made ahead: what a tile costs to make, and the page with cold tiles
        with start_server(cluster.url, home, {"CHUANGWEN_TILE_WARM_SECONDS": "0"}) as base:
            rows += bench_page(base, name, "nothing made ahead")
            for z, target in TARGETS.items():
                cold = [_fetch(base, token, z, x, y) for x, y in sample[z]]
                warm = [_fetch(base, token, z, x, y) for x, y in sample[z]]
                rows += [
                    _tile_row(z, "made when asked", cold, target),
                    _tile_row(z, "asked again (cached)", warm, target),
                ]
        # 2. as served: the warmer has made the tiles with cases at zoom 10-13
        with start_server(cluster.url, home) as base:
            t0 = time.perf_counter()
            while _warm_rounds(base) < 1:
                time.sleep(0.2)
            took = time.perf_counter() - t0
            log(f"warmer's first round: {took:.1f} s after the server answered")
            rows.append(
                (
                    "warmer's first round (zoom 10-13)",
                    f"{took:.1f} s",
                    "from server start",
                    "—",
                    True,
                )
            )
            rows += bench_page(base, name, "tiles made ahead")
            for z, target in TARGETS.items():
                first = [_fetch(base, token, z, x, y) for x, y in sample[z]]
                rows.append(_tile_row(z, "first asked, made ahead", first, target))
        print_table(rows, stored, "Tiles benchmark")


def bench_page(base: str, user: str, how: str, loads: int = 6) -> list[tuple]:
    """Navigation to the violation tiles in view all drawn on the planner map, in Chromium."""
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    # every violations tile in view drawn: the layer's "load" event sets a User Timing mark
    # (maps/tiles.py); and the embedded layers drawn
    mark = "performance.getEntriesByName('cw:violation-tiles-drawn')"
    ready = (
        f"() => {mark}.length > 0 "
        "&& document.querySelector('.leaflet-overlay-pane canvas') !== null"
    )
    times, sizes, html_ms = [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 860})
        page = context.new_page()
        page.goto(base + "/login")
        page.fill("#username", user)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        for _ in range(loads):
            page.goto(base + "/", wait_until="commit")
            page.wait_for_function(ready, timeout=60_000, polling="raf")
            times.append(page.evaluate(f"{mark}[0].startTime"))
            nav = page.evaluate(
                "(() => { const n = performance.getEntriesByType('navigation')[0];"
                " return [n.decodedBodySize, n.responseEnd]; })()"
            )
            sizes.append(nav[0])
            html_ms.append(nav[1])
        browser.close()
    first, rest = times[0], statistics.median(times[1:])
    log(f"page ready: first {first:.0f} ms, then median {rest:.0f} ms; {sizes[0] / 1024:.0f} KiB")
    return [
        (
            f"planner page ready, first load, {how}",
            f"{first:.0f} ms",
            f"page {sizes[0] / 1024:.0f} KiB, in {html_ms[0]:.0f} ms; nothing cached",
            "≤ 1500 ms",
            first <= 1500,
        ),
        (
            f"planner page ready, median of {loads - 1} more, {how}",
            f"{rest:.0f} ms",
            f"page in {statistics.median(html_ms[1:]):.0f} ms; tiles cached in the server",
            "≤ 1500 ms",
            rest <= 1500,
        ),
    ]


def _tile_row(z, how, times, target) -> tuple:
    p50, p95 = _pct(times)
    log(f"z{z} {how}: p50 {p50:.1f} ms, p95 {p95:.1f} ms over {len(times)}")
    return (
        f"tile z{z}, {how} ({len(times)} tiles)",
        f"p50 {p50:.1f} ms, p95 {p95:.1f} ms",
        f"max {max(t for t, _ in times):.1f} ms, "
        f"{statistics.mean(b for _, b in times) / 1024:.0f} KiB mean",
        f"p95 ≤ {target} ms",
        p95 <= target,
    )


def _warm_rounds(base: str) -> int:
    with urllib.request.urlopen(base + "/health") as resp:
        return json.load(resp)["tile_warm_rounds"]


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
