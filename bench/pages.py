"""Benchmark of the planner's map page: its size, its server time and page-ready in Chromium.

    .venv/bin/python bench/pages.py [--violations 1000000] [--home var/bench] [--loads 20]

Two cities: the Guixi demo (in a cluster of its own under --home/demo) and the synthetic
benchmark city that bench/layers.py leaves under --home (built and imported when it is not
there: 10,000 assessment points, 40,000 grid cells, 5,000 zones, --violations cases). For
each, ``chuangwen serve`` answers ``GET /`` --loads times for a signed-in planner: the bytes
of the page, the time from request to the last byte (median and p95; on this machine's
loopback that is the server's time), then the page in headless Chromium until every layer
it asks for has answered and been drawn (``cw:layers-drawn``). The floor beside it is the
same server answering ``/attribution`` (a small page through the same sign-in, session
and template path). Targets (issue "Pages people can work with"): page ≤ 300 KB, server time
≤ 300 ms, page ready ≤ 1.5 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.cookiejar
import re
import statistics
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.layers import ROOT, benchmark_city, log, print_table, running_cluster, start_server  # noqa: E402
from service.accounts.users import create_user  # noqa: E402
from service.store.db import Actor, set_actor  # noqa: E402

PASSWORD = "bench-password"
MAX_KB, MAX_MS, READY_MS = 300, 300, 1500


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--violations", type=int, default=1_000_000)
    ap.add_argument("--home", default=str(ROOT / "var" / "bench"))
    ap.add_argument("--loads", type=int, default=20)
    args = ap.parse_args()
    home = Path(args.home).resolve()
    home.mkdir(parents=True, exist_ok=True)
    home.chmod(0o755)
    rows: list[tuple] = []
    rows += _demo(home / "demo", args.loads)
    rows += _benchmark_city(home, args.violations, args.loads)
    print_table(rows, args.violations, "Planner page benchmark")


def _demo(home: Path, loads: int) -> list[tuple]:
    from service.demo.build import build
    from service.demo.load import load

    with running_cluster(home) as (cluster, engine):
        with engine.begin() as conn:
            set_actor(conn, Actor(None, "bench"))
            load(conn, build(dt.datetime.now(dt.UTC)))
            city = conn.execute(text("SELECT id FROM city ORDER BY id LIMIT 1")).scalar()
            name = _planner(conn, city)
        with start_server(cluster.url, home, {"CHUANGWEN_TILES": "own"}, port=5098) as base:
            return _measure(base, name, "demo (贵溪)", loads)


def _benchmark_city(home: Path, n: int, loads: int) -> list[tuple]:
    with running_cluster(home) as (cluster, engine):
        city, have = benchmark_city(engine, n)
        with engine.begin() as conn:
            set_actor(conn, Actor(None, "bench"))
            name = _planner(conn, city)
        with start_server(cluster.url, home, {"CHUANGWEN_TILES": "own"}) as base:
            return _measure(base, name, f"benchmark city ({max(n, have):,} cases)", loads)


def _planner(conn, city: int) -> str:
    name = f"bench_pages_{time.time_ns()}"
    create_user(conn, city, name, "planner", password=PASSWORD)
    return name


def _opener(base: str, name: str) -> urllib.request.OpenerDirector:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(base + "/login").read().decode()
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
    csrf = csrf or re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
    body = urllib.parse.urlencode(
        {"csrf_token": csrf.group(1), "username": name, "password": PASSWORD}
    ).encode()
    opener.open(base + "/login", data=body).read()
    return opener


def _timed(opener, url: str, loads: int) -> tuple[list[float], int]:
    times, size = [], 0
    for _ in range(loads):
        req = urllib.request.Request(url, headers={"Accept": "text/html"})
        t = time.perf_counter()
        with opener.open(req) as resp:
            body = resp.read()
        times.append((time.perf_counter() - t) * 1000)
        size = len(body)
    return times, size


def _measure(base: str, name: str, label: str, loads: int) -> list[tuple]:
    opener = _opener(base, name)
    page, size = _timed(opener, base + "/", loads)
    floor, floor_size = _timed(opener, base + "/attribution", loads)
    p50, p95 = _pct(page)
    f50, f95 = _pct(floor)
    ready = _ready(base, name)
    log(f"{label}: page {size / 1024:.0f} KiB, p50 {p50:.0f} ms, p95 {p95:.0f} ms")
    return [
        (
            f"{label}: page size",
            f"{size / 1000:.0f} KB",
            f"floor page {floor_size / 1000:.0f} KB",
            f"≤ {MAX_KB} KB",
            size <= MAX_KB * 1000,
        ),
        (
            f"{label}: server time p50 / p95",
            f"{p50:.0f} / {p95:.0f} ms",
            f"floor p50 {f50:.0f} ms, p95 {f95:.0f} ms; {loads} loads",
            f"p95 ≤ {MAX_MS} ms",
            p95 <= MAX_MS,
        ),
        (
            f"{label}: page ready (Chromium), first / median of 4 more",
            f"{ready[0]:.0f} / {statistics.median(ready[1:]):.0f} ms",
            "until every layer asked for is drawn",
            f"≤ {READY_MS} ms",
            max(ready[0], statistics.median(ready[1:])) <= READY_MS,
        ),
    ]


def _ready(base: str, name: str, loads: int = 5) -> list[float]:
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        page = context.new_page()
        page.goto(base + "/login")
        page.fill("#username", name)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state("load")
        for _ in range(loads):
            t = time.perf_counter()
            page.goto(base + "/")
            page.wait_for_function(
                "() => performance.getEntriesByName('cw:layers-drawn').length > 0", timeout=60000
            )
            times.append((time.perf_counter() - t) * 1000)
        browser.close()
    return times


def _pct(ms: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(sorted(ms), n=100, method="inclusive")
    return q[49], q[94]


if __name__ == "__main__":
    main()
