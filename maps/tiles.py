"""The violations layer as vector tiles, for cities with more cases than a page can embed.

Leaflet.VectorGrid draws ``/tiles/violations/{z}/{x}/{y}.pbf`` (service/layers/tiles.py):
counts per bin below zoom 13, the cases from 14 up, and at 13 the cases where they are few
and the counts where they crowd (each feature is drawn by what it carries). The tiles are not
interactive: VectorGrid 1.3's own events break on Leaflet 1.9 (``L.DomEvent.fakeStop`` is
gone from Leaflet, and its point symbols have no latlng for Leaflet's event code). Instead a
click on the map from zoom 13 asks the map's violations layer for a case within a few pixels
(``bbox``, the caller's own scope) and shows it as the other cases are shown
(``cwMap.casePopup``), its text set as text.
"""

from __future__ import annotations

from folium.elements import JSCSSMixin
from folium.map import Layer
from jinja2 import Template

from maps.escaping import script_json


class ViolationTiles(JSCSSMixin, Layer):
    """An overlay of the violations tiles; ``popup``: the options of a case's popup
    (``cwMap.casePopup`` in maplayers.js: labels, names of codes, colours, words)."""

    default_js: list[tuple[str, str]] = []  # set by maps.assets.install_local_assets
    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function () {
            var map = {{ this._parent.get_name() }};
            if (!map.getPane("violationTiles")) {
                map.createPane("violationTiles").style.zIndex = 450;
                map.getPane("violationTiles").style.pointerEvents = "none";
            }
            var colors = {{ this.colors }}, popup = {{ this.popup }};
            function radius(n) { return Math.min(18, 3 + Math.sqrt(n)); }
            var layer = L.vectorGrid.protobuf({{ this.url|tojson }}, {
                rendererFactory: L.canvas.tile,
                pane: "violationTiles",
                interactive: false,
                maxNativeZoom: 18,
                vectorTileLayerStyles: {
                    violations: function (p) {
                        if (p.count !== undefined) {
                            return {radius: radius(p.count), weight: 1, color: "#b71c1c",
                                    fill: true, fillColor: p.open ? "#e53935" : "#9e9e9e",
                                    fillOpacity: 0.6};
                        }
                        var c = colors[p.status] || "#000";
                        return {radius: 4, weight: 1, color: c, fill: true, fillColor: c,
                                fillOpacity: 0.8};
                    }
                }
            });
            // a click near a case (from zoom 13, where the tiles hold cases) shows it; caught
            // on the way down, as the other layers' canvas stops the clicks it handles
            map.getContainer().addEventListener("click", function (ev) {
                if (!map.hasLayer(layer) || map.getZoom() < {{ this.raw_from }}
                    || ev.target.closest(".leaflet-control, .leaflet-popup")) { return; }
                var c = map.mouseEventToContainerPoint(ev), r = 6;
                var sw = map.containerPointToLatLng([c.x - r, c.y + r]);
                var ne = map.containerPointToLatLng([c.x + r, c.y - r]);
                var url = {{ this.items_url|tojson }} + "?limit=1&bbox="
                    + [sw.lng, sw.lat, ne.lng, ne.lat].map(function (v) {
                        return v.toFixed(7); }).join(",");
                fetch(url, {credentials: "same-origin",
                            headers: {Accept: "application/geo+json"}})
                    .then(function (r) { return r.json(); })
                    .then(function (fc) {
                        if (!fc.features || !fc.features.length) { return; }
                        var f = fc.features[0];
                        L.popup({maxWidth: 320}).setLatLng(L.latLng(f.geometry.coordinates[1],
                                                                   f.geometry.coordinates[0]))
                            .setContent(cwMap.casePopup(popup, f.properties)).openOn(map);
                    });
            }, true);
            // a User Timing mark each time the tiles in view are all drawn (the benchmark
            // of the page reads the first)
            layer.on("load", function () { performance.mark("cw:violation-tiles-drawn"); });
            return layer.addTo(map);
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        name: str,
        url: str,
        colors: dict,
        popup: dict,
        raw_from: int = 13,
        items_url: str = "/api/map/layers/violations",
        show: bool = True,
    ):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "ViolationTiles"
        self.raw_from = int(raw_from)
        self.items_url = items_url
        self.url = url
        self.colors = script_json(colors)
        self.popup = script_json(popup)
