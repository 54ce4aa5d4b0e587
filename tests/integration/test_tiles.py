"""Vector tiles of violations and grid cells, decoded and checked against the tables."""

from collections import Counter
from unittest.mock import patch

import mapbox_vector_tile
import pytest
from sqlalchemy import text

from gis.webtiles import tile_of, tiles_over
from service.layers import tiles
from service.layers.problems import OPEN_STATUSES
from tests.conftest import bearer

MVT = "application/vnd.mapbox-vector-tile"


def _get(client, token, path):
    resp = client.get(path, headers=bearer(token))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.mimetype == MVT
    return mapbox_vector_tile.decode(resp.data)


def _city_tiles(engine, city_id, z) -> list[str]:
    """The paths of the tiles that hold the demo city's cases at zoom z."""
    with engine.connect() as conn:
        w, s, e, n = conn.execute(
            text(
                "SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM (SELECT "
                "ST_Extent(geom) b FROM violation WHERE city_id = :c) q"
            ),
            {"c": city_id},
        ).one()
    return [f"/tiles/violations/{z}/{x}/{y}.pbf" for x, y in tiles_over(w, s, e, n, z)]


def _city_sums(client, token, paths, query=""):
    sums = [_sums(_get(client, token, p + query)) for p in paths]
    return tuple(map(sum, zip(*sums, strict=True)))


def _version(engine, city_id, x, y, z=15):
    """The cache version of a zoom-15 violations tile, as the tile service reads it."""
    bx0, bx1, by0, by1 = tiles._bins(z, x, y, rim=1)
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT coalesce(max(change), 0) FROM violation_bin_change WHERE city_id = :c "
                "AND bx BETWEEN :a AND :b AND by BETWEEN :d AND :e"
            ),
            {"c": city_id, "a": bx0, "b": bx1, "d": by0, "e": by1},
        ).scalar()


def _counts(engine, city_id, where="true", params=None):
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT count(*), count(*) FILTER (WHERE status = ANY(:open)) FROM violation "
                f"WHERE city_id = :c AND {where}"
            ),
            {"c": city_id, "open": list(OPEN_STATUSES), **(params or {})},
        ).one()


def _sums(tile):
    feats = tile.get("violations", {}).get("features", [])
    return (
        sum(f["properties"]["count"] for f in feats),
        sum(f["properties"]["open"] for f in feats),
    )


def test_low_zoom_tiles_count_every_case_from_the_bins(client, tokens, engine, demo):
    token = tokens["planner"][1]
    paths = _city_tiles(engine, demo[0], 9)
    total, open_ = _counts(engine, demo[0])
    assert _city_sums(client, token, paths) == (total, open_)
    # one point per 2^4 × 2^4 bins of about 150 m at zoom 9 (32 × 32 a tile)
    with engine.connect() as conn:
        cells = conn.execute(
            text(
                "SELECT count(DISTINCT (bx / 16, by / 16)) FROM violation_bin "
                "WHERE city_id = :c AND n > 0"
            ),
            {"c": demo[0]},
        ).scalar()
    points = sum(len(_get(client, token, p)["violations"]["features"]) for p in paths)
    assert points == cells and points > 3
    # a filter counts only what it names
    filtered = _city_sums(client, token, paths, "?status=resolved,closed")
    n, _ = _counts(engine, demo[0], "status IN ('resolved', 'closed')")
    assert filtered == (n, 0) and 0 < n < total


def test_high_zoom_tiles_carry_the_cases(client, tokens, engine, demo):
    with engine.connect() as conn:
        v = conn.execute(
            text(
                "SELECT id, case_no, status, category_code, ST_X(geom) x, ST_Y(geom) y "
                "FROM violation WHERE city_id = :c ORDER BY id LIMIT 1"
            ),
            {"c": demo[0]},
        ).one()
    x, y = tile_of(v.x, v.y, 16)
    tile = _get(client, tokens["planner"][1], f"/tiles/violations/16/{x}/{y}.pbf")
    found = {f["id"]: f["properties"] for f in tile["violations"]["features"]}
    assert (found[v.id]["status"], found[v.id]["category"]) == (v.status, v.category_code)
    cells = _get(client, tokens["planner"][1], f"/tiles/grid_cells/16/{x}/{y}.pbf")
    codes = [f["properties"]["code"] for f in cells["grid_cells"]["features"]]
    assert codes and all(len(c) == 15 for c in codes)


