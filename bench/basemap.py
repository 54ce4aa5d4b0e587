"""Benchmark of the own base map on the demo city: importing its features, drawing its tiles.

    .venv/bin/python bench/basemap.py [--home /tmp/chuangwen-bench-basemap] [--per-zoom 12]

Starts a cluster of its own under --home and loads the Guixi demo (idempotent). Then

- the import of water, waterways, buildings and green areas (``chuangwen import-basemap``
  without the command's start-up) from the shared data's OSM extracts: Guixi into the demo
  city, the two 海淀 extracts into a city made from 海淀区's outline; reading the file
  (pyosmium) and storing it (clip, largest circle inside named water, audit), best of 3;
- the --per-zoom tiles nearest the town centre at each zoom from 14 to 17 (48 by default)
  through ``service.layers.basemap.serve``, as the tile route does: each first with the cache
  emptied (first render: the PostGIS query and the drawing), then again (cached: the version
  query and the cache). Prints p50/p95/max of both, per zoom and over all.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.layers import running_cluster  # noqa: E402
from gis.webtiles import tile_of  # noqa: E402
from service.store.db import Actor, set_actor  # noqa: E402

CENTRE = (117.215, 28.29)
ZOOMS = (14, 15, 16, 17)
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
EXTRACTS = [
    ("guixi/jiangxi_guixi_center.osm.pbf", "360681"),
    ("haidian/beijing_haidian_xueyuanlu.osm.pbf", "110108"),
    ("haidian/beijing_haidian_tsinghua_2017.osm.pbf", "110108"),
]


def bench_import(engine) -> None:
    """Read and store each extract three times; the best of each."""
    import geopandas as gpd
    import shapely
    from sqlalchemy import text

    from service.layers import basemap_import
    from service.layers.cities import add_city

    with engine.begin() as conn:
        set_actor(conn, Actor(None, "bench"))
        if conn.execute(text("SELECT 1 FROM city WHERE code = '110108'")).first() is None:
            d = gpd.read_file(SHARED / "boundaries" / "districts_guixi_xianan_haidian.geojson")
            add_city(conn, "110108", "海淀区", shapely.union_all(d[d.name == "海淀区"].geometry))
    print("\nImport (best of 3)\n")
    print(f"{'extract':45s} | {'size':>7s} | {'read':>7s} | {'store':>7s} | kept")
    for name, code in EXTRACTS:
        path = SHARED / name
        reads, stores = [], []
        for _ in range(3):
            t0 = time.perf_counter()
            frame = basemap_import.read_osm(path)
            t1 = time.perf_counter()
            with engine.begin() as conn:
                set_actor(conn, Actor(None, "bench"))
                city = conn.execute(text("SELECT id FROM city WHERE code = :c"), {"c": code})
                kept = basemap_import.store(conn, city.scalar(), frame, "osm", path.name)
            t2 = time.perf_counter()
            reads.append(t1 - t0)
            stores.append(t2 - t1)
        print(
            f"{name:45s} | {path.stat().st_size / 1024:5.0f}kB | {min(reads) * 1000:5.0f}ms | "
            f"{min(stores) * 1000:5.0f}ms | {basemap_import.summary(kept)}"
        )


def tiles_near(lon: float, lat: float, z: int, n: int) -> list[tuple[int, int]]:
    """The ``n`` zoom-z tiles whose centres are nearest the point's tile."""
    cx, cy = tile_of(lon, lat, z)
    r = math.isqrt(n) + 1
    around = [(cx + dx, cy + dy) for dx in range(-r, r + 1) for dy in range(-r, r + 1)]
    return sorted(around, key=lambda t: ((t[0] - cx) ** 2 + (t[1] - cy) ** 2, t))[:n]


def _pct(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[q - 1]
        if len(values) > 1
        else values[0]
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", default="/tmp/chuangwen-bench-basemap")
    ap.add_argument("--per-zoom", type=int, default=12)
    ap.add_argument("--rounds", type=int, default=3, help="first renders of each tile")
    ap.add_argument("--no-import", action="store_true", help="tiles only")
    args = ap.parse_args()
    home = Path(args.home).resolve()
    with running_cluster(home) as (cluster, engine):
        from service.demo.build import build
        from service.demo.load import load
        from service.layers import basemap
        from service.layers.tiles import _Cache

        with engine.begin() as conn:
            set_actor(conn, Actor(None, "bench"))
            city, added, _ = load(conn, build(dt.datetime.now(dt.UTC)))
        if not args.no_import:
            bench_import(engine)
        tiles = [(z, x, y) for z in ZOOMS for x, y in tiles_near(*CENTRE, z, args.per_zoom)]
        first: dict[int, list[float]] = {z: [] for z in ZOOMS}
        cached: dict[int, list[float]] = {z: [] for z in ZOOMS}
        sizes, blank = [], 0
        with engine.connect() as conn:  # warm the font, the connection and the plans
            basemap.serve(conn, city, *tiles[0])
        for _ in range(args.rounds):
            for z, x, y in tiles:
                basemap.CACHE = _Cache(64 * 1024 * 1024)  # nothing drawn yet
                with engine.connect() as conn:
                    t0 = time.perf_counter()
                    out = basemap.serve(conn, city, z, x, y)
                    t1 = time.perf_counter()
                    basemap.serve(conn, city, z, x, y)
                    t2 = time.perf_counter()
                first[z].append((t1 - t0) * 1000)
                cached[z].append((t2 - t1) * 1000)
                sizes.append(len(out[0]))
                blank += len(out[0]) < 200
        print(
            f"\nBase map tiles, demo city, {len(tiles)} tiles z14–17 "
            f"({blank // args.rounds} blank), {args.rounds} rounds\n"
        )
        print(
            f"{'zoom':6s} | {'first p50':>9s} | {'first p95':>9s} | {'max':>7s} | "
            f"{'cached p50':>10s} | {'cached p95':>10s}"
        )
        rows = [(str(z), first[z], cached[z]) for z in ZOOMS]
        rows.append(("all", sum(first.values(), []), sum(cached.values(), [])))
        for name, f, c in rows:
            print(
                f"{name:6s} | {_pct(f, 50):7.1f}ms | {_pct(f, 95):7.1f}ms | {max(f):5.1f}ms | "
                f"{_pct(c, 50):8.2f}ms | {_pct(c, 95):8.2f}ms"
            )
        print(
            f"\nPNG sizes: median {statistics.median(sizes) / 1024:.1f} kB, "
            f"max {max(sizes) / 1024:.1f} kB"
        )
        engine.dispose()


if __name__ == "__main__":
    main()
