"""Layers too big to embed in a page, read for the view from the features API.

A city of the benchmark's size has 10,000 assessment points and 40,000 grid cells: embedded,
the page is tens of megabytes before the first tile is drawn. Such a layer is drawn from
zoom ``min_zoom`` up, with the features inside the view (plus a margin) asked from
``/collections/{id}/items?bbox=``, again after each move; an answer that arrives after a
newer move is dropped. Grid cells come from vector tiles instead (``GridCellTiles``).
Popups and tooltips are built with every value set as text.
"""

from __future__ import annotations

from folium.elements import JSCSSMixin
from folium.map import Layer
from jinja2 import Template

from maps.escaping import script_json


class LazyFeatures(Layer):
    """``style``: Leaflet path options, with ``colorBy`` (a property) and ``colors`` (value →
    colour); ``radiusBy``: a property in metres drawn as a dashed circle around points;
    ``labels``: property → popup label; ``values``: property → {code: text}; ``dates``:
    properties shown as days; ``pane``: a pane of its own (points above polygons)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function () {
            var map = {{ this._parent.get_name() }};
            var o = {{ this.options_json }};
            function colour(p) {
                return (o.style.colors || {})[p[o.style.colorBy]] || o.style.color;
            }
            function popup(p) {
                var box = document.createElement("div");
                box.className = "lazy-popup";
                Object.keys(o.labels).forEach(function (k) {
                    var v = p[k];
                    if (o.values[k] && v != null) { v = o.values[k][v] || v; }
                    if (o.dates.indexOf(k) >= 0 && v) { v = new Date(v).toLocaleDateString(); }
                    var row = document.createElement("div"), b = document.createElement("b");
                    b.textContent = o.labels[k] + ": ";
                    row.appendChild(b);
                    row.appendChild(document.createTextNode(v == null ? "" : String(v)));
                    box.appendChild(row);
                });
                return box;
            }
            if (o.pane && !map.getPane(o.pane)) { map.createPane(o.pane).style.zIndex = 420; }
            var layer = L.geoJSON(null, {
                pane: o.pane || "overlayPane",
                style: function (f) {
                    var c = colour(f.properties);
                    return Object.assign({}, o.style, {color: o.style.stroke || c, fillColor: c});
                },
                pointToLayer: function (f, ll) {
                    var c = colour(f.properties);
                    var dot = L.circleMarker(ll, {radius: 7, color: "#222", weight: 1,
                                                  fillColor: c, fillOpacity: 0.95,
                                                  pane: o.pane || "overlayPane"});
                    if (!o.radiusBy || !f.properties[o.radiusBy]) { return dot; }
                    return L.featureGroup([
                        L.circle(ll, {radius: f.properties[o.radiusBy], color: c, weight: 1,
                                      dashArray: "4 4", fillOpacity: 0.05, interactive: false,
                                      pane: o.pane || "overlayPane"}),
                        dot]);
                },
                onEachFeature: function (f, l) {
                    var name = f.properties.name || f.properties.code;
                    if (name) {
                        var tip = document.createElement("span");
                        tip.textContent = String(name);
                        l.bindTooltip(tip);
                    }
                    l.bindPopup(function () { return popup(f.properties); });
                }
            });
            var asked = 0;
            function refresh() {
                if (!map.hasLayer(layer)) { return; }
                if (map.getZoom() < o.minZoom) { layer.clearLayers(); return; }
                var b = map.getBounds().pad(0.25), n = ++asked;
                var url = o.url + "?limit=10000&bbox=" + [b.getWest(), b.getSouth(),
                    b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(7); }).join(",");
                fetch(url, {credentials: "same-origin", headers: {Accept: "application/geo+json"}})
                    .then(function (r) { return r.json(); })
                    .then(function (fc) {
                        if (n !== asked) { return; }  // a newer view was asked for
                        layer.clearLayers();
                        layer.addData(fc);
                    });
            }
            map.on("moveend", refresh);
            layer.on("add", refresh);
            return layer.addTo(map);
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        name: str,
        url: str,
        style: dict,
        labels: dict,
        values: dict | None = None,
        min_zoom: int = 15,
        radius_by: str | None = None,
        dates: tuple[str, ...] = (),
        pane: str | None = None,
        show: bool = True,
    ):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "LazyFeatures"
        self.options_json = script_json(
            {
                "url": url,
                "style": style,
                "labels": labels,
                "values": values or {},
                "minZoom": int(min_zoom),
                "radiusBy": radius_by,
                "dates": list(dates),
                "pane": pane,
            }
        )


class GridCellTiles(JSCSSMixin, Layer):
    """Grid cell outlines from ``/tiles/grid_cells/{z}/{x}/{y}.pbf`` (from zoom 13)."""

    default_js: list[tuple[str, str]] = []  # set by maps.assets.install_local_assets
    _template = Template(
        """
        {% macro script(this, kwargs) %}
        // no tiles below zoom 13 (there are no cells in them); not the minZoom option,
        // which would raise the whole map's lowest zoom to 13
        var {{ this.get_name() }} = new (L.VectorGrid.Protobuf.extend({
            _isValidTile: function (c) {
                return c.z >= 13 && L.VectorGrid.Protobuf.prototype._isValidTile.call(this, c);
            }
        }))({{ this.url|tojson }}, {
            rendererFactory: L.canvas.tile,
            interactive: false,
            maxNativeZoom: 18,
            vectorTileLayerStyles: {
                grid_cells: {color: "#607d8b", weight: 0.5, opacity: 0.6, fill: false}
            }
        }).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, name: str, url: str, show: bool = True):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "GridCellTiles"
        self.url = url
