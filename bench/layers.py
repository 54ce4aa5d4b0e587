"""Benchmark of the layers service at the scale of a city's year of cases.

    .venv/bin/python bench/layers.py [--violations 1000000] [--home var/bench]

Runs a throw-away PostGIS cluster under --home, builds the synthetic city
(bench/synthetic.py) and prints one table:

  (a) bulk import of N violations with every rule applied (validation, COPY, judged insert)
  (b) single report through HTTP POST with N stored: p50 and p95 latency
  (e) a planner's typical edit by HTTP PATCH (a point, a zone moved; a stall area's hours)
      with every case stored: p95, and how many cases each rewrote
  (c) recomputing every flag and owner in PostGIS, against an in-memory baseline measured in
      the same run (shapely STRtree dwithin for the flags + geopandas sjoin for cells, zones)
  (d) GeoJSON export: features per second and peak memory at N/4, N/2 and N, beside the
      baseline of PostGIS's own ST_AsGeoJSON(record) over the same rows (median of three)

    .venv/bin/python bench/layers.py --part export [--part recompute ...]
    .venv/bin/python bench/layers.py --import-only

runs only those parts, on the city already built under --home (built first if missing);
--import-only rebuilds the city and runs (a) alone, with its floor beside it: COPY into an
unlogged table, one judging statement into an index-free unlogged copy, the indexes after.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import numpy as np
import psycopg
import shapely
import shapely.affinity
import shapely.geometry
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.synthetic import EPSG, build_city, violations  # noqa: E402
from gis.validate import check_points  # noqa: E402
from service.accounts.users import create_user, issue_token  # noqa: E402
from service.layers.features.collections import VIOLATIONS  # noqa: E402
from service.layers.transfer import import_features  # noqa: E402
from service.store.db import Actor, make_engine, set_actor, upgrade  # noqa: E402
from service.store.pgcluster import Cluster  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--violations", type=int, default=1_000_000)
    ap.add_argument("--home", default=str(ROOT / "var" / "bench"))
    ap.add_argument("--posts", type=int, default=200)
    ap.add_argument(
        "--import-only",
        action="store_true",
        help="a fresh city under --home, the import and its floor only",
    )
    ap.add_argument(
        "--part",
        action="append",
        choices=("post", "edits", "recompute", "export"),
        help="only this part, on the city already built under --home (built if missing)",
    )
    args = ap.parse_args()
    n = args.violations
    home = Path(args.home).resolve()
    if args.part:
        with running_cluster(home) as (cluster, engine):
            city, _ = benchmark_city(engine, n)
            parts = {
                "post": lambda: bench_post(engine, cluster.url, city, home, args.posts, n),
                "edits": lambda: bench_edits(engine, cluster.url, city, home, n),
                "recompute": lambda: bench_recompute(engine, city),
                "export": lambda: bench_export(cluster.url, city, n, home),
            }
            print_table([row for p in args.part for row in parts[p]()], n)
        return
    cluster = Cluster(home)
    if (home / "pg").exists():
        cluster.stop()
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    home.chmod(0o755)
    cluster.start()
    try:
        upgrade(cluster.url)
        engine = make_engine(cluster.url)
        rows = []
        t = time.perf_counter()
        with engine.begin() as conn:
            set_actor(conn, Actor(None, "bench"))
            city = build_city(conn)
        log(f"city built in {time.perf_counter() - t:.1f} s")
        with engine.connect() as conn:
            frame = violations(conn, city, n)
        rows += bench_import(engine, city, frame)
        if args.import_only:
            print_table(rows, n)
            return
        subprocess.run(
            [
                "psql",
                f"host={home}/pg/run port=5432 user=chuangwen dbname=chuangwen",
                "-qc",
                "VACUUM ANALYZE",
                "-qc",
                "CHECKPOINT",
            ],
            check=True,
            cwd="/",
        )
        rows += bench_post(engine, cluster.url, city, home, args.posts, n)
        rows += bench_edits(engine, cluster.url, city, home, n)
        rows += bench_recompute(engine, city)
        rows += bench_export(cluster.url, city, n, home)
        print_table(rows, n)
    finally:
        cluster.stop()


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def settled(engine) -> None:
    """The cluster at rest before a measure: the tables vacuumed and analysed (no autovacuum
    starting midway) and a checkpoint made (none forced midway by what was written before)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
        conn.execute(text("CHECKPOINT"))


