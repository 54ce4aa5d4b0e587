"""Pinned local copies of every JS and CSS file folium pages load.

folium fetches Leaflet, jQuery, Bootstrap and plugins from CDNs by default. Pages here
must work on intranets with no internet, so the class-level ``default_js`` and
``default_css`` lists are replaced (not appended to) with files the app serves from
``service/web/static/vendor`` (versions and licences in its README).
"""

from __future__ import annotations

import folium
import folium.plugins

VENDOR = {
    "leaflet": "leaflet-1.9.4",
    "jquery": "jquery-3.7.1",
    "bootstrap": "bootstrap-5.3.8",
    "fontawesome": "fontawesome-free-6.7.2",
    "awesome_markers": "leaflet.awesome-markers-2.0.5",
    "markercluster": "leaflet.markercluster-1.5.3",
    "vectorgrid": "leaflet.vectorgrid-1.3.0",
    "geoman": "leaflet-geoman-free-2.20.2",
    "chartjs": "chart.js-4.4.7",
    "heat": "leaflet.heat-0.2.0",
}


def local_assets(base: str, static: str = "/static") -> dict[str, list[tuple[str, str]]]:
    """The JS and CSS lists for folium classes, with URLs under ``base`` (e.g. /static/vendor)
    and, for the app's own scripts, ``static``.

    >>> local_assets("/v")["map_js"][0]
    ('leaflet', '/v/leaflet-1.9.4/leaflet.js')
    """
    v = {k: f"{base.rstrip('/')}/{d}" for k, d in VENDOR.items()}
    return {
        "map_js": [
            ("leaflet", f"{v['leaflet']}/leaflet.js"),
            ("jquery", f"{v['jquery']}/jquery.min.js"),
            ("bootstrap", f"{v['bootstrap']}/bootstrap.bundle.min.js"),
            ("awesome_markers", f"{v['awesome_markers']}/leaflet.awesome-markers.min.js"),
        ],
        "map_css": [
            ("leaflet_css", f"{v['leaflet']}/leaflet.css"),
            ("bootstrap_css", f"{v['bootstrap']}/bootstrap.min.css"),
            ("awesome_markers_font_css", f"{v['fontawesome']}/css/all.min.css"),
            ("awesome_markers_css", f"{v['awesome_markers']}/leaflet.awesome-markers.css"),
        ],
        "cluster_js": [("markerclusterjs", f"{v['markercluster']}/leaflet.markercluster.js")],
        "vectorgrid_js": [("vectorgrid", f"{v['vectorgrid']}/Leaflet.VectorGrid.bundled.min.js")],
        "tools_js": [
            ("geoman", f"{v['geoman']}/leaflet-geoman.min.js"),
            ("planner", f"{static.rstrip('/')}/planner.js"),
        ],
        "tools_css": [("geoman_css", f"{v['geoman']}/leaflet-geoman.css")],
        "layers_js": [("maplayers", f"{static.rstrip('/')}/maplayers.js")],
        "cluster_css": [
            ("markerclustercss", f"{v['markercluster']}/MarkerCluster.css"),
            ("markerclusterdefaultcss", f"{v['markercluster']}/MarkerCluster.Default.css"),
        ],
    }


def install_local_assets(base: str, static: str = "/static") -> None:
    """Point folium's classes at the local copies. Safe to call more than once."""
    assets = local_assets(base, static)
    folium.Map.default_js = assets["map_js"]
    folium.Map.default_css = assets["map_css"]
    folium.plugins.MarkerCluster.default_js = assets["cluster_js"]
    folium.plugins.MarkerCluster.default_css = assets["cluster_css"]
    from maps.tiles import ViolationTiles  # (maps.tiles imports this module)

    ViolationTiles.default_js = assets["vectorgrid_js"]
    from maps.lazy import FetchedLayer, GridCellTiles, LayersReady

    GridCellTiles.default_js = assets["vectorgrid_js"]
    FetchedLayer.default_js = LayersReady.default_js = assets["layers_js"]
    from maps.tools import PlannerTools

    PlannerTools.default_js = assets["tools_js"]
    PlannerTools.default_css = assets["tools_css"]
