"""The planner's map: every campaign layer of a city on one folium map."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import folium
import geopandas as gpd
from branca.element import MacroElement
from jinja2 import Template

from gis.metric import buffer_m
from maps.escaping import html_text, script_json
from maps.geojson import feature_collection
from maps.lazy import GridCellTiles, LazyFeatures
from maps.style import AREA_STYLES, SETTLED_STATUSES, STATUS_COLORS, unit_color
from maps.tiles import ViolationTiles

LAZY_FROM_ZOOM = 15  # layers read for the view are drawn from this zoom up
STALL_STYLE = {"color": "#e66101", "weight": 2, "fillColor": "#fdb863", "fillOpacity": 0.5}
# what the map's filters read from each embedded case (not shown in its popup)
FILTER_KEYS = ("status", "category_code", "unit_code", "observed_at")

OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OWN_TILES = "/tiles/basemap/{z}/{x}/{y}.png"  # service/web/basemap.py
OSM_ATTRIBUTION = (
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
)


@dataclass
class PlannerLayers:
    """What the planner map shows; every frame in EPSG:4326."""

    areas: gpd.GeoDataFrame
    # None: too many to embed; drawn from tiles (cells, cases) or read for the view (others)
    grid_cells: gpd.GeoDataFrame | None
    zones: gpd.GeoDataFrame | None
    points: gpd.GeoDataFrame | None
    stalls: gpd.GeoDataFrame | None
    violations: gpd.GeoDataFrame | None
    point_categories: list[dict]
    bounds: tuple[float, float, float, float]  # minx, miny, maxx, maxy (lon/lat)
    crs_epsg: int
    unit_colors: dict[str, str] = field(default_factory=dict)  # unit code → colour
    zone_kinds: tuple[str, ...] = ()


def build_planner_map(
    layers: PlannerLayers,
    t: Callable[..., str],
    lang: str = "zh",
    tiles: str = "osm",
    attribution_url: str = "/attribution",
    m: folium.Map | None = None,
    violation_tiles: str | None = None,
    violation_items: str = "/collections/violations/items",
    items: Callable[[str], str] = lambda cid: f"/collections/{cid}/items",
    cell_tiles: str = "/tiles/grid_cells/{z}/{x}/{y}.pbf",
    streets_from_osm: bool = True,
) -> folium.Map:
    """A folium map of all layers with a layer control and a legend; ``m.layer_names`` maps
    each collection to the JS names of the layers that draw it.

    ``tiles`` is ``own`` (the server's base map from the city's streets), ``osm``, ``none``
    (no base map: the page needs nothing from outside) or a tile URL template such as an
    intranet server's ``http://10.0.0.5/{z}/{x}/{y}.png``.
    User text reaches popups and tooltips only HTML-escaped. With ``violation_tiles`` (a
    URL template of the violations' vector tiles) the cases are drawn from tiles, not
    embedded: a city's year of cases does not fit in a page; a click reads a case from
    ``violation_items`` (the features API's items). A layer left out of ``layers`` (None)
    is drawn from ``cell_tiles`` (grid cells) or read for the view from ``items(collection)``.
    """
    if not isinstance(layers, PlannerLayers):
        raise TypeError(f"'layers' should be PlannerLayers, got {type(layers)}")
    minx, miny, maxx, maxy = layers.bounds
    if m is None:
        m = folium.Map(
            tiles=None,
            prefer_canvas=True,
            control_scale=True,
            zoom_start=14,
            location=[(miny + maxy) / 2, (minx + maxx) / 2],
        )
    # the view first, so that no layer loads tiles for another; a city whose cases come from
    # tiles opens on their counts (below zoom 13), not on a million points
    m.add_child(_FitView([[miny, minx], [maxy, maxx]], 12 if violation_tiles else 18))
    base_tiles(m, tiles, streets_from_osm)
    m.add_child(
        _Attribution(
            f'{html_text(t("attribution.osm"))} <a href="{html_text(attribution_url)}">'
            f"{html_text(t('nav.attribution'))}</a>"
        )
    )
    name = "name"
    category = f"category_{'en' if lang == 'en' else 'zh'}"
    names: dict[str, list[str]] = {}  # collection → its layers' JS names, for the tools

    def keep(collection: str, layer) -> None:
        if layer is not None:
            names.setdefault(collection, []).append(layer.get_name())

    _areas(m, layers.areas, t)
    if layers.grid_cells is None:
        keep("grid_cells", GridCellTiles(t("layer.grid_cells"), cell_tiles).add_to(m))
    else:
        cells = _polygons(
            m,
            layers.grid_cells,
            t("layer.grid_cells"),
            lambda f: {"color": "#607d8b", "weight": 0.5, "fillOpacity": 0, "opacity": 0.6},
            {"code": t("field.code"), "community": t("layer.communities")},
            tooltip="code",
        )
        keep("grid_cells", cells)
    zone_fields = {
        "code": t("field.code"),
        name: t("field.name"),
        "kind_label": t("field.kind"),
        "unit": t("field.unit"),
        "first_person": t("field.first_person"),
        "direct_person": t("field.direct_person"),
        "valid_from": t("field.valid_from"),
    }
    if layers.zones is None:
        lazy = LazyFeatures(
            t("layer.zones"),
            items("zones"),
            {
                "colorBy": "unit",
                "colors": layers.unit_colors,
                "color": "#555",
                "weight": 1.5,
                "fillOpacity": 0.25,
            },
            {
                ("kind" if k == "kind_label" else "unit_name" if k == "unit" else k): v
                for k, v in zone_fields.items()
            },
            {"kind": {k: t(f"kind.{k}") for k in layers.zone_kinds}},
            min_zoom=LAZY_FROM_ZOOM,
            dates=("valid_from",),
        )
        keep("zones", lazy.add_to(m))
    else:
        zones = layers.zones.assign(
            kind_label=[t(f"kind.{k}") for k in layers.zones["kind"]],
            color=[unit_color(u) for u in layers.zones["unit_id"]],
            valid_from=layers.zones["valid_from"].astype(str).str[:10],
        )
        zone_layer = _polygons(
            m,
            zones,
            t("layer.zones"),
            lambda f: {
                "color": f["properties"]["color"],
                "weight": 1.5,
                "fillColor": f["properties"]["color"],
                "fillOpacity": 0.25,
            },
            zone_fields,
            tooltip=name,
        )
        keep("zones", zone_layer)
    stall_fields = {"code": t("field.code"), name: t("field.name")}
    if layers.stalls is None:
        keep(
            "stall_areas",
            LazyFeatures(
                t("layer.stall_areas"),
                items("stall_areas"),
                STALL_STYLE,
                {
                    **stall_fields,
                    "opens_at": t("field.opens_at"),
                    "closes_at": t("field.closes_at"),
                },
                min_zoom=LAZY_FROM_ZOOM,
            ).add_to(m),
        )
    else:
        stalls = layers.stalls.assign(
            hours=layers.stalls["opens_at"] + "–" + layers.stalls["closes_at"],
            allowed=layers.stalls[f"allowed_{'en' if lang == 'en' else 'zh'}"],
        )
        stall_layer = _polygons(
            m,
            stalls,
            t("layer.stall_areas"),
            lambda f: STALL_STYLE,
            {**stall_fields, "hours": t("field.hours"), "allowed": t("field.allowed")},
            tooltip=name,
        )
        keep("stall_areas", stall_layer)
    point_fields = {
        "code": t("field.code"),
        name: t("field.name"),
        "category": t("field.category"),
        "weight": t("field.weight"),
        "radius_m": t("field.radius_m"),
    }
    if layers.points is None:
        key = "name_en" if lang == "en" else "name_zh"
        keep(
            "assessment_points",
            LazyFeatures(
                t("layer.assessment_points"),
                items("assessment_points"),
                {
                    "colorBy": "category",
                    "colors": {c["code"]: c["color"] for c in layers.point_categories},
                    "color": "#555",
                },
                point_fields,
                {"category": {c["code"]: c[key] for c in layers.point_categories}},
                min_zoom=LAZY_FROM_ZOOM,
                radius_by="radius_m",
                pane="lazyPoints",
            ).add_to(m),
        )
    else:
        surroundings = layers.points.assign(
            geometry=buffer_m(layers.points.geometry, layers.points["radius_m"], layers.crs_epsg)
        )
        around = _polygons(
            m,
            surroundings,
            t("layer.point_surroundings"),
            lambda f: {
                "color": f["properties"]["color"],
                "weight": 1,
                "dashArray": "4 4",
                "fillOpacity": 0.05,
            },
            {name: t("field.name"), "radius_m": t("field.radius_m")},
            tooltip=name,
        )
        points = layers.points.assign(category=layers.points[category])
        point_layer = _circles(
            m,
            points.assign(geometry=points.geometry.representative_point()),
            t("layer.assessment_points"),
            lambda f: {
                "color": "#222",
                "weight": 1,
                "fillColor": f["properties"]["color"],
                "fillOpacity": 0.95,
                "radius": 7,
            },
            point_fields,
            tooltip=name,
        )
        keep("assessment_points", point_layer)
        keep("assessment_points", around)
    if violation_tiles is not None:
        fields = ("case_no", "category", "status", "observed_at", "due_at", "description")
        tiled = ViolationTiles(
            t("layer.violations"),
            violation_tiles,
            STATUS_COLORS,
            {k: t(f"field.{k}") for k in fields},
            items_url=violation_items,
        ).add_to(m)
        keep("violations", tiled)
    else:
        keep("violations", _violation_features(m, layers, t, category))
    folium.LayerControl(collapsed=False).add_to(m)
    m.add_child(_legend(layers.point_categories, t, lang))
    m.layer_names = names
    return m


def _violation_features(m: folium.Map, layers: PlannerLayers, t, category: str):
    # settled cases first, so open ones are drawn on top of them
    settled = layers.violations["status"].isin(SETTLED_STATUSES)
    violations = layers.violations.assign(
        settled=settled,
        category=layers.violations[category],
        status_label=[t(f"status.{s}") for s in layers.violations["status"]],
        source_label=[t(f"source.{s}") for s in layers.violations["source"]],
        color=[STATUS_COLORS.get(s, "#000") for s in layers.violations["status"]],
    )
    return _circles(
        m,
        violations,
        t("layer.violations"),
        lambda f: {
            "color": f["properties"]["color"],
            "weight": 1,
            "fillOpacity": 0.8,
            "fillColor": f["properties"]["color"],
            "radius": 4,
        },
        {
            "case_no": t("field.case_no"),
            "category": t("field.category"),
            "status_label": t("field.status"),
            "observed_at": t("field.observed_at"),
            "due_at": t("field.due_at"),
            "description": t("field.description"),
            "source_label": t("field.source"),
        },
        tooltip="category",
    )


def base_tiles(m: folium.Map, tiles: str, streets_from_osm: bool = True) -> None:
    """The base map: ``own`` (drawn by this server from the city's streets, with the ODbL
    attribution when they came from OpenStreetMap), ``osm``, ``none`` or a tile URL template."""
    if tiles == "none":
        return
    if tiles == "own":
        folium.TileLayer(
            OWN_TILES,
            attr=OSM_ATTRIBUTION if streets_from_osm else "&nbsp;",
            name="base",
            max_zoom=20,
        ).add_to(m)
        return
    if tiles == "osm":
        folium.TileLayer(OSM_TILES, attr=OSM_ATTRIBUTION, name="OpenStreetMap", max_zoom=19).add_to(
            m
        )
        return
    folium.TileLayer(
        tiles, attr="&copy; OpenStreetMap contributors", name="base", max_zoom=20
    ).add_to(m)


def _escaped(frame: gpd.GeoDataFrame, fields: list[str]) -> gpd.GeoDataFrame:
    """Keep ``fields`` plus styling columns, with every text value through ``html_text``.

    folium's popups and tooltips put property values into innerHTML, so escaping here
    is what stops a description such as ``<img onerror=...>`` from running; and branca
    compiles the page's script as Jinja, so no value may keep a ``{{``. The filters'
    values are escaped too (planner.js reads them back as text).
    """
    extra = ["color", "settled", *FILTER_KEYS]
    keep = [c for c in dict.fromkeys([*fields, *extra]) if c in frame.columns]
    out = frame[[*keep, "geometry"]].copy()
    for col in keep:
        out[col] = [_cell(v) for v in out[col]]
    return out


def _cell(value):
    """A property value as folium may show it: text escaped, a list as escaped text."""
    if isinstance(value, str):
        return html_text(value)
    if isinstance(value, list | tuple):
        return html_text(", ".join(map(str, value)))
    return "" if value is None else value


def _geojson(frame, layer_name, style, fields: dict[str, str], tooltip: str, marker=None):
    data = feature_collection(_escaped(frame, list(fields)))
    return folium.GeoJson(
        data,
        name=html_text(layer_name),
        style_function=style,
        marker=marker,
        popup=folium.GeoJsonPopup(
            fields=list(fields), aliases=[html_text(a) for a in fields.values()]
        ),
        tooltip=folium.GeoJsonTooltip(fields=[tooltip], labels=False),
        zoom_on_click=False,
    )


def _polygons(m, frame, layer_name, style, fields, tooltip):
    if len(frame):
        return _geojson(frame, layer_name, style, fields, tooltip).add_to(m)
    return None


def _circles(m, frame, layer_name, style, fields, tooltip):
    if len(frame):
        return _geojson(
            frame, layer_name, style, fields, tooltip, marker=folium.CircleMarker(radius=5)
        ).add_to(m)
    return None


def _areas(m: folium.Map, areas: gpd.GeoDataFrame, t) -> None:
    for level, layer in (
        ("district", "layer.districts"),
        ("street", "layer.streets"),
        ("community", "layer.communities"),
    ):
        frame = areas[areas["level"] == level]
        style = AREA_STYLES[level]
        _polygons(
            m,
            frame,
            t(layer),
            lambda f, s=style: {**s, "fillOpacity": 0},
            {"code": t("field.code"), "name": t("field.name")},
            tooltip="name",
        )


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


class _Legend(MacroElement):
    _template = Template(
        """{% macro html(this, kwargs) %}
        <div id="legend" class="cw-legend">{{ this.body }}</div>
        {% endmacro %}"""
    )

    def __init__(self, body: str):
        super().__init__()
        self.body = body


def _legend(categories: list[dict], t, lang: str) -> _Legend:
    e = html_text

    def swatch(color: str, label: str, shape: str = "dot") -> str:
        return (
            f'<div><span class="cw-{shape}" style="background:{e(color)}"></span>{e(label)}</div>'
        )

    parts = [f"<h6>{e(t('legend.title'))}</h6>", f"<b>{e(t('legend.violation_status'))}</b>"]
    parts += [swatch(c, t(f"status.{s}")) for s, c in STATUS_COLORS.items()]
    parts.append(f"<b>{e(t('legend.point_category'))}</b>")
    key = "name_en" if lang == "en" else "name_zh"
    parts += [swatch(c["color"], c[key]) for c in categories]
    parts.append(f"<div class='cw-note'>{e(t('legend.zones'))}</div>")
    parts.append(f"<div class='cw-note'>{e(t('legend.invented'))}</div>")
    return _Legend("".join(parts))