def bench_import(engine, city, frame) -> list[tuple]:
    timings: dict[str, float] = {}
    settled(engine)
    t = time.perf_counter()
    with engine.begin() as conn:
        set_actor(conn, Actor(None, "bench import"))
        report = import_features(
            conn,
            VIOLATIONS,
            city,
            frame,
            crs="wgs84",
            repair=False,
            actor_id=None,
            dry_run=False,
            timings=timings,
        )
    wall = time.perf_counter() - t
    assert not report.errors and report.inserted == len(frame), report.errors[:5]
    parts = ", ".join(f"{k} {v:.1f} s" for k, v in timings.items())
    log(f"import {len(frame)} in {wall:.1f} s ({parts})")
    settled(engine)
    floor, steps = import_floor(engine, city, frame)
    log(f"floor {floor:.1f} s ({steps})")
    return [
        (
            "(a) bulk import with all rules",
            f"{wall:.1f} s",
            f"{parts}; floor {floor:.1f} s: {steps}",
            "≤ 60 s and ≤ 2 × floor",
            wall <= 60 and wall <= 2 * floor,
        )
    ]


def import_floor(engine, city, frame) -> tuple[float, str]:
    """The floor of an import, measured on the same rows (issue "Fast where people wait"):
    COPY into an unlogged table, one set-based judging statement writing the judged rows into
    an unlogged copy of the cases' table without indexes, and the cases' indexes built on it
    after. No triggers, no events, no audit; rolled back."""
    from service.layers import bulk

    ok, wkb = check_points(frame.geometry.values, shapely.box(-180, -90, 180, 90))
    staged = bulk.checked(
        frame.drop(columns=frame.geometry.name),
        set(),
        set(frame["category"]),
        dt.UTC,
        dt.datetime.now(dt.UTC),
    )[1]
    staged.insert(0, "row_no", np.arange(1, len(frame) + 1))
    staged["wkb"], staged["reported_by"] = wkb, None
    data = bulk.copy_text(staged[list(bulk.COLUMNS)])
    steps = {}
    with engine.connect() as conn:
        indexes = (
            conn.execute(text("SELECT indexdef FROM pg_indexes WHERE tablename = 'violation'"))
            .scalars()
            .all()
        )
        t = time.perf_counter()
        conn.execute(text(f"CREATE UNLOGGED TABLE floor_staging {bulk.STAGING}"))
        raw = conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(
            f"COPY floor_staging ({', '.join(bulk.COLUMNS)}) FROM STDIN"
        ) as copy:  # fmt: skip
            copy.write(data)
        conn.execute(text("ANALYZE floor_staging"))
        steps["copy"] = time.perf_counter() - t
        t = time.perf_counter()
        conn.execute(text("SELECT set_config('work_mem', '256MB', true)"))
        conn.execute(
            text(
                "CREATE UNLOGGED TABLE floor_violation "
                "(LIKE violation INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING IDENTITY)"
            )
        )
        conn.execute(text(bulk.judged_insert("floor_violation", "floor_staging")), {"c": city})
        steps["judged insert"] = time.perf_counter() - t
        t = time.perf_counter()
        for sql in indexes:
            conn.execute(
                text(
                    sql.replace(" ON ONLY public.violation ", " ON floor_violation ")
                    .replace("CREATE UNIQUE INDEX ", "CREATE UNIQUE INDEX floor_")
                    .replace("CREATE INDEX ", "CREATE INDEX floor_")
                )
            )
        steps[f"{len(indexes)} indexes"] = time.perf_counter() - t
        conn.rollback()
    return sum(steps.values()), ", ".join(f"{k} {v:.1f} s" for k, v in steps.items())


