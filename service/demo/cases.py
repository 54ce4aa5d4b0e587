"""Invented violations for the demo city: a realistic mix of categories, sources, night-time
vending and statuses over the last 90 days, near assessment points and along real streets."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point

CATALOGUE = (
    Path(__file__).resolve().parents[2] / "data" / "catalogues" / "violation_categories.json"
)
N_VIOLATIONS = 2000
HISTORY_DAYS = 90
LOCAL_TZ = "Asia/Shanghai"


def beside(line, rng, offset_m: tuple[float, float] = (12, 30)) -> Point:
    """A point next to a street: somewhere along it, a few metres to one side."""
    d = float(rng.uniform(0.1, 0.9)) * line.length
    a, b = line.interpolate(max(d - 1, 0)), line.interpolate(min(d + 1, line.length))
    dx, dy = b.x - a.x, b.y - a.y
    norm = max((dx * dx + dy * dy) ** 0.5, 1e-9)
    side = float(rng.choice([-1, 1])) * float(rng.uniform(*offset_m))
    p = line.interpolate(d)
    return Point(p.x - dy / norm * side, p.y + dx / norm * side)


# Share of each category among reported cases: parking and vending dominate in the
# texts' inspection reports; illegal buildings are rare but the most severe.
_MIX = {
    "disorderly_parking": 18,
    "street_vending": 12,
    "piling_occupying": 10,
    "garbage_corner": 9,
    "stray_stall": 8,
    "graffiti": 6,
    "hanging_lines": 5,
    "clothes_hanging": 5,
    "shared_bikes_piled": 5,
    "blocked_tactile_paving": 4,
    "damaged_road": 4,
    "broken_streetlight": 3,
    "open_air_bbq": 3,
    "illegal_structure": 3,
    "green_belt_farming": 2,
    "red_light_running": 1,
    "wrong_way_riding": 1,
    "stale_ad": 1,
    "missing_ad": 1,
    "illegal_building": 0.5,
}
_NIGHT = {"open_air_bbq", "street_vending", "broken_streetlight", "stray_stall"}
_SOURCES = (
    ["inspection", "hotline", "camera", "citizen", "digital_city"],
    [0.45, 0.2, 0.15, 0.1, 0.1],
)
_TEMPLATES = {
    "disorderly_parking": "{road}机动车、非机动车乱停乱放",
    "street_vending": "{road}流动摊贩占道经营",
    "piling_occupying": "{road}商户杂物堆放占用人行道",
    "garbage_corner": "{road}路边垃圾堆积，形成卫生死角",
    "stray_stall": "{road}乱摆摊点",
    "graffiti": "{road}墙面、电杆小广告乱贴乱画",
    "hanging_lines": "{road}私拉电线、乱挂横幅",
    "clothes_hanging": "{road}沿街晾晒衣物",
    "shared_bikes_piled": "{road}共享单车大量堆放",
    "blocked_tactile_paving": "{road}盲道被车辆、杂物占压",
    "damaged_road": "{road}路面破损坑洼",
    "broken_streetlight": "{road}路灯不亮",
    "open_air_bbq": "{road}夜间露天烧烤，油烟扰民",
    "illegal_structure": "{road}搭建彩钢棚",
    "green_belt_farming": "{road}绿化带被扒翻种菜",
    "red_light_running": "{road}路口行人闯红灯",
    "wrong_way_riding": "{road}电动车逆行",
    "stale_ad": "{road}公益广告褪色破损",
    "missing_ad": "{road}未设置公益广告",
    "illegal_building": "{road}新建违法建筑",
}


def _deadlines_h() -> dict[str, int]:
    categories = json.loads(CATALOGUE.read_text(encoding="utf-8"))["categories"]
    return {c["code"]: c["deadline_h"] for c in categories}


def violations(points, roads, extent, rng, now: dt.datetime) -> gpd.GeoDataFrame:
    cats = list(_MIX)
    weights = np.array([_MIX[c] for c in cats], dtype=float)
    category = rng.choice(cats, size=N_VIOLATIONS, p=weights / weights.sum())
    near_point = rng.random(N_VIOLATIONS) < 0.7
    anchors = points.geometry.to_numpy()
    # the busiest points draw most cases: markets, stations and main roads
    hot = points["category_code"].isin(["farmers_market", "station", "main_road", "urban_village"])
    p_anchor = np.where(hot, 3.0, 1.0)
    which = rng.choice(len(anchors), size=N_VIOLATIONS, p=p_anchor / p_anchor.sum())
    named = roads[roads["name"].notna()]
    tree = shapely.STRtree(named.geometry.to_numpy())
    lines = roads.geometry.to_numpy()
    geoms, descriptions = [], []
    for i in range(N_VIOLATIONS):
        if near_point[i]:
            a = anchors[which[i]]
            r, theta = abs(rng.normal(0, 70)), rng.uniform(0, 2 * np.pi)
            g = Point(a.x + r * np.cos(theta), a.y + r * np.sin(theta))
        else:
            g = beside(lines[int(rng.integers(len(lines)))], rng, (3, 15))
        if not extent.contains(g):
            g = extent.representative_point()
        geoms.append(g)
        road = named.iloc[int(tree.nearest(g))]["name"]
        descriptions.append(_TEMPLATES[category[i]].format(road=road))
    age_days = rng.uniform(0, HISTORY_DAYS, size=N_VIOLATIONS)
    local_now = pd.Timestamp(now).tz_convert(LOCAL_TZ)
    day = (local_now - pd.to_timedelta(age_days, unit="D")).floor("D")
    hours = np.where(
        np.isin(category, list(_NIGHT)),
        rng.choice([18, 19, 20, 21, 22, 23, 0, 1], size=N_VIOLATIONS),
        rng.integers(7, 19, size=N_VIOLATIONS),
    )
    observed = (
        day
        + pd.to_timedelta(hours, unit="h")
        + pd.to_timedelta(rng.integers(0, 60, size=N_VIOLATIONS), unit="m")
    )
    observed = pd.Series(observed).where(
        pd.Series(observed) < local_now, local_now - pd.Timedelta("1h")
    )
    deadlines = _deadlines_h()
    deadline = np.array([deadlines[c] for c in category])
    due = observed + pd.to_timedelta(deadline, unit="h")
    status = _statuses(rng, age_days, deadline)
    resolved_at = [
        (o + pd.Timedelta(hours=float(rng.uniform(0.3, 1.1)) * d)).floor("s")
        if s in ("resolved", "closed")
        else pd.NaT
        for o, d, s in zip(observed, deadline, status, strict=True)
    ]
    resolved_at = [min(r, now) if r is not pd.NaT else r for r in resolved_at]
    source = rng.choice(_SOURCES[0], size=N_VIOLATIONS, p=_SOURCES[1])
    frame = gpd.GeoDataFrame(
        dict(
            category_code=category,
            description=descriptions,
            observed_at=observed,
            due_at=due,
            status=status,
            resolved_at=resolved_at,
            source=source,
        ),
        geometry=geoms,
        crs=points.crs,
    )
    frame = frame.sort_values("observed_at", ignore_index=True)
    frame["case_no"] = [f"DEMO{i:06d}" for i in range(1, len(frame) + 1)]
    return frame


def _statuses(rng, age_days: np.ndarray, deadline_h: np.ndarray) -> np.ndarray:
    """Older cases are mostly closed; recent ones open; some are overdue."""
    age_h = age_days * 24
    u = rng.random(len(age_days))
    settled = np.clip(age_h / (deadline_h * 1.5), 0, 0.92)
    status = np.where(
        u < settled * 0.75,
        "closed",
        np.where(
            u < settled,
            "resolved",
            np.where(
                u < settled + (1 - settled) * 0.3,
                "rectifying",
                np.where(u < settled + (1 - settled) * 0.6, "dispatched", "open"),
            ),
        ),
    )
    invalid = rng.random(len(age_days)) < 0.03
    return np.where(invalid, "invalid", status)
