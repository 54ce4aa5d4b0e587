"""Colours and styles shared by the map builders."""

from __future__ import annotations

STATUS_COLORS = {
    "open": "#d7191c",
    "dispatched": "#fdae61",
    "rectifying": "#f4d03f",
    "resolved": "#a6d96a",
    "closed": "#1a9641",
    "invalid": "#9e9e9e",
    "disputed": "#7b1fa2",
    "hung": "#5d4037",
}

SETTLED_STATUSES = ("resolved", "closed", "invalid")  # drawn small: open cases stand out

# 20 distinguishable colours for units (Tableau 20); units cycle through them by id.
UNIT_PALETTE = [
    "#1f77b4",
    "#aec7e8",
    "#ff7f0e",
    "#ffbb78",
    "#2ca02c",
    "#98df8a",
    "#d62728",
    "#ff9896",
    "#9467bd",
    "#c5b0d5",
    "#8c564b",
    "#c49c94",
    "#e377c2",
    "#f7b6d2",
    "#7f7f7f",
    "#c7c7c7",
    "#bcbd22",
    "#dbdb8d",
    "#17becf",
    "#9edae5",
]


def unit_color(unit_id: int) -> str:
    """A stable colour for a unit.

    >>> unit_color(1) == unit_color(21)
    True
    """
    return UNIT_PALETTE[int(unit_id) % len(UNIT_PALETTE)]


AREA_STYLES = {
    "district": {"color": "#333333", "weight": 3, "fill": False, "dashArray": None},
    "street": {"color": "#5e3c99", "weight": 2.5, "fill": False, "dashArray": "8 4"},
    "community": {"color": "#8073ac", "weight": 1.2, "fill": False, "dashArray": "3 3"},
}

# The planner map's style table: what each layer looks like (Leaflet path options) and from
# which zoom it is drawn. The map (maps/planner.py → maplayers.js) and its legend are both
# made from it. ``colorBy``: the property whose value picks the colour (a unit's colour, a
# category's, a status's).
LAYER_STYLES = {
    "districts": {"style": AREA_STYLES["district"]},
    "streets": {"style": AREA_STYLES["street"]},
    "communities": {"style": AREA_STYLES["community"]},
    "grid_cells": {
        "style": {"color": "#607d8b", "weight": 0.5, "opacity": 0.6, "fill": False},
        "from_zoom": 15,
    },
    "zones": {
        "style": {"color": "#555555", "weight": 1.2, "opacity": 0.8, "fillOpacity": 0.12},
        "colorBy": "unit",
    },
    "stall_areas": {
        "style": {
            "color": "#e66101",
            "stroke": "#e66101",
            "weight": 2,
            "fillColor": "#fdb863",
            "fillOpacity": 0.45,
        },
    },
    # public-service ads: checked lately in orange, not checked for the city's stale days grey
    "ad_sites": {
        "style": {
            "color": "#ff7f0e",
            "stroke": "#7f3b08",
            "radius": 5,
            "weight": 1.5,
            "fillOpacity": 0.95,
        },
        "colorBy": "stale",
        "colors": {"false": "#ff7f0e", "true": "#9e9e9e"},
    },
    # a point without an ad in sight (why: AD_REASONS): a ring around it, red; with stale
    # ads in sight only: pink
    "ad_gaps": {
        "style": {
            "color": "#d62728",
            "radius": 14,
            "weight": 3,
            "fill": False,
            "dashArray": "5 3",
        },
        "colorBy": "ad_status",
        "colors": {"uncovered": "#d62728", "stale": "#f781bf"},
    },
    "point_surroundings": {
        "style": {"color": "#555555", "weight": 1, "dashArray": "4 4", "fillOpacity": 0.04},
        "colorBy": "category",
        "from_zoom": 15,
    },
    "assessment_points": {
        "style": {
            "color": "#555555",
            "stroke": "#222222",
            "radius": 8,
            "weight": 2,
            "fillOpacity": 0.95,
        },
        "colorBy": "category",
    },
    "violations": {
        "style": {"color": "#000000", "radius": 5, "weight": 1.5, "fillOpacity": 0.9},
        "colorBy": "status",
        # settled cases (resolved, closed, invalid) only from this zoom, small and faint:
        # at the city's and the streets' zooms the open ones are what matters
        "settled_from_zoom": 17,
        "settled": {"radius": 3, "weight": 0, "fillOpacity": 0.35},
    },
}
# why a point has no ad in sight (service/ads/coverage.py)
AD_REASONS = ("none_within", "facing_away", "behind_building")
# a category's icon on the map and in the legend: one character; a category an admin adds
# gets the first character of its name
CATEGORY_ICONS = {
    "farmers_market": "市",
    "main_road": "道",
    "back_street": "巷",
    "old_residential": "区",
    "urban_village": "村",
    "station": "站",
    "service_hall": "窗",
    "school": "学",
    "park_square": "园",
    "construction_site": "工",
    "community_centre": "社",
    "ad_site": "广",
}


def category_icon(category: dict) -> str:
    """A category's icon.

    >>> category_icon({"code": "school", "name_zh": "学校"})
    '学'
    >>> category_icon({"code": "night_market", "name_zh": "夜市"})
    '夜'
    """
    return CATEGORY_ICONS.get(category["code"]) or (category.get("name_zh") or "?")[:1]


OVERDUE_RING = {"color": "#000000", "weight": 3}  # an open case past its due time