def benchmark_city(engine, n: int) -> tuple[int, int]:
    """The synthetic city (built once) with at least ``n`` cases (imported with every rule
    when fewer are stored); its id and how many cases it held before."""
    with engine.begin() as conn:
        set_actor(conn, Actor(None, "bench"))
        city = build_city(conn)
        have = conn.execute(
            text("SELECT count(*) FROM violation WHERE city_id = :c"), {"c": city}
        ).scalar()
    if have < n:
        with engine.connect() as conn:
            frame = violations(conn, city, n - have, seed=have + 2)
        frame["case_no"] = [f"T{have}-{i:08d}" for i in range(len(frame))]
        bench_import(engine, city, frame)
    return city, have


@contextmanager
def running_cluster(home: Path) -> Iterator[tuple[Cluster, object]]:
    """A benchmark's own PostgreSQL cluster under ``home``, migrated; its engine."""
    home.mkdir(parents=True, exist_ok=True)
    home.chmod(0o755)
    cluster = Cluster(home)
    cluster.start()
    try:
        upgrade(cluster.url)
        yield cluster, make_engine(cluster.url)
    finally:
        cluster.stop()


@contextmanager
def start_server(
    url: str, home: Path, extra_env: dict | None = None, port: int = 5099
) -> Iterator[str]:
    """``chuangwen serve`` on the benchmark's database; yields its base URL."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CHUANGWEN_HOME": str(home),
        "CHUANGWEN_TILES": "none",
        **(extra_env or {}),
    }
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("chuangwen")), "serve", "--port", str(port)]
        + ["--threads", "4"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/health", timeout=1)
                break
            except OSError:
                time.sleep(0.3)
        yield base
    finally:
        server.terminate()
        server.wait()


def bench_post(engine, url, city, home, posts, n) -> list[tuple]:
    with engine.begin() as conn:
        set_actor(conn, Actor(None, "bench"))
        user = create_user(conn, city, f"bench_inspector_{int(time.time())}", "inspector")
        token = issue_token(conn, user)
    with start_server(url, home) as base:
        rng = np.random.default_rng(3)
        times = []
        for i in range(posts + 20):
            x, y = rng.uniform(116.80, 116.99), rng.uniform(28.20, 28.37)
            body = json.dumps(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [x, y]},
                    "properties": {
                        "category": "street_vending",
                        "observed_at": "2026-11-27T20:00:00+08:00",
                    },
                }
            )
            req = urllib.request.Request(
                base + "/collections/violations/items",
                data=body.encode(),
                method="POST",
                headers={
                    "Content-Type": "application/geo+json",
                    "Authorization": f"Bearer {token}",
                },
            )
            t = time.perf_counter()
            with urllib.request.urlopen(req) as resp:
                assert resp.status == 201
                resp.read()
            if i >= 20:  # the first requests warm the pool and caches
                times.append((time.perf_counter() - t) * 1000)
    q = statistics.quantiles(times, n=100)
    p50, p95 = q[49], q[94]
    log(f"POST p50 {p50:.1f} ms, p95 {p95:.1f} ms over {len(times)}")
    return [
        ("(b) one report by HTTP POST, p50", f"{p50:.1f} ms", f"{n:,} stored", "", True),
        (
            "(b) one report by HTTP POST, p95",
            f"{p95:.1f} ms",
            f"{len(times)} requests",
            "≤ 25 ms",
            p95 <= 25,
        ),
    ]


def _http(base: str, token: str, path: str, method: str = "GET", body=None, etag=None):
    """One request; (seconds, ETag, parsed body)."""
    headers = {"Authorization": f"Bearer {token}"}
    if body is not None:
        headers["Content-Type"] = "application/merge-patch+json"
    if etag:
        headers["If-Match"] = etag
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    t = time.perf_counter()
    with urllib.request.urlopen(req) as resp:
        out = json.loads(resp.read() or b"null")
        return time.perf_counter() - t, resp.headers.get("ETag"), out


def _write_floor(engine, city: int, ids: list[int]) -> float:
    """The floor of an edit: the cases it changed written again (a character added to their
    description) with their audit and bins, nothing judged, no HTTP; rolled back. ms."""
    with engine.connect() as conn:
        set_actor(conn, Actor(None, "bench floor"))
        t = time.perf_counter()
        conn.execute(
            text(
                "UPDATE violation SET description = coalesce(description, '') || '.' "
                "WHERE city_id = :c AND id = ANY(:ids)"
            ),
            {"c": city, "ids": ids},
        )
        secs = time.perf_counter() - t
        conn.rollback()
    return secs * 1000


def _migration(filename: str):
    """A migration's module (for the SQL it holds)."""
    path = ROOT / "service" / "store" / "migrations" / "versions" / filename
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _moved(geometry: dict, dx: float) -> dict:
    """The geometry moved ``dx`` degrees east (about 20 m for 0.0002)."""
    return json.loads(
        json.dumps(
            shapely.geometry.mapping(
                shapely.affinity.translate(shapely.geometry.shape(geometry), xoff=dx)
            )
        )
    )


