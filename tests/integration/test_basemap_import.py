"""`chuangwen import-basemap` (and import-roads) on 海淀's real OSM extracts: water, waterways,
buildings and green areas kept clipped to the city, replaced wholesale, audited, drawn."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from sqlalchemy import text

from gis.webtiles import tile_of
from service.cli import main
from tests.conftest import app_on, bearer, own_database
from tests.integration.test_basemap import drawn
from tests.integration.test_cli import _script_info

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
TSINGHUA = SHARED / "haidian" / "beijing_haidian_tsinghua_2017.osm.pbf"
XUEYUANLU = SHARED / "haidian" / "beijing_haidian_xueyuanlu.osm.pbf"
FANGHE = (116.3106, 40.0124)  # 方河, a named pond in the 2017 extract


def _run(app, *args):
    return app.test_cli_runner().invoke(main, [str(a) for a in args], obj=_script_info(app))


@pytest.fixture(scope="module")
def haidian(pg_url, engine, tmp_path_factory):
    """A deployment of its own holding 海淀区 alone: (app, engine, city id)."""
    from service.store.db import make_engine

    districts = gpd.read_file(SHARED / "boundaries" / "districts_guixi_xianan_haidian.geojson")
    outline = tmp_path_factory.mktemp("haidian") / "haidian.geojson"
    districts[districts["name"] == "海淀区"].to_file(outline, driver="GeoJSON")
    with own_database(engine, pg_url, "basemap_import") as url, app_on(url, TILES="own") as app:
        added = _run(app, "city", "add", "110108", "海淀区", "--boundary", outline)
        assert added.exit_code == 0, added.output
        eng = make_engine(url)
        with eng.connect() as conn:
            city = conn.execute(text("SELECT id FROM city WHERE code = '110108'")).scalar()
        yield app, eng, city
        eng.dispose()


def _kinds(engine, city) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(
            conn.execute(
                text("SELECT kind, count(*) FROM basemap_feature WHERE city_id = :c GROUP BY 1"),
                {"c": city},
            ).all()
        )


def test_import_basemap_keeps_the_extract_s_layers_clipped_and_replaces_them(haidian, monkeypatch):
    from service.layers import basemap_import

    app, engine, city = haidian
    first = _run(app, "import-basemap", TSINGHUA)
    assert first.exit_code == 0, first.output
    kinds = _kinds(engine, city)
    assert kinds["building"] > 500 and kinds["green"] > 30
    assert kinds["water"] >= 5 and kinds["waterway"] >= 1
    line = first.output.strip().splitlines()[-1]
    assert line == (
        f"water areas {kinds['water']}, waterways {kinds['waterway']}, "
        f"buildings {kinds['building']}, green areas {kinds['green']}"
    )
    with engine.connect() as conn:
        outside, bad, named = conn.execute(
            text(
                "SELECT count(*) FILTER (WHERE NOT ST_CoveredBy(f.geom, ST_Envelope("
                "ST_Buffer(c.extent::geography, 2001)::geometry))), "
                "count(*) FILTER (WHERE NOT ST_IsValid(f.geom)), "
                "array_agg(f.name) FILTER (WHERE f.label_at IS NOT NULL) "
                "FROM basemap_feature f JOIN city c ON c.id = f.city_id WHERE c.id = :c"
            ),
            {"c": city},
        ).one()
        version = conn.execute(
            text(
                "SELECT version FROM layer_version WHERE city_id = :c AND layer = 'basemap_feature'"
            ),
            {"c": city},
        ).scalar()
    assert outside == 0 and bad == 0
    assert named == ["方河"]  # the one named lake keeps where its name goes
    monkeypatch.setattr(basemap_import, "BATCH", 100)  # the same in pieces of 100
    again = _run(app, "import-basemap", TSINGHUA, "--city", "110108")
    assert again.exit_code == 0, again.output
    assert _kinds(engine, city) == kinds  # replaced, not added to
    with engine.connect() as conn:
        assert (
            conn.execute(
                text(
                    "SELECT version FROM layer_version "
                    "WHERE city_id = :c AND layer = 'basemap_feature'"
                ),
                {"c": city},
            ).scalar()
            > version
        )
        audited = dict(
            conn.execute(
                text(
                    "SELECT action, count(*) FROM audit_log WHERE city_id = :c "
                    "AND table_name = 'basemap_feature' AND actor_name = 'cli import-basemap' "
                    "GROUP BY 1"
                ),
                {"c": city},
            ).all()
        )
    total = sum(kinds.values())
    assert audited == {"INSERT": 2 * total, "DELETE": total}


def test_a_wrong_file_is_refused_and_changes_nothing(haidian, tmp_path):
    app, engine, city = haidian
    assert _run(app, "import-basemap", TSINGHUA).exit_code == 0
    kinds = _kinds(engine, city)
    guixi = SHARED / "guixi" / "jiangxi_guixi_center.osm.pbf"
    elsewhere = _run(app, "import-basemap", guixi)
    assert elsewhere.exit_code != 0 and "jiangxi_guixi_center.osm.pbf" in elsewhere.output
    assert "lie outside the city" in elsewhere.output and "file:" in elsewhere.output
    lines = _run(
        app, "import-basemap", SHARED / "haidian" / "beijing_haidian_xueyuanlu_roads.geojson"
    )
    assert lines.exit_code != 0 and "OpenStreetMap" in lines.output
    fake = tmp_path / "fake.osm.pbf"
    fake.write_bytes(b"<OGRVRTDataSource/>")
    broken = _run(app, "import-basemap", fake)
    assert broken.exit_code != 0 and "not an OpenStreetMap file" in broken.output
    assert "Traceback" not in broken.output + lines.output + elsewhere.output
    assert _kinds(engine, city) == kinds


def test_import_roads_takes_the_base_map_from_the_same_file(haidian):
    app, engine, city = haidian
    roads = _run(app, "import-roads", XUEYUANLU)
    assert roads.exit_code == 0, roads.output
    kinds = _kinds(engine, city)
    assert "base map: water areas 1, waterways 1, buildings" in roads.output
    assert kinds["building"] > 200 and kinds["waterway"] == 1  # 小月河
    lines = _run(
        app, "import-roads", SHARED / "haidian" / "beijing_haidian_xueyuanlu_roads.geojson"
    )
    assert lines.exit_code == 0, lines.output
    assert "base map: kept as it was (`import-basemap FILE.osm.pbf` takes them)" in lines.output
    assert _kinds(engine, city) == kinds  # a line layer leaves the base map as it was


def test_the_city_s_tiles_draw_its_buildings_and_name_its_lake(haidian):
    app, engine, city = haidian
    assert _run(app, "import-roads", TSINGHUA).exit_code == 0
    token = _run(app, "user", "add", "hd_planner", "--role", "planner").output.split()[-1]
    client = app.test_client()
    x, y = tile_of(*FANGHE, 18)
    lake = client.get(f"/tiles/basemap/18/{x}/{y}.png", headers=bearer(token))
    assert lake.status_code == 200
    assert drawn(lake)["water"] >= 1 and drawn(lake)["water_labels"] >= 1, drawn(lake)
    counts = [
        drawn(client.get(f"/tiles/basemap/16/{x}/{y}.png", headers=bearer(token)))
        for x, y in ((53941, 24811), (53942, 24811), (53943, 24811), (53942, 24808))
    ]  # 清华 and 五道口, where the extract's buildings are densest
    assert sum(c["buildings"] for c in counts) > 150, counts
    assert sum(c["streets"] for c in counts) > 20 and sum(c["labels"] for c in counts) > 0
