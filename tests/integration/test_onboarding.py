"""A city that is not the demo sets itself up with the documented commands: from its boundary,
its areas in one file, its points, its streets; in China and in a UTM city elsewhere."""

from __future__ import annotations

import io
import json
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, box
from sqlalchemy import text

from service.cli import main
from tests.conftest import app_on, own_database
from tests.integration.test_cli import _script_info

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


def _run(app, *args):
    result = app.test_cli_runner().invoke(main, [str(a) for a in args], obj=_script_info(app))
    return result


@pytest.fixture(scope="module")
def onboarding(pg_url, engine):
    """An empty deployment of its own (no demo city): (app, engine)."""
    from service.store.db import make_engine

    with own_database(engine, pg_url, "onboarding") as url, app_on(url) as app:
        eng = make_engine(url)
        yield app, eng
        eng.dispose()


@pytest.fixture(scope="module")
def haidian_boundary(tmp_path_factory):
    districts = gpd.read_file(SHARED / "boundaries" / "districts_guixi_xianan_haidian.geojson")
    assert districts.crs.to_epsg() == 4490  # CGCS2000, as Chinese sources give it
    path = tmp_path_factory.mktemp("haidian") / "haidian.geojson"
    districts[districts["name"] == "海淀区"].to_file(path, driver="GeoJSON")
    return path


def _areas_file(path: Path, extent) -> Path:
    """A street office and two communities in one file, children first."""
    minx, miny, maxx, maxy = extent
    mid = (minx + maxx) / 2
    rows = [
        ("110108001001", "community", "学院路东社区", "110108001", box(mid, miny, maxx, maxy)),
        ("110108001002", "community", "学院路西社区", "110108001", box(minx, miny, mid, maxy)),
        ("110108001", "street", "学院路街道", "110108", box(minx, miny, maxx, maxy)),
    ]
    frame = gpd.GeoDataFrame(
        [{"code": c, "level": lv, "name": n, "parent_code": p} for c, lv, n, p, _ in rows],
        geometry=[g for *_, g in rows],
        crs=4326,
    )
    frame.to_file(path, driver="GeoJSON")
    return path