def bench_edits(engine, url, city, home, n, edits: int = 30) -> list[tuple]:
    """A planner's typical edits by HTTP PATCH with every case stored, each undone by a second
    PATCH (both timed): an assessment point moved about 20 m, a zone moved about 20 m, a stall
    area's hours changed. The cases under the old or new shape are judged again and only
    those whose answer changes are written (migration 0020), with their audit rows written
    in the same statement (0021); the cases written are counted in the audit log."""
    with engine.begin() as conn:
        set_actor(conn, Actor(None, "bench"))
        name = f"bench_planner_{int(time.time())}"
        token = issue_token(conn, create_user(conn, city, name, "planner"))
        ids = {
            table: list(
                conn.execute(
                    text(
                        f"SELECT id FROM {table} WHERE city_id = :c ORDER BY md5(id::text) LIMIT :k"
                    ),
                    {"c": city, "k": edits},
                ).scalars()
            )
            for table in ("assessment_point", "zone", "stall_area")
        }
    collection = {
        "assessment_point": "assessment_points",
        "zone": "zones",
        "stall_area": "stall_areas",
    }
    rows = []
    rejudge = _migration("0020_rejudge_what_changes.py")
    together = _migration("0021_rejudge_audited_together.py")
    with start_server(url, home) as base:
        for way, sqls in (
            ("before: every case under the shape rewritten", (together.DOWN, rejudge.DOWN)),
            ("only the cases whose answer changes, audited row by row", (rejudge.UP,)),
            ("only the cases whose answer changes, audited together", (together.UP,)),
        ):
            with engine.begin() as conn:
                for sql in sqls:
                    conn.execute(text(sql))
            for table, fids in ids.items():
                times, written, floors = [], [], []
                for fid in fids:
                    path = f"/collections/{collection[table]}/items/{fid}"
                    _, etag, feature = _http(base, token, path)
                    if table == "stall_area":
                        p = feature["properties"]
                        there = {"properties": {"opens_at": "06:00", "closes_at": "09:00"}}
                        back = {"properties": {k: p[k] for k in ("opens_at", "closes_at")}}
                    else:
                        there = {"geometry": _moved(feature["geometry"], 0.0002)}
                        back = {"geometry": feature["geometry"]}
                    with engine.connect() as conn:
                        before = conn.execute(text("SELECT max(id) FROM audit_log")).scalar()
                    for change in (there, back):
                        secs, etag, _ = _http(base, token, path, "PATCH", change, etag)
                        times.append(secs * 1000)
                    with engine.connect() as conn:
                        changed = list(
                            conn.execute(
                                text(
                                    "SELECT DISTINCT row_key::bigint FROM audit_log WHERE "
                                    "id > :b AND table_name = 'violation'"
                                ),
                                {"b": before},
                            ).scalars()
                        )
                    written.append(len(changed))
                    floors += [_write_floor(engine, city, changed)] * 2
                q = statistics.quantiles(times, n=20)
                f95 = statistics.quantiles(floors, n=20)[18]
                log(f"{way}: {table} p50 {q[9]:.0f} ms, p95 {q[18]:.0f} ms, written {written}")
                rows.append(
                    (
                        f"(e) edit of a {table}, p95: {way}",
                        f"{q[18]:.0f} ms",
                        f"p50 {q[9]:.0f} ms; {len(times)} PATCHes; cases changed an edit: median "
                        f"{statistics.median(written):.0f}, max {max(written):.0f}; floor "
                        f"(writing those cases alone) p95 {f95:.0f} ms",
                        "≤ 300 ms" if together.UP in sqls else "(baseline)",
                        q[18] <= 300 or together.UP not in sqls,
                    )
                )
    return rows


