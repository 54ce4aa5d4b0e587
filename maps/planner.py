"""The planner's map: every campaign layer of a city on one folium map, as a light shell.

The page embeds no feature: each layer is asked from ``/api/map/layers/{layer}`` by the page
(maps/lazy.py, service/web/static/maplayers.js), cases from vector tiles in a city with
more than a page can hold. Styles come from one table (``maps.style.LAYER_STYLES``), from
which the legend is drawn as well.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import folium
from branca.element import MacroElement
from jinja2 import Template

from maps.escaping import html_text, script_json
from maps.lazy import FetchedLayer, GridCellTiles, LayersReady
from maps.style import (
    AD_REASONS,
    LAYER_STYLES,
    OVERDUE_RING,
    SETTLED_STATUSES,
    STATUS_COLORS,
    category_icon,
)
from maps.tiles import ViolationTiles

VIEW_FROM_ZOOM = 15  # a layer too big to draw whole is asked for the view from this zoom up

OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OWN_TILES = "/tiles/basemap/{z}/{x}/{y}.png"  # service/web/basemap.py
BUILT_IN_TILES = ("own", "osm", "none")  # anything else is a tile URL template
OSM_ATTRIBUTION = (
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
)


@dataclass
class PlannerLayers:
    """What the planner map needs to know besides the features it asks for: the city's
    extent, the catalogues that name and colour the layers' codes (in the page's language),
    and which layers are asked for whole (the others per view, from VIEW_FROM_ZOOM)."""

    bounds: tuple[float, float, float, float]  # minx, miny, maxx, maxy (lon/lat)
    point_categories: list[dict]  # code, name_zh, name_en, color
    violation_categories: dict[str, str] = field(default_factory=dict)  # code → name
    unit_colors: dict[str, str] = field(default_factory=dict)  # unit code → colour
    zone_kinds: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()  # where cases come from (hotline, camera ...)
    whole: dict[str, bool] = field(default_factory=dict)  # layer → asked whole (default)
    utc_offset_minutes: int = 480


def build_planner_map(
    layers: PlannerLayers,
    t: Callable[..., str],
    lang: str = "zh",
    tiles: str = "osm",
    attribution_url: str = "/attribution",
    m: folium.Map | None = None,
    violation_tiles: str | None = None,
    violation_items: str = "/api/map/layers/violations",
    layer_url: Callable[[str], str] = lambda name: f"/api/map/layers/{name}",
    cell_tiles: str = "/tiles/grid_cells/{z}/{x}/{y}.pbf",
    streets_from_osm: bool = True,
    gcj02: dict | None = None,
    case_history: dict | None = None,
) -> folium.Map:
    """A folium map of all layers with a layer control and a legend; ``m.layer_names`` maps
    each collection to the JS names of the layers that draw it.

    ``case_history``: where a case's popup reads its history and takes a step, and the steps
    the reader's role may take (``service/cases/loop.py``); None: the popup shows no history.

    ``tiles`` is ``own`` (the server's base map from the city's streets), ``osm``, ``none``
    (no base map: the page needs nothing from outside) or a tile URL template such as an
    intranet server's ``http://10.0.0.5/{z}/{x}/{y}.png`` (``gcj02``: its tiles are in GCJ-02,
    see ``base_tiles``). With ``violation_tiles`` (a URL
    template of the violations' vector tiles) the cases are drawn from tiles: a city's year of
    cases does not fit in a browser; a click reads the case from ``violation_items``.
    """
    if not isinstance(layers, PlannerLayers):
        raise TypeError(f"'layers' should be PlannerLayers, got {type(layers)}")
    minx, miny, maxx, maxy = layers.bounds
    if m is None:
        m = folium.Map(
            tiles=None,
            prefer_canvas=True,
            control_scale=False,
            zoom_start=14,
            location=[(miny + maxy) / 2, (minx + maxx) / 2],
        )
    # the view first, so that no layer loads tiles for another; a city whose cases come from
    # tiles opens on their counts (below zoom 13), not on a million points
    m.add_child(_FitView([[miny, minx], [maxy, maxx]], 12 if violation_tiles else 18))
    m.add_child(_MetricScale())
    base_tiles(m, tiles, streets_from_osm, gcj02, t("layer.basemap"))
    m.add_child(
        _Attribution(
            f'{html_text(t("attribution.osm"))} <a href="{html_text(attribution_url)}">'
            f"{html_text(t('nav.attribution'))}</a>"
        )
    )
    key = "name_en" if lang == "en" else "name_zh"
    categories = {c["code"]: c[key] or c["name_zh"] for c in layers.point_categories}
    category_colors = {c["code"]: c["color"] for c in layers.point_categories}
    names: dict[str, list[str]] = {}  # collection → its layers' JS names, for the tools
    common = {"utcOffsetMinutes": int(layers.utc_offset_minutes)}

    def add(collection: str, name: str, options: dict, show: bool = True) -> None:
        layer = FetchedLayer(html_text(name), {**common, **options}, show=show).add_to(m)
        names.setdefault(collection, []).append(layer.get_name())

    def sized(layer: str) -> dict:
        whole = layers.whole.get(layer, True)
        return {"whole": whole, "minZoom": 0 if whole else VIEW_FROM_ZOOM}

    code_name = {"code": t("field.code"), "name": t("field.name")}
    for level, layer in (
        ("district", "districts"),
        ("street", "streets"),
        ("community", "communities"),
    ):
        add(
            "areas",
            t(f"layer.{layer}"),
            {
                "url": layer_url("areas"),
                "where": {"level": level},
                "labels": code_name,
                "style": LAYER_STYLES[layer]["style"],
            },
        )
    grid = LAYER_STYLES["grid_cells"]
    cells = GridCellTiles(
        t("layer.grid_cells"), cell_tiles, grid["style"], from_zoom=grid["from_zoom"]
    )
    names["grid_cells"] = [cells.add_to(m).get_name()]
    add(
        "zones",
        t("layer.zones"),
        {
            **sized("zones"),
            "url": layer_url("zones"),
            "style": LAYER_STYLES["zones"]["style"],
            "colorBy": LAYER_STYLES["zones"]["colorBy"],
            "colors": layers.unit_colors,
            "labels": {
                **code_name,
                "kind": t("field.kind"),
                "unit_name": t("field.unit"),
                "first_person": t("field.first_person"),
                "direct_person": t("field.direct_person"),
                "valid_from": t("field.valid_from"),
            },
            "values": {"kind": {k: t(f"kind.{k}") for k in layers.zone_kinds}},
        },
    )
    add(
        "stall_areas",
        t("layer.stall_areas"),
        {
            **sized("stall_areas"),
            "url": layer_url("stall_areas"),
            "style": LAYER_STYLES["stall_areas"]["style"],
            "labels": {
                **code_name,
                "opens_at": t("field.opens_at"),
                "closes_at": t("field.closes_at"),
                "allowed_categories": t("field.allowed"),
                "unit_name": t("field.unit"),
            },
            "values": {"allowed_categories": layers.violation_categories},
        },
    )
    ads, gaps = LAYER_STYLES["ad_sites"], LAYER_STYLES["ad_gaps"]
    add(
        "ad_sites",
        t("layer.ad_sites"),
        {
            **sized("ad_sites"),
            "url": layer_url("ad_sites"),
            "style": ads["style"],
            "colorBy": ads["colorBy"],
            "colors": ads["colors"],
            "labels": {
                **code_name,
                "content": t("field.content"),
                "facing_deg": t("field.facing_deg"),
                "width_m": t("field.width_m"),
                "height_m": t("field.height_m"),
                "last_checked": t("field.last_checked"),
                "unit_name": t("field.unit"),
            },
            "pane": "cwAds",
            "paneZ": 425,
        },
        show=False,
    )
    add(
        "ad_gaps",
        t("layer.ad_gaps"),
        {
            **sized("assessment_points"),
            "url": layer_url("ad_gaps"),
            "style": gaps["style"],
            "colorBy": gaps["colorBy"],
            "colors": gaps["colors"],
            "labels": {
                **code_name,
                "category": t("field.category"),
                "ad_status": t("field.ad_status"),
                "reason": t("field.ad_reason"),
                "sight_m": t("field.ad_sight_m"),
            },
            "values": {
                "category": categories,
                "ad_status": {s: t(f"ad_status.{s}") for s in ("stale", "uncovered")},
                "reason": {r: t(f"ad_reason.{r}") for r in AD_REASONS},
            },
            "pane": "cwAdGaps",
            "paneZ": 435,
        },
        show=False,
    )
    around = LAYER_STYLES["point_surroundings"]
    add(
        "assessment_points",
        t("layer.point_surroundings"),
        {
            "url": layer_url("assessment_points"),
            "whole": layers.whole.get("assessment_points", True),
            "minZoom": around["from_zoom"],
            "kind": "around",
            "style": around["style"],
            "colorBy": around["colorBy"],
            "colors": category_colors,
            "radiusBy": "radius_m",
            "pane": "cwAround",
            "paneZ": 405,
        },
    )
    points = LAYER_STYLES["assessment_points"]
    add(
        "assessment_points",
        t("layer.assessment_points"),
        {
            **sized("assessment_points"),
            "url": layer_url("assessment_points"),
            "kind": "point",
            "style": points["style"],
            "colorBy": points["colorBy"],
            "colors": category_colors,
            "labels": {
                **code_name,
                "category": t("field.category"),
                "address": t("field.address"),
                "weight": t("field.weight"),
                "radius_m": t("field.radius_m"),
            },
            "values": {"category": categories},
            "icons": {c["code"]: category_icon(c) for c in layers.point_categories},
            "pane": "cwPoints",
            "paneZ": 430,
        },
    )
    case_labels = {
        k: t(f"field.{k}")
        for k in (
            "case_no",
            "status",
            "category_code",
            "unit_name",
            "department_name",
            "observed_at",
            "due_at",
            "source",
            "description",
        )
    }
    cases = LAYER_STYLES["violations"]
    case_options = {
        **common,
        "kind": "case",
        "style": cases["style"],
        "colorBy": cases["colorBy"],
        "colors": STATUS_COLORS,
        "settled": list(SETTLED_STATUSES),
        "settledFrom": cases["settled_from_zoom"],
        "settledStyle": cases["settled"],
        "overdue": OVERDUE_RING,
        "labels": case_labels,
        "values": {
            "category_code": layers.violation_categories,
            "status": {s: t(f"status.{s}") for s in STATUS_COLORS},
            "source": {s: t(f"source.{s}") for s in layers.sources},
        },
        "dates": [],
        "times": ["observed_at", "due_at"],
        "text": case_text(t),
        "history": case_history,
        "lang": lang,
    }
    if violation_tiles is not None:
        tiled = ViolationTiles(
            t("layer.violations"),
            violation_tiles,
            STATUS_COLORS,
            case_options,
            items_url=violation_items,
        ).add_to(m)
        names["violations"] = [tiled.get_name()]
    else:
        add(
            "violations",
            t("layer.violations"),
            {**case_options, "url": layer_url("violations"), "pane": "cwCases", "paneZ": 440},
        )
    m.add_child(LayersReady())
    folium.LayerControl(collapsed=False).add_to(m)
    m.add_child(_legend(layers, categories, t))
    m.layer_names = names
    return m


def case_text(t: Callable[..., str]) -> dict[str, str]:
    """The words of a case's popup: overdue for, due in, a photo's alternative text."""
    keys = ("overdue", "due_in", "photo", "history", "comment", "approve", "refuse", "act",
            "working", "done")  # fmt: skip
    return {k: t(f"case.{k}") for k in keys}


def base_tiles(
    m: folium.Map,
    tiles: str,
    streets_from_osm: bool = True,
    gcj02: dict | None = None,
    name: str = "base",
) -> None:
    """The base map: ``own`` (drawn by this server from the city's streets, with the ODbL
    attribution when they came from OpenStreetMap), ``osm``, ``none`` or a tile URL template.
    ``gcj02``: the tiles of a template are drawn in GCJ-02 (AMap, Tencent): each tile is moved
    by the offset there (``gis.chinacrs.gcj02_offset_grid`` over the city), so that the
    WGS-84 layers lie on the right streets."""
    if tiles == "none":
        return
    if tiles == "own":
        folium.TileLayer(
            OWN_TILES,
            attr=OSM_ATTRIBUTION if streets_from_osm else "&nbsp;",
            name=html_text(name),
            max_zoom=20,
        ).add_to(m)
        return
    if tiles == "osm":
        folium.TileLayer(OSM_TILES, attr=OSM_ATTRIBUTION, name="OpenStreetMap", max_zoom=19).add_to(
            m
        )
        return
    if gcj02 is not None:
        m.add_child(ShiftedTiles(tiles, gcj02))
        return
    folium.TileLayer(
        tiles, attr="&copy; OpenStreetMap contributors", name=html_text(name), max_zoom=20
    ).add_to(m)


class ShiftedTiles(MacroElement):
    """A tile layer in GCJ-02 under WGS-84 layers: every tile is placed where the ground it
    shows lies, moved by the offset at its centre, interpolated in ``grid`` (degrees of
    GCJ-02 minus WGS-84 on a regular grid over the city; outside it, the nearest node's)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function () {
            var g = {{ this.grid_json }}, b = g.bounds, n = g.dlon.length - 1;
            function at(rows, lon, lat) {
                var fx = Math.min(Math.max((lon - b[0]) / (b[2] - b[0]), 0), 1) * n;
                var fy = Math.min(Math.max((lat - b[1]) / (b[3] - b[1]), 0), 1) * n;
                var i = Math.min(Math.floor(fx), n - 1), j = Math.min(Math.floor(fy), n - 1);
                var u = fx - i, v = fy - j;
                return (rows[j][i] * (1 - u) + rows[j][i + 1] * u) * (1 - v)
                    + (rows[j + 1][i] * (1 - u) + rows[j + 1][i + 1] * u) * v;
            }
            var Shifted = L.TileLayer.extend({
                _getTilePos: function (coords) {
                    var pos = L.TileLayer.prototype._getTilePos.call(this, coords);
                    var size = this.getTileSize(), map = this._map;
                    var centre = map.unproject(coords.scaleBy(size).add(size.divideBy(2)),
                                               coords.z);
                    var gcj = L.latLng(centre.lat + at(g.dlat, centre.lng, centre.lat),
                                       centre.lng + at(g.dlon, centre.lng, centre.lat));
                    // the ground at the WGS-84 centre is drawn at its GCJ-02 place in the
                    // tile: move the tile back by the difference
                    var d = map.project(centre, coords.z).subtract(map.project(gcj, coords.z));
                    this.cwShift = d;
                    return pos.add(d).round();
                }
            });
            window.cwBaseTiles = new Shifted({{ this.url|tojson }}, {
                maxZoom: 20, attribution: {{ this.attribution|tojson }}
            }).addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}"""
    )

    def __init__(self, url: str, grid: dict):
        super().__init__()
        self._name = "ShiftedTiles"
        self.url = url
        self.attribution = "&copy; OpenStreetMap contributors"
        self.grid_json = script_json(grid)


class _FitView(MacroElement):
    """The whole city in view at once, without animation: a layer added after this loads
    its tiles for this view only (folium's fit_bounds animates, and layers added during the
    animation first load tiles at the map's starting zoom)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.fitBounds({{ this.bounds|tojson }},
            {maxZoom: {{ this.max_zoom }}, animate: false});
        {% endmacro %}"""
    )

    def __init__(self, bounds: list, max_zoom: int):
        super().__init__()
        self.bounds = bounds
        self.max_zoom = int(max_zoom)


class _Attribution(MacroElement):
    """Credits on the map itself, also when there is no base layer to carry them."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.setPrefix('Leaflet');
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text_json }});
        {% endmacro %}"""
    )

    def __init__(self, text: str):
        super().__init__()
        self.text_json = script_json(text)


class _MetricScale(MacroElement):
    """A scale bar in metres only."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        L.control.scale({imperial: false, position: "bottomleft"})
            .addTo({{ this._parent.get_name() }});
        {% endmacro %}"""
    )


class _Legend(MacroElement):
    _template = Template(
        """{% macro html(this, kwargs) %}
        <div id="legend" class="cw-legend">{{ this.body }}</div>
        {% endmacro %}"""
    )

    def __init__(self, body: str):
        super().__init__()
        self.body = body


def _swatch(style: dict, shape: str, fill: str | None = None, icon: str = "") -> str:
    """A small SVG drawn with a layer's own style: an area or a dot (with its icon)."""
    e = html_text
    stroke = style.get("stroke") or style.get("color", "#555")
    dash = f' stroke-dasharray="{e(style["dashArray"])}"' if style.get("dashArray") else ""
    width = min(float(style.get("weight", 1)), 3)
    if shape == "dot" and icon:
        body = (
            f'<circle cx="9" cy="9" r="8" fill="{e(fill or stroke)}" stroke="{e(stroke)}" '
            f'stroke-width="1.5"/><text x="9" y="13" text-anchor="middle" font-size="11" '
            f'font-weight="700" fill="#fff" stroke="#000" stroke-width="0.6">{e(icon)}</text>'
        )
        return f'<svg class="cw-swatch" width="18" height="18" aria-hidden="true">{body}</svg>'
    if shape == "dot":
        body = (
            f'<circle cx="9" cy="7" r="5" fill="{e(fill or stroke)}" stroke="{e(stroke)}" '
            f'stroke-width="{width}"/>'
        )
    else:
        filled = style.get("fill", True) is not False
        paint = e(fill or style.get("fillColor") or stroke) if filled else "none"
        opacity = max(float(style.get("fillOpacity", 0.2)), 0.15) if filled else 0
        body = (
            f'<rect x="1.5" y="1.5" width="15" height="11" fill="{paint}" '
            f'fill-opacity="{opacity}" stroke="{e(stroke)}" stroke-width="{width}"{dash}/>'
        )
    return f'<svg class="cw-swatch" width="18" height="14" aria-hidden="true">{body}</svg>'