def test_haidian_sets_itself_up_and_plans_a_round(onboarding, haidian_boundary, tmp_path):
    app, engine = onboarding
    added = _run(app, "city", "add", "110108", "海淀区", "--boundary", haidian_boundary)
    assert added.exit_code == 0, added.output
    assert added.output.strip().splitlines()[-1] == "110108"
    with engine.connect() as conn:
        city = conn.execute(
            text(
                "SELECT id, crs_epsg, ST_XMin(extent) AS x, ST_YMin(extent) AS y "
                "FROM city WHERE code = '110108'"
            )
        ).one()
        assert city.crs_epsg == 4548  # CGCS2000 / 3-degree Gauss-Kruger CM 117E
        assert 115.9 < city.x < 116.4 and 39.8 < city.y < 40.1
        counts = conn.execute(
            text(
                "SELECT (SELECT count(*) FROM violation_category WHERE city_id = :c), "
                "(SELECT count(*) FROM assessment_point_category WHERE city_id = :c), "
                "(SELECT count(*) FROM admin_area WHERE city_id = :c AND code = '110108')"
            ),
            {"c": city.id},
        ).one()
    assert counts[0] > 10 and counts[1] > 10 and counts[2] == 1
    again = _run(app, "city", "add", "110108", "海淀区", "--boundary", haidian_boundary)
    assert again.exit_code != 0 and "code:" in again.output

    # the areas of the 学院路 extract, street office and communities in one file, any order
    pois = gpd.read_file(SHARED / "haidian" / "beijing_haidian_xueyuanlu_pois.geojson")
    areas = _areas_file(tmp_path / "areas.geojson", pois.total_bounds)
    imported = _run(app, "import", "areas", areas, "--city", "110108")
    assert imported.exit_code == 0, imported.output
    with engine.connect() as conn:
        parents = dict(
            conn.execute(
                text(
                    "SELECT a.code, p.code FROM admin_area a JOIN admin_area p ON p.city_id = "
                    "a.city_id AND p.id = a.parent_id WHERE a.city_id = :c"
                ),
                {"c": city.id},
            ).all()
        )
    assert parents == {
        "110108001": "110108",
        "110108001001": "110108001",
        "110108001002": "110108001",
    }

    # units and persons from XLSX with Chinese headers, as the office keeps them
    units = tmp_path / "units.xlsx"
    pd.DataFrame(
        {
            "单位编码": ["XYL-JD", "XYL-E", "XYL-W", "CGJ"],
            "单位名称": ["学院路街道办事处", "学院路东社区居委会", "学院路西社区居委会", "城管局"],
            "类型": ["街道", "社区", "社区", "部门"],
            "上级单位编码": [None, "XYL-JD", "XYL-JD", None],
            "所属区划代码": ["110108001", "110108001001", "110108001002", None],
            "联系电话": ["010-1", None, None, "010-2"],
        }
    ).to_excel(units, index=False)
    out = _run(app, "import", "units", units, "--city", "110108")
    assert out.exit_code == 0, out.output
    persons = tmp_path / "persons.xlsx"
    pd.DataFrame(
        {
            "姓名": ["王一", "李二", "赵三"],
            "单位编码": ["XYL-JD", "XYL-E", "XYL-W"],
            "职责": ["第一责任人", "直接责任人", "网格员"],
        }
    ).to_excel(persons, index=False)
    out = _run(app, "import", "persons", persons, "--city", "110108")
    assert out.exit_code == 0, out.output
    with engine.connect() as conn:
        kinds = dict(
            conn.execute(
                text("SELECT code, kind FROM unit WHERE city_id = :c AND code LIKE 'XYL%'"),
                {"c": city.id},
            ).all()
        )
        roles = set(
            conn.execute(
                text("SELECT title FROM person WHERE city_id = :c"), {"c": city.id}
            ).scalars()
        )
    assert kinds == {"XYL-JD": "territorial", "XYL-E": "territorial", "XYL-W": "territorial"}
    assert roles == {"第一责任人", "直接责任人", "网格员"}
    client = app.test_client()

    # assessment points from a sheet with Chinese headers and labels; a point without a code
    named = pois[pois["name"].notna() & (pois.geom_type == "Point")].head(12)
    sheet = tmp_path / "points.xlsx"
    rows = pd.DataFrame(
        {
            "点位编码": [f"HD{i:03d}" if i else None for i in range(len(named))],
            "点位名称": list(named["name"]),
            "点位类别": [
                "学校及未成年人活动场所" if i % 2 else "school" for i in range(len(named))
            ],
            "经度": [round(g.x, 7) for g in named.geometry],
            "纬度": [round(g.y, 7) for g in named.geometry],
        }
    )
    wrong = tmp_path / "wrong.xlsx"
    rows.assign(点位类别="菜市场").head(1).to_excel(wrong, index=False)
    refused = _run(app, "import", "assessment_points", wrong, "--city", "110108")
    assert refused.exit_code != 0 and "farmers_market (农贸市场)" in refused.output
    rows.to_excel(sheet, index=False)
    out = _run(app, "import", "assessment_points", sheet, "--city", "110108")
    assert out.exit_code == 0, out.output
    with engine.connect() as conn:
        points = dict(
            conn.execute(
                text("SELECT code, category_code FROM assessment_point WHERE city_id = :c"),
                {"c": city.id},
            ).all()
        )
    assert len(points) == len(named) and set(points.values()) == {"school"}
    assert "P00001" in points  # the point without a code got one

    # zones of the two communities, the grid, a unit user
    zones = gpd.GeoDataFrame(
        {
            "code": ["Z-E", "Z-W"],
            "name": ["学院路东社区责任区", "学院路西社区责任区"],
            "kind": ["grid", "grid"],
            "unit": ["XYL-E", "XYL-W"],
        },
        geometry=list(gpd.read_file(areas).sort_values("code").geometry[:2]),
        crs=4326,
    )
    zones_file = tmp_path / "zones.geojson"
    zones.to_file(zones_file, driver="GeoJSON")
    assert _run(app, "import", "zones", zones_file, "--city", "110108").exit_code == 0
    grid = _run(app, "grid", "110108001", "--city", "110108")
    assert grid.exit_code == 0, grid.output
    unit_user = _run(
        app, "user", "add", "hd_east", "--role", "unit", "--unit", "XYL-E", "--city", "110108"
    )
    assert unit_user.exit_code == 0, unit_user.output
    inspector = _run(app, "user", "add", "hd_inspector", "--role", "inspector", "--city", "110108")
    token = inspector.output.strip().splitlines()[-1]
    east = box(*gpd.read_file(areas).sort_values("code").geometry.iloc[0].bounds).centroid
    report = client.post(
        "/api/reports",
        data={"category": "graffiti", "lon": f"{east.x:.6f}", "lat": f"{east.y:.6f}"},
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )
    assert report.status_code == 201, report.get_data(as_text=True)
    case = report.get_json()["properties"]
    assert case["unit"] == "XYL-E" and case["zone_code"] == "Z-E" and case["grid_cell_code"]
    assert case["department"] and case["due_at"]
    east_token = unit_user.output.strip().splitlines()[-1]
    seen = client.get(
        "/collections/violations/items", headers={"Authorization": f"Bearer {east_token}"}
    ).get_json()
    assert [f["properties"]["case_no"] for f in seen["features"]] == [case["case_no"]]
    template = client.get("/api/templates/units.xlsx", headers={"Authorization": f"Bearer {token}"})
    assert template.status_code == 200
    header = [c.value for c in next(openpyxl.load_workbook(io.BytesIO(template.data)).active.rows)]
    assert header[:3] == ["单位编码", "单位名称", "类型"]

    # units and persons through the features API: items without a geometry
    planner = _run(app, "user", "add", "hd_planner", "--role", "planner", "--city", "110108")
    ptoken = {"Authorization": f"Bearer {planner.output.strip().splitlines()[-1]}"}
    made = client.post(
        "/collections/units/items",
        json={
            "type": "Feature",
            "geometry": None,
            "properties": {"code": "XYL-CO", "name": "某物业公司", "kind": "company"},
        },
        headers=ptoken,
    )
    assert made.status_code == 201, made.get_data(as_text=True)
    unit_item = made.get_json()
    assert unit_item["geometry"] is None and unit_item["properties"]["kind"] == "company"
    with_shape = client.post(
        "/collections/persons/items",
        json={
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [116.35, 39.99]},
            "properties": {"name": "钱四", "unit_code": "XYL-CO"},
        },
        headers=ptoken,
    )
    assert with_shape.status_code == 422
    assert with_shape.get_json()["errors"][0]["field"] == "geometry"
    listed = client.get("/collections/persons/items?unit_code=XYL-E", headers=ptoken).get_json()
    assert [f["properties"]["name"] for f in listed["features"]] == ["李二"]
    renamed = client.patch(
        f"/collections/units/items/{unit_item['id']}",
        json={"properties": {"name": "某物业服务公司"}},
        headers={**ptoken, "If-Match": made.headers["ETag"]},
    )
    assert renamed.status_code == 200 and renamed.get_json()["properties"]["version"] == 2

    # streets from the extract, a leader, a round
    pbf = SHARED / "haidian" / "beijing_haidian_xueyuanlu.osm.pbf"
    roads = _run(app, "import-roads", pbf, "--city", "110108")
    assert roads.exit_code == 0, roads.output
    assert "base map: water areas 1, waterways 1, buildings 257, green areas 17" in roads.output
    leader = _run(app, "user", "add", "hd_leader", "--role", "leader", "--city", "110108")
    assert leader.exit_code == 0, leader.output
    centre = named.geometry.union_all().centroid
    plan = _run(
        app, "plan", "--date", "2026-12-05", "--from", "19:00", "--to", "21:00",
        "--depot", f"{centre.x:.6f},{centre.y:.6f}", "--mode", "walk", "--team", "hd_leader",
        "--as", "hd_leader", "--city", "110108",
    )  # fmt: skip
    assert plan.exit_code == 0, plan.output
    body = json.loads(plan.output[plan.output.index("{") :])
    assert body["stops"] and all(s["point_id"] for s in body["stops"])
    assert not any("straight lines" in n for n in body["notes"])
    listed = _run(app, "city", "list")
    assert "110108\t海淀区\tEPSG:4548" in listed.output