def bench_recompute(engine, city) -> list[tuple]:
    def layer(sql: str) -> gpd.GeoDataFrame:
        frame = gpd.read_postgis(text(sql), conn, params={"c": city}, geom_col="geom")
        return frame.to_crs(EPSG)

    with engine.connect() as conn:
        pts = layer("SELECT id, geom FROM violation WHERE city_id = :c")
        cells = layer("SELECT id, geom FROM grid_cell WHERE city_id = :c")
        zones = layer("SELECT id, geom FROM zone WHERE city_id = :c")
        aps = layer("SELECT id, radius_m, geom FROM assessment_point WHERE city_id = :c")
    t = time.perf_counter()
    in_cell = gpd.sjoin(pts, cells, predicate="within", how="left")
    in_zone = gpd.sjoin(pts, zones, predicate="within", how="left")
    tree = shapely.STRtree(pts.geometry.values)
    pairs = tree.query(
        aps.geometry.values, predicate="dwithin", distance=aps["radius_m"].to_numpy(dtype=float)
    )
    baseline = time.perf_counter() - t
    log(
        f"in-memory baseline {baseline:.1f} s ({len(in_cell)} cell rows, {len(in_zone)} zone "
        f"rows, {pairs.shape[1]} point pairs)"
    )
    # the SQL floor: every case judged by the one set-based statement, nothing written
    t = time.perf_counter()
    with engine.begin() as conn:
        judged = conn.execute(
            text(
                "SELECT count(*) FROM violation_judge_many(:c, format('SELECT id AS k, geom, "
                "category_code, observed_at FROM violation WHERE city_id = %s', :c))"
            ),
            {"c": city},
        ).scalar()
    floor = time.perf_counter() - t
    log(f"judging alone {floor:.1f} s ({judged} cases)")
    t = time.perf_counter()
    with engine.begin() as conn:
        set_actor(conn, Actor(None, "bench recompute"))
        changed = conn.execute(text("SELECT violation_rejudge(:c)"), {"c": city}).scalar()
    db = time.perf_counter() - t
    log(f"recompute in PostGIS {db:.1f} s ({changed} rows)")
    return [
        (
            "(c) recompute flags and owners",
            f"{db:.1f} s",
            f"baseline {baseline:.1f} s: {db / baseline:.1f}×; SQL floor (judging alone) "
            f"{floor:.1f} s: {db / floor:.2f}×; {changed} rewritten",
            "≤ 1.2× SQL floor",
            db <= 1.2 * floor,
        )
    ]


