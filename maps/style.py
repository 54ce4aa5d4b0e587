"""Colours and styles shared by the map builders."""

from __future__ import annotations

STATUS_COLORS = {
    "open": "#d7191c",
    "dispatched": "#fdae61",
    "rectifying": "#f4d03f",
    "resolved": "#a6d96a",
    "closed": "#1a9641",
    "invalid": "#9e9e9e",
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