def test_a_city_outside_china_measures_in_utm_and_plans_on_its_streets(onboarding, tmp_path):
    app, engine = onboarding
    # a square of Berlin-Mitte with a 5 × 5 street grid
    x0, y0, step = 13.40, 52.51, 0.004
    outline = tmp_path / "mitte.geojson"
    gpd.GeoDataFrame(
        {"name": ["Mitte"]}, geometry=[box(x0, y0, x0 + 5 * step, y0 + 5 * step)], crs=4326
    ).to_file(outline, driver="GeoJSON")
    lines = [LineString([(x0 + i * step, y0), (x0 + i * step, y0 + 5 * step)]) for i in range(6)]
    lines += [LineString([(x0, y0 + i * step), (x0 + 5 * step, y0 + i * step)]) for i in range(6)]
    streets = tmp_path / "streets.geojson"
    gpd.GeoDataFrame(
        {"highway": ["residential"] * len(lines), "name": [f"Str {i}" for i in range(len(lines))]},
        geometry=lines,
        crs=4326,
    ).to_file(streets, driver="GeoJSON")
    added = _run(app, "city", "add", "BER01", "Berlin-Mitte", "--boundary", outline,
                 "--timezone", "Europe/Berlin")  # fmt: skip
    assert added.exit_code == 0, added.output
    with engine.connect() as conn:
        assert (
            conn.execute(text("SELECT crs_epsg FROM city WHERE code = 'BER01'")).scalar() == 32633
        )
    # a street file of another place is refused, naming the file and the city's extent
    elsewhere = tmp_path / "elsewhere.geojson"
    gpd.GeoDataFrame(
        {"highway": ["primary"]}, geometry=[LineString([(2.35, 48.85), (2.36, 48.86)])], crs=4326
    ).to_file(elsewhere, driver="GeoJSON")
    refused = _run(app, "import-roads", elsewhere, "--city", "BER01")
    assert refused.exit_code != 0 and "elsewhere.geojson" in refused.output
    assert "file:" in refused.output and "Traceback" not in refused.output
    not_a_street_file = tmp_path / "streets.gpkg"
    not_a_street_file.write_text("<OGRVRTDataSource/>")
    bad = _run(app, "import-roads", not_a_street_file, "--city", "BER01")
    assert bad.exit_code != 0 and "file:" in bad.output and "Traceback" not in bad.output
    assert _run(app, "import-roads", streets, "--city", "BER01").exit_code == 0
    points = tmp_path / "points.csv"
    points.write_text(
        "code,name,category,lon,lat\n"
        + "".join(
            f"B{i},Punkt {i},school,{x0 + (i % 5 + 0.5) * step:.6f},"
            f"{y0 + (i // 5 + 0.1) * step:.6f}\n"
            for i in range(10)
        )
    )
    imported = _run(app, "import", "assessment_points", points, "--city", "BER01")
    assert imported.exit_code == 0, imported.output
    assert (
        _run(app, "user", "add", "ber_leader", "--role", "leader", "--city", "BER01").exit_code == 0
    )
    plan = _run(
        app, "plan", "--date", "2026-12-05", "--from", "20:00", "--to", "22:00",
        "--depot", f"{x0 + step:.6f},{y0 + step:.6f}", "--mode", "walk", "--team", "ber_leader",
        "--as", "ber_leader", "--city", "BER01",
    )  # fmt: skip
    assert plan.exit_code == 0, plan.output
    body = json.loads(plan.output[plan.output.index("{") :])
    # how many of the ten points a night takes is drawn at random (unannounced rounds):
    # at least one, each one of the city's points, reached along its streets
    assert body["stops"] and {s["code"] for s in body["stops"]} <= {f"B{i}" for i in range(10)}
    assert body["distance_m"] > 0
    path = shapely.geometry.shape(body["geometry"])
    assert path.length > 0 and box(x0, y0, x0 + 5 * step, y0 + 5 * step).buffer(0.01).contains(path)