def postgis_geojson(url: str, city: int, count: int) -> float:
    """The baseline: the same ``count`` cases with the same properties written by PostGIS's
    own ``ST_AsGeoJSON(record)`` in one backend and sent by COPY to a client that drops
    them; features a second."""
    props = ", ".join(f'{v} AS "{k}"' for k, v in VIOLATIONS.properties.items())
    sql = (
        f"COPY (SELECT ST_AsGeoJSON(r.*, 'geom', 7) FROM (SELECT t.id, t.geom, {props} "
        f"FROM {VIOLATIONS.from_sql} WHERE t.city_id = {int(city)} ORDER BY t.id "
        f"LIMIT {int(count)}) r) TO STDOUT"
    )
    url = url.replace("postgresql+psycopg://", "postgresql://")
    t = time.perf_counter()
    with psycopg.connect(url) as conn, conn.cursor() as cur, cur.copy(sql) as out:
        k = sum(1 for _ in out)
    secs = time.perf_counter() - t
    assert k == count, (k, count)
    return count / secs


def bench_export(url, city, n, home) -> list[tuple]:
    out = []
    code = (
        "import sys, time; from pathlib import Path; from sqlalchemy import text;"
        "from service.store.db import make_engine;"
        "from service.layers.features.collections import VIOLATIONS;"
        "from service.layers.transfer import export_features;"
        "e = make_engine(sys.argv[1]); t = time.perf_counter();"
        "conn = e.connect();"
        "k = export_features(conn, VIOLATIONS, int(sys.argv[2]), Path(sys.argv[3]),"
        " limit=int(sys.argv[4]));"
        # the high-water mark of this process's own memory (ru_maxrss would carry the
        # forking parent's, which holds the whole generated file, across the exec)
        "hwm = [ln for ln in open('/proc/self/status') if ln.startswith('VmHWM')][0];"
        "print(k, time.perf_counter() - t, hwm.split()[1])"
    )
    for count in (n // 4, n // 2, n):
        path = home / f"export-{count}.geojson"
        runs, bases = [], []
        for _ in range(3):  # ours and the baseline in turn: the median of three each
            res = subprocess.run(
                [sys.executable, "-c", code, url, str(city), str(path), str(count)],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
            )
            k, secs, rss_kb = res.stdout.split()
            runs.append((int(k) / float(secs), int(rss_kb) / 1024))
            bases.append(postgis_geojson(url, city, count))
        json.loads(path.read_bytes())  # one valid document
        path.unlink()
        rate, base = statistics.median(r for r, _ in runs), statistics.median(bases)
        peak = max(m for _, m in runs)
        out.append((count, rate, peak, base))
        log(
            f"export {count}: {rate:,.0f}/s (runs {', '.join(f'{r:,.0f}' for r, _ in runs)}), "
            f"peak {peak:.0f} MB; ST_AsGeoJSON(record) {base:,.0f}/s"
        )
    flat = out[-1][2] <= out[0][2] * 1.25
    return [
        (
            f"(d) GeoJSON export, {c:,} features",
            f"{r:,.0f} features/s",
            f"peak {m:.0f} MB; ST_AsGeoJSON(record) {b:,.0f}/s: {b / r:.2f} × its time",
            "≥ 150,000/s, ≤ 1.3 ×, flat memory",
            r >= 150_000 and b / r <= 1.3 and flat,
        )
        for c, r, m, b in out
    ]


def print_table(rows, n, title: str = "Layers benchmark") -> None:
    print(f"\n{title}, {n:,} violations, {os.cpu_count()} cores\n")
    head = ("measure", "result", "detail", "target", "met")
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(4)]
    print(" | ".join(h.ljust(w) for h, w in zip(head, [*widths, 3], strict=True)))
    print("-+-".join("-" * w for w in [*widths, 3]))
    for r in rows:
        cells = [
            *(str(v).ljust(w) for v, w in zip(r[:4], widths, strict=True)),
            "yes" if r[4] else "NO",
        ]
        print(" | ".join(cells))


if __name__ == "__main__":
    main()