def _legend(layers: PlannerLayers, categories: dict[str, str], t) -> _Legend:
    """The legend, drawn from LAYER_STYLES: every layer's look and what its colours mean."""
    e = html_text

    def row(swatch: str, label: str, note: str = "") -> str:
        extra = f'<span class="cw-note">{e(note)}</span>' if note else ""
        return f"<div>{swatch}{e(label)}{extra}</div>"

    def section(title: str) -> str:
        return f"<b>{e(title)}</b>"

    cases = LAYER_STYLES["violations"]
    parts = [section(t("legend.violation_status"))]
    parts += [
        row(_swatch(cases["style"], "dot", color), t(f"status.{s}"))
        for s, color in STATUS_COLORS.items()
    ]
    parts.append(
        row(
            _swatch({**cases["style"], **OVERDUE_RING}, "dot", STATUS_COLORS["open"]),
            t("legend.overdue"),
        )
    )
    parts.append(f"<div class='cw-note'>{e(t('legend.settled_hidden'))}</div>")
    parts.append(section(t("legend.point_category")))
    points = LAYER_STYLES["assessment_points"]["style"]
    parts += [
        row(_swatch(points, "dot", c["color"], category_icon(c)), categories[c["code"]])
        for c in layers.point_categories
    ]
    parts.append(
        row(
            _swatch(LAYER_STYLES["point_surroundings"]["style"], "area"),
            t("layer.point_surroundings"),
            t("legend.surroundings"),
        )
    )
    parts.append(section(t("legend.areas")))
    for layer in ("districts", "streets", "communities", "grid_cells"):
        note = t("legend.grid_cells") if layer == "grid_cells" else ""
        parts.append(row(_swatch(LAYER_STYLES[layer]["style"], "area"), t(f"layer.{layer}"), note))
    sample = next(iter(layers.unit_colors.values()), "#1f77b4")
    parts.append(
        row(
            _swatch(LAYER_STYLES["zones"]["style"], "area", sample),
            t("layer.zones"),
            t("legend.zones"),
        )
    )
    parts.append(
        row(
            _swatch(LAYER_STYLES["stall_areas"]["style"], "area"),
            t("layer.stall_areas"),
            t("legend.stall_areas"),
        )
    )
    for layer in ("ad_sites", "ad_gaps"):
        style = LAYER_STYLES[layer]
        parts.append(
            row(
                _swatch(
                    style["style"],
                    "dot",
                    "none" if layer == "ad_gaps" else style["colors"]["false"],
                ),
                t(f"layer.{layer}"),
                t(f"legend.{layer}"),
            )
        )
    parts.append(f"<div class='cw-note'>{e(t('legend.invented'))}</div>")
    return _Legend("".join(parts))