def test_a_boundary_in_gauss_kruger_or_gcj02_gives_the_same_city(onboarding, tmp_path):
    from gis.chinacrs import wgs84_to_gcj02

    app, engine = onboarding
    outline = box(117.20, 28.27, 117.23, 28.30)
    gk = tmp_path / "gk.gpkg"
    gpd.GeoDataFrame({"n": [1]}, geometry=[outline], crs=4326).to_crs(4548).to_file(gk)
    x, y = wgs84_to_gcj02(*[list(v) for v in outline.exterior.xy])
    gcj = tmp_path / "gcj.geojson"
    gpd.GeoDataFrame(
        {"n": [1]}, geometry=[shapely.Polygon(list(zip(x, y, strict=True)))], crs=4326
    ).to_file(gcj, driver="GeoJSON")
    assert _run(app, "city", "add", "GK0001", "高斯", "--boundary", gk).exit_code == 0
    out = _run(app, "city", "add", "GCJ001", "火星", "--boundary", gcj, "--gcj02")
    assert out.exit_code == 0, out.output
    with engine.connect() as conn:
        extents = dict(
            conn.execute(
                text(
                    "SELECT code, ARRAY[ST_XMin(extent), ST_YMin(extent), ST_XMax(extent), "
                    "ST_YMax(extent)] FROM city WHERE code IN ('GK0001', 'GCJ001')"
                )
            ).all()
        )
    for code in ("GK0001", "GCJ001"):
        assert extents[code] == pytest.approx(outline.bounds, abs=2e-5), code  # ~2 m