def _zoom_13(client, token, paths, query=""):
    """The cases (id → properties) and the sum of the counts over the tiles at zoom 13."""
    cases, counted = {}, 0
    for path in paths:
        for f in _get(client, token, path + query).get("violations", {}).get("features", []):
            if "count" in f["properties"]:
                counted += f["properties"]["count"]
            else:
                cases[f["id"]] = f["properties"]
    return cases, counted


def test_zoom_13_draws_crowded_bins_as_counts_and_the_others_cases(client, tokens, engine, demo):
    token, city = tokens["planner"][1], demo[0]
    with engine.connect() as conn:
        bins = conn.execute(
            text(
                "SELECT bx, by, sum(n) FROM violation_bin WHERE city_id = :c GROUP BY 1, 2 "
                "HAVING sum(n) > 0 ORDER BY 3"
            ),
            {"c": city},
        ).all()
        by_bin = conn.execute(
            text(
                "SELECT id, status, category_code, (violation_bin_of(geom_3857)).* "
                "FROM violation WHERE city_id = :c"
            ),
            {"c": city},
        ).all()
    most = bins[len(bins) // 2][2]  # half the bins drawn as counts, half as cases
    crowded = {(bx, by) for bx, by, n in bins if n > most}
    assert crowded and len(crowded) < len(bins)
    paths = _city_tiles(engine, city, 13)
    with patch.object(tiles, "CASES_A_BIN", most), patch.object(tiles, "CACHE", tiles._Cache()):
        cases, counted = _zoom_13(client, token, paths)
        done, done_counted = _zoom_13(client, token, paths, "?status=resolved,closed")
    few = {v.id: v for v in by_bin if (v.bx, v.by) not in crowded}
    assert cases.keys() == few.keys() and counted == len(by_bin) - len(few)
    assert all(cases[k]["status"] == v.status for k, v in few.items())
    # a filter the bins know: the same split, by how many cases of what it names a bin has
    named = [v for v in by_bin if v.status in ("resolved", "closed")]
    per_bin = Counter((v.bx, v.by) for v in named)
    assert done.keys() == {v.id for v in named if per_bin[v.bx, v.by] <= most}
    assert len(done) + done_counted == len(named) > len(done) > 0


def test_a_new_case_shows_at_once_and_the_bins_stay_true(client, tokens, engine, demo):
    token = tokens["inspector"][1]
    paths = _city_tiles(engine, demo[0], 9)
    before = _city_sums(client, token, paths)  # now cached
    with engine.connect() as conn:
        lon, lat = conn.execute(
            text("SELECT ST_X(geom), ST_Y(geom) FROM violation WHERE city_id = :c LIMIT 1"),
            {"c": demo[0]},
        ).one()
    far = tile_of(lon + 0.02, lat + 0.02, 15)
    here, there = (_version(engine, demo[0], *t) for t in (tile_of(lon, lat, 15), far))
    resp = client.post(
        "/collections/violations/items",
        json={
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"category": "graffiti", "observed_at": "2026-11-27T21:00:00+08:00"},
        },
        headers=bearer(token),
    )
    assert resp.status_code == 201
    fid = resp.get_json()["id"]
    # only the tiles the case shows in get a new version; a tile elsewhere keeps its cache
    assert _version(engine, demo[0], *tile_of(lon, lat, 15)) > here
    assert _version(engine, demo[0], *far) == there
    try:
        assert _city_sums(client, token, paths) == (before[0] + 1, before[1] + 1)
        # a status change moves the case between bins' statuses, not out of the map
        etag = client.get(f"/collections/violations/items/{fid}", headers=bearer(token)).headers[
            "ETag"
        ]
        resp = client.patch(
            f"/collections/violations/items/{fid}",
            json={"properties": {"status": "resolved"}},
            headers={**bearer(tokens["leader"][1]), "If-Match": etag},
            content_type="application/merge-patch+json",
        )
        assert resp.status_code == 200, resp.get_data(as_text=True)
        assert _city_sums(client, token, paths) == (before[0] + 1, before[1])
    finally:
        etag = client.get(f"/collections/violations/items/{fid}", headers=bearer(token)).headers[
            "ETag"
        ]
        resp = client.delete(
            f"/collections/violations/items/{fid}",
            headers={**bearer(tokens["leader"][1]), "If-Match": etag},
        )
        assert resp.status_code == 204, resp.get_data(as_text=True)
    assert _city_sums(client, token, paths) == before
    with engine.connect() as conn:
        wrong = conn.execute(
            text(
                "SELECT count(*) FROM (SELECT status, category_code, count(*) n FROM violation "
                "WHERE city_id = :c GROUP BY 1, 2) v FULL JOIN (SELECT status, category_code, "
                "sum(n) n FROM violation_bin WHERE city_id = :c GROUP BY 1, 2 "
                "HAVING sum(n) <> 0) b "
                "USING (status, category_code) WHERE v.n IS DISTINCT FROM b.n"
            ),
            {"c": demo[0]},
        ).scalar()
    assert wrong == 0


