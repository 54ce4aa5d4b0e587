"""Build the Guixi demo layers as GeoDataFrames from the files in data/guixi.

Real: the roads, the named community and street-office places, the 东门街道 polygon,
schools, the railway station, a park, the district outline. Derived (marked
``derived``): street-office and community polygons (Voronoi cells of the named
places, clipped), road-side assessment points on real named roads. Invented (marked
``invented``): units' persons and phones, markets, halls, stall areas, violations.
Everything is drawn from a seeded generator, so two builds are identical.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import box

from gis.crs import gk3_epsg
from gis.grid import cell_code, cells_lonlat, number_cells
from gis.partition import as_multipolygon, voronoi_partition
from service.demo.cases import beside, violations

DATA = Path(__file__).resolve().parents[2] / "data" / "guixi"
CITY_CODE = "360681"
CITY_NAME = "贵溪市"
CITY_NAME_EN = "Guixi"
CITY_CENTRE_LON = 117.22
EPSG = gk3_epsg(CITY_CENTRE_LON)
SEED = 20261128
GRID_SIZE_M = 100

STREETS = [  # real street offices of Guixi's centre, codes in the county's numbering
    ("001", "东门街道", "东门街道"),
    ("002", "雄石街道", "雄石街道"),
    ("003", "花园街道", "花园街道"),
]


@dataclass
class DemoCity:
    areas: gpd.GeoDataFrame  # code, level, name, parent_code, provenance
    cells: gpd.GeoDataFrame  # code, community_code, row, col, size_m
    units: pd.DataFrame  # code, name, kind, parent_code, area_code, phone, provenance
    persons: pd.DataFrame  # unit_code, name, title, phone
    zones: gpd.GeoDataFrame  # code, name, kind, unit_code, first/direct person, area_code
    points: gpd.GeoDataFrame  # code, category_code, name, weight?, radius?, provenance, osm_id
    stalls: gpd.GeoDataFrame  # code, name, opens_at, closes_at, allowed_categories, unit_code
    violations: gpd.GeoDataFrame  # case_no, category_code, description, observed_at, ...
    ads: gpd.GeoDataFrame | None = None  # code, name, content, facing_deg, size, last_checked
    inspectors: list[tuple[str, str]] = field(default_factory=list)  # (name, display name)
    extent: shapely.Polygon | None = None


def _read(name: str) -> gpd.GeoDataFrame:
    frame = gpd.read_file(DATA / name)
    return frame.set_crs(4326, allow_override=True)  # CRS84 / CGCS2000: lon/lat either way


def build(now: dt.datetime) -> DemoCity:
    """All demo layers, in lon/lat, reproducible for a given ``now``."""
    rng = np.random.default_rng(SEED)
    roads = _read("jiangxi_guixi_center_roads.geojson").to_crs(EPSG)
    pois = _read("jiangxi_guixi_center_pois.geojson").to_crs(EPSG)
    dongmen = _read("jiangxi_guixi_dongmen_jiedao_osm.geojson").to_crs(EPSG).geometry.iloc[0]
    districts = _read("districts.geojson")
    district = districts[districts["gb"] == "156" + CITY_CODE].to_crs(EPSG).geometry.iloc[0]

    extent = box(*roads.total_bounds).union(box(*gpd.GeoSeries([dongmen]).total_bounds))
    extent = box(*extent.bounds).buffer(200, join_style="mitre").intersection(district)
    areas = _areas(pois, dongmen, extent, district)
    units, persons, inspectors = _units(areas, rng)
    zones = _zones(areas, roads, units, persons)
    points = _points(pois, roads, areas, rng)
    stalls = _stalls(points, rng)
    cases = violations(points, roads, extent, rng, now)
    ads = _ads(points, now)
    areas = areas.to_crs(4326)
    return DemoCity(
        areas=areas,
        cells=_cells(areas),
        units=units,
        persons=persons,
        zones=zones.to_crs(4326),
        points=points.to_crs(4326),
        stalls=stalls.to_crs(4326),
        violations=cases.to_crs(4326),
        ads=ads.to_crs(4326),
        inspectors=inspectors,
        extent=gpd.GeoSeries([extent], crs=EPSG).to_crs(4326).iloc[0],
    )


def _areas(pois, dongmen, extent, district) -> gpd.GeoDataFrame:
    places = pois[pois["category"] == "place_community"]
    street_seeds = places[places["name"].isin([s[1] for s in STREETS])].set_index("name")
    rest = extent.difference(dongmen)
    others = street_seeds.loc[[s[1] for s in STREETS[1:]]].geometry
    parts = voronoi_partition(others, rest)
    street_geoms = {STREETS[0][1]: dongmen.intersection(extent), **parts.to_dict()}
    rows = [
        dict(
            code=CITY_CODE,
            level="district",
            name=CITY_NAME,
            parent_code=None,
            provenance="derived",
            geometry=district,
        )
    ]
    for code3, name, _ in STREETS:
        rows.append(
            dict(
                code=CITY_CODE + code3,
                level="street",
                name=name,
                parent_code=CITY_CODE,
                provenance="osm" if name == STREETS[0][1] else "derived",
                geometry=street_geoms[name],
            )
        )
    communities = places[
        places["name"].str.endswith(("社区", "村")) | (places["name"] == "大岩苏家")
    ]
    for code3, sname, _ in STREETS:
        sgeom = street_geoms[sname]
        inside = communities[communities.within(sgeom)].sort_values("osm_id")
        if inside.empty:
            continue
        cells = voronoi_partition(inside.geometry, sgeom)
        for i, (idx, row) in enumerate(inside.iterrows(), start=1):
            name = row["name"] if row["name"].endswith(("社区", "村")) else row["name"] + "村"
            rows.append(
                dict(
                    code=f"{CITY_CODE}{code3}{i:03d}",
                    level="community",
                    name=name,
                    parent_code=CITY_CODE + code3,
                    provenance="derived",
                    geometry=cells.loc[idx],
                )
            )
    frame = gpd.GeoDataFrame(rows, crs=EPSG)
    frame["geometry"] = frame.geometry.make_valid().apply(as_multipolygon)
    return frame


def _cells(areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """100 m cells per community, numbered west→east, north→south."""
    frames = []
    for _, community in areas[areas["level"] == "community"].iterrows():
        cells = cells_lonlat(community.geometry, GRID_SIZE_M, EPSG)
        numbers = number_cells(cells)
        cells["code"] = [cell_code(community["code"], int(n)) for n in numbers]
        cells["community_code"] = community["code"]
        frames.append(cells)
    out = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=4326)
    out["size_m"] = GRID_SIZE_M
    return out.sort_values("code", ignore_index=True)


_SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢傅钟姜崔谭廖范汪陆金石戴贾韦夏邱方侯邹熊孟秦白江阎薛尹段雷黎史龙陶贺顾毛郝龚邵万钱严覃武"
)
_GIVEN = list(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国文斌宇浩凯晨欣怡子涵俊豪雪梅志刚海燕丹春林"
)


def _name(rng) -> str:
    given = "".join(rng.choice(_GIVEN, size=int(rng.integers(1, 3))))
    return str(rng.choice(_SURNAMES)) + given


def _phone(rng) -> str:
    return (
        "1"
        + str(rng.choice(["33", "38", "39", "58", "77", "86"]))
        + "".join(map(str, rng.integers(0, 10, size=8)))
    )


def _units(areas, rng):
    units, persons = [], []
    for _, a in areas[areas["level"] == "street"].iterrows():
        code = f"u{a['code']}"
        units.append(
            dict(
                code=code,
                name=a["name"] + "办事处",
                kind="territorial",
                parent_code=None,
                area_code=a["code"],
                phone=_phone(rng),
                provenance="invented",
            )
        )
        persons.append(dict(unit_code=code, name=_name(rng), title="管区书记", phone=_phone(rng)))
    for _, a in areas[areas["level"] == "community"].iterrows():
        code = f"u{a['code']}"
        suffix = "村民委员会" if a["name"].endswith("村") else "居民委员会"
        units.append(
            dict(
                code=code,
                name=a["name"] + suffix,
                kind="territorial",
                parent_code=f"u{a['parent_code']}",
                area_code=a["code"],
                phone=_phone(rng),
                provenance="invented",
            )
        )
        persons.append(dict(unit_code=code, name=_name(rng), title="社区书记", phone=_phone(rng)))
        persons.append(dict(unit_code=code, name=_name(rng), title="网格员", phone=_phone(rng)))
    for i, name in enumerate(
        ["信江物业管理有限公司", "雄石物业服务有限公司", "花园物业有限公司"], 1
    ):
        code = f"c{i:03d}"
        units.append(
            dict(
                code=code,
                name=name,
                kind="company",
                parent_code=None,
                area_code=None,
                phone=_phone(rng),
                provenance="invented",
            )
        )
        persons.append(dict(unit_code=code, name=_name(rng), title="项目经理", phone=_phone(rng)))
    inspectors = [(f"inspector{i}", f"督导员{_name(rng)}") for i in range(1, 4)]
    return pd.DataFrame(units), pd.DataFrame(persons), inspectors


def _zones(areas, roads, units, persons) -> gpd.GeoDataFrame:
    """One grid zone per community (the block, 块) and road-chief zones on main roads."""
    first = persons[persons["title"] == "管区书记"].set_index("unit_code")["name"]
    direct = persons[persons["title"] == "社区书记"].set_index("unit_code")["name"]
    rows = []
    for _, a in areas[areas["level"] == "community"].iterrows():
        unit = f"u{a['code']}"
        street_unit = f"u{a['parent_code']}"
        rows.append(
            dict(
                code=f"Z{a['code']}",
                name=a["name"] + "网格责任区",
                kind="grid",
                unit_code=unit,
                first_person=(street_unit, first[street_unit]),
                direct_person=(unit, direct[unit]),
                area_code=a["code"],
                geometry=a.geometry,
            )
        )
    named = roads[roads["highway"].isin(["primary", "secondary"]) & roads["name"].notna()]
    streets = areas[areas["level"] == "street"]
    for i, (road, lines) in enumerate(sorted(named.groupby("name"), key=lambda kv: kv[0]), 1):
        corridor = shapely.union_all(lines.geometry.buffer(20, cap_style="flat"))
        centre = corridor.representative_point()
        owner = streets[streets.contains(centre)]
        if owner.empty:
            continue
        street = owner.iloc[0]
        unit = f"u{street['code']}"
        rows.append(
            dict(
                code=f"R{i:03d}",
                name=f"{road}（路长制）",
                kind="road_segment",
                unit_code=unit,
                first_person=(unit, first[unit]),
                direct_person=(unit, first[unit]),
                area_code=street["code"],
                geometry=as_multipolygon(corridor.intersection(street.geometry)),
            )
        )
    return gpd.GeoDataFrame(rows, crs=EPSG)


# (category, how many, where): "osm" rows come from real POIs and are counted apart.
_INVENTED_POINTS = [
    ("farmers_market", 7, "农贸市场"),
    ("station", 1, "汽车客运站"),
    ("service_hall", 13, None),
    ("old_residential", 24, "小区"),
    ("construction_site", 6, "建设工地"),
    ("ad_site", 18, "公益广告牌"),
    ("park_square", 3, "广场"),
    ("back_street", 28, "背街小巷"),
]
_HALLS = [
    "人民医院",
    "中医院",
    "妇幼保健院",
    "工商银行",
    "建设银行",
    "农商银行",
    "自来水营业厅",
    "供电营业厅",
    "燃气服务厅",
    "政务服务中心",
    "中国银行",
    "邮政储蓄银行",
    "不动产登记中心",
]


def _points(pois, roads, areas, rng) -> gpd.GeoDataFrame:
    rows = []
    schools = pois[pois["category"] == "school"]
    for _, p in schools.iterrows():
        rows.append(
            dict(
                category_code="school",
                name=p["name"],
                provenance="osm",
                osm_id=int(p["osm_id"]),
                geometry=p.geometry,
            )
        )
    station = pois[(pois["category"] == "rail_station") & (pois["osm_type"] == "relation")]
    for _, p in station.iterrows():
        rows.append(
            dict(
                category_code="station",
                name=p["name"],
                provenance="osm",
                osm_id=int(p["osm_id"]),
                geometry=p.geometry,
            )
        )
    for _, p in pois[pois["category"] == "park"].iterrows():
        rows.append(
            dict(
                category_code="park_square",
                name=p["name"],
                provenance="osm",
                osm_id=int(p["osm_id"]),
                geometry=p.geometry,
            )
        )
    places = pois[pois["category"] == "place_community"]
    for _, p in places[places["name"].str.endswith("社区")].iterrows():
        rows.append(
            dict(
                category_code="community_centre",
                name=p["name"] + "新时代文明实践站",
                provenance="derived",
                osm_id=int(p["osm_id"]),
                geometry=p.geometry,
            )
        )
    villages = places[places["name"].str.endswith("村") | (places["name"] == "大岩苏家")]
    for _, p in villages.iterrows():
        rows.append(
            dict(
                category_code="urban_village",
                name=p["name"],
                provenance="osm",
                osm_id=int(p["osm_id"]),
                geometry=p.geometry,
            )
        )
    main = roads[
        roads["highway"].isin(["primary", "secondary", "tertiary"]) & roads["name"].notna()
    ]
    for road, lines in sorted(main.groupby("name"), key=lambda kv: kv[0]):
        merged = shapely.line_merge(shapely.union_all(lines.geometry))
        parts = list(getattr(merged, "geoms", [merged]))
        for k, line in enumerate(sorted(parts, key=lambda g: -g.length)[:3]):
            if line.length < 150:
                continue
            suffix = "" if k == 0 else f"（第{k + 1}段）"
            rows.append(
                dict(
                    category_code="main_road",
                    name=f"{road}{suffix}",
                    provenance="derived",
                    osm_id=None,
                    geometry=line.interpolate(0.5, normalized=True),
                )
            )
    street_lines = roads[~roads["highway"].isin(["construction", "track"])]
    named = roads[roads["name"].notna()]
    tree = shapely.STRtree(named.geometry.to_numpy())
    halls = iter(_HALLS)
    for category, count, label in _INVENTED_POINTS:
        for i in range(count):
            road = street_lines.iloc[int(rng.integers(len(street_lines)))]
            at = beside(road.geometry, rng)
            road_name = named.iloc[int(tree.nearest(at))]["name"]
            name = (
                f"{next(halls)}" if category == "service_hall" else f"{road_name}{label}{i + 1}号"
            )
            rows.append(
                dict(
                    category_code=category,
                    name=name + " *",
                    provenance="invented",
                    osm_id=None,
                    geometry=at,
                )
            )
    frame = gpd.GeoDataFrame(rows, crs=EPSG)
    frame["code"] = [f"AP{i:04d}" for i in range(1, len(frame) + 1)]
    return frame


def _stalls(points, rng) -> gpd.GeoDataFrame:
    markets = points[points["category_code"] == "farmers_market"].head(3)
    specs = [
        (
            "夜市便民摊点",
            dt.time(18, 0),
            dt.time(2, 0),
            ["street_vending", "stray_stall", "open_air_bbq"],
        ),
        ("早市便民摊点", dt.time(5, 30), dt.time(9, 0), ["street_vending", "stray_stall"]),
        ("农产品自产自销点", dt.time(16, 0), dt.time(21, 0), ["street_vending"]),
    ]
    rows = []
    for i, ((_, m), (label, opens, closes, allowed)) in enumerate(
        zip(markets.iterrows(), specs, strict=False), 1
    ):
        angle = float(rng.uniform(0, 180))
        rect = shapely.affinity.rotate(box(-40, -15, 40, 15), angle)
        shape = shapely.affinity.translate(rect, m.geometry.x + 60, m.geometry.y)
        rows.append(
            dict(
                code=f"ST{i:03d}",
                name=f"{m['name'].rstrip(' *')}{label} *",
                opens_at=opens,
                closes_at=closes,
                allowed_categories=allowed,
                geometry=as_multipolygon(shape),
            )
        )
    return gpd.GeoDataFrame(rows, crs=EPSG)


AD_THEMES = (
    "讲文明 树新风",
    "社会主义核心价值观",
    "文明交通 从我做起",
    "垃圾分类 人人有责",
    "创建全国文明城市 共建美好家园",
    "光盘行动 节约粮食",
    "志愿服务 你我同行",
)


def _ads(points, now: dt.datetime) -> gpd.GeoDataFrame:
    """Public-service ads (invented, from their own generator so the other layers stay as
    they are): a board at each advertising-site point, and near most other points one within
    or beyond the category's sight distance, mostly facing the point, some facing away, some
    not checked for weeks."""
    import json

    from service.layers.catalogues import CATALOGUES

    rng = np.random.default_rng(SEED + 1)
    sight = {
        c["code"]: c.get("ad_sight_m")
        for c in json.loads(
            (CATALOGUES / "assessment_point_categories.json").read_text(encoding="utf-8")
        )["categories"]
    }
    rows = []
    for _, p in points.iterrows():
        at = p.geometry.representative_point()
        reach = sight.get(p["category_code"])
        if reach is None:  # an advertising site: its board is the point
            bearing, site = float(rng.uniform(0, 360)), at
        elif rng.random() < 0.7:
            bearing = float(rng.uniform(0, 360))
            distance = float(rng.uniform(0.2, 1.3)) * reach
            rad = np.radians(bearing)
            site = shapely.Point(at.x + distance * np.sin(rad), at.y + distance * np.cos(rad))
        else:
            continue
        # the face looks back at the point, give or take; one board in eight the other way
        facing = (bearing + 180 + float(rng.uniform(-40, 40))) % 360
        if rng.random() < 0.125:
            facing = (facing + 180) % 360
        rows.append(
            dict(
                code=f"AD{len(rows) + 1:04d}",
                name=f"{p['name'].rstrip(' *')}公益广告牌 *",
                content=str(rng.choice(AD_THEMES)),
                facing_deg=round(facing, 1),
                width_m=float(rng.choice([2.0, 3.0, 4.0, 6.0])),
                height_m=float(rng.choice([1.0, 1.5, 2.0])),
                last_checked=(now - dt.timedelta(days=int(rng.integers(0, 50)))).date(),
                geometry=site,
            )
        )
    return gpd.GeoDataFrame(rows, crs=points.crs)