def test_a_unit_sees_only_its_own_cases(client, tokens, engine, demo):
    unit_id = tokens["unit"][0].unit_id
    paths = _city_tiles(engine, demo[0], 9)
    mine = _counts(
        engine,
        demo[0],
        "unit_id IN (SELECT id FROM unit WHERE id = :u OR parent_id = :u)",
        {"u": unit_id},
    )
    assert (
        _city_sums(client, tokens["unit"][1], paths) == mine
        and 0 < mine[0] < _counts(engine, demo[0])[0]
    )


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        ("/tiles/violations/23/0/0.pbf", 400, "z"),
        ("/tiles/violations/3/8/0.pbf", 400, "x"),
        ("/tiles/violations/3/0/9.pbf", 400, "y"),
        ("/tiles/violations/3/0/0.pbf?colour=red", 400, "colour"),
        ("/tiles/grid_cells/3/0/0.pbf?status=open", 400, "status"),
        ("/tiles/zones/3/0/0.pbf", 404, None),
    ],
)
def test_bad_tile_addresses_are_named(client, tokens, path, status, field):
    resp = client.get(path, headers=bearer(tokens["planner"][1]))
    assert resp.status_code == status
    assert resp.mimetype == "application/problem+json"
    if field:
        assert [e["field"] for e in resp.get_json()["errors"]] == [field]


def test_the_warmer_makes_tiles_ahead_and_again_only_where_cases_changed(
    app, client, tokens, engine, demo
):
    city = demo[0]
    with app.app_context():
        tiles.warm(city)  # whatever earlier tests left, now all made
        assert tiles.warm(city) == 0  # nothing changed: nothing to make
        with engine.connect() as conn:
            lon, lat = conn.execute(
                text("SELECT ST_X(geom), ST_Y(geom) FROM violation WHERE city_id = :c LIMIT 1"),
                {"c": city},
            ).one()
            z13 = conn.execute(
                text(
                    "SELECT count(DISTINCT (bx / 32, by / 32)) FROM violation_bin "
                    "WHERE city_id = :c AND n > 0"
                ),
                {"c": city},
            ).scalar()
        resp = client.post(
            "/collections/violations/items",
            json={
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": {"category": "graffiti"},
            },
            headers=bearer(tokens["inspector"][1]),
        )
        assert resp.status_code == 201
        # zoom 13: only the tiles whose bins (and rim) hold the new case are made again
        remade = tiles.warm(city, zooms=(13,))
        assert 1 <= remade <= 4 and (z13 < 5 or remade < z13)
        # a tile made ahead is what the map then gets
        x, y = tile_of(lon, lat, 13)
        with engine.connect() as conn:
            made, again = tiles.serve(conn, "violations", city, 13, x, y, {}, None)
        assert again is False
        assert mapbox_vector_tile.decode(made) == _get(
            client, tokens["planner"][1], f"/tiles/violations/13/{x}/{y}.pbf"
        )
