"""The planner map's layers, asked from the server by the page (service/web/static/maplayers.js).

The page is a shell: no feature is embedded in it. A ``FetchedLayer`` asks
``/api/map/layers/{layer}`` for its whole layer once (revalidated by ETag), or — a layer too
big for a page, such as a benchmark city's 10,000 assessment points — for the view, from the
zoom where it can be read, again after each move. Grid cells come from vector tiles
(``GridCellTiles``) from the zoom where a cell can be told apart. Popups and tooltips are
built with every value set as text.
"""

from __future__ import annotations

from branca.element import MacroElement
from folium.elements import JSCSSMixin
from folium.map import Layer
from jinja2 import Template

from maps.escaping import script_json

GRID_FROM_ZOOM = 15  # a 100 m cell is ~20 px wide from here


class FetchedLayer(JSCSSMixin, Layer):
    """One layer drawn by ``cwMap.layer`` from ``options`` (see maplayers.js): ``url``,
    ``whole`` (else per view), ``minZoom``, ``kind`` (polygon, point, around, case),
    ``style`` (Leaflet path options), ``colorBy``/``colors``, ``where`` (property filter),
    ``labels`` (property → popup label), ``values`` (property → {code: name}), ``dates``
    and ``times`` (shown in the city's time), ``pane``."""

    default_js: list[tuple[str, str]] = []  # set by maps.assets.install_local_assets
    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = cwMap.layer({{ this._parent.get_name() }},
                                                {{ this.options_json }});
        {% endmacro %}
        """
    )

    def __init__(self, name: str, options: dict, show: bool = True):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "FetchedLayer"
        defaults = {
            "whole": True,
            "minZoom": 0,
            "kind": "polygon",
            "style": {},
            "labels": {},
            "values": {},
            "dates": [],
            "times": [],
            "where": {},
            "settled": [],
            "utcOffsetMinutes": 0,
        }
        self.options_json = script_json({**defaults, **options, "show": bool(show)})


class LayersReady(JSCSSMixin, MacroElement):
    """After the last layer: lets maplayers.js set ``cw:layers-drawn`` once all have drawn."""

    default_js: list[tuple[str, str]] = []
    _template = Template("""{% macro script(this, kwargs) %}cwMap.ready();{% endmacro %}""")

    def __init__(self):
        super().__init__()
        self._name = "LayersReady"


class GridCellTiles(JSCSSMixin, Layer):
    """Grid cell outlines from ``/tiles/grid_cells/{z}/{x}/{y}.pbf`` (from GRID_FROM_ZOOM)."""

    default_js: list[tuple[str, str]] = []  # set by maps.assets.install_local_assets
    _template = Template(
        """
        {% macro script(this, kwargs) %}
        // no tiles below the zoom where cells can be read; not the minZoom option, which
        // would raise the whole map's lowest zoom
        var {{ this.get_name() }} = new (L.VectorGrid.Protobuf.extend({
            _isValidTile: function (c) {
                return c.z >= {{ this.from_zoom }}
                    && L.VectorGrid.Protobuf.prototype._isValidTile.call(this, c);
            }
        }))({{ this.url|tojson }}, {
            rendererFactory: L.canvas.tile,
            interactive: false,
            maxNativeZoom: 18,
            vectorTileLayerStyles: {
                grid_cells: {{ this.style_json }}
            }
        }).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(
        self,
        name: str,
        url: str,
        style: dict,
        show: bool = True,
        from_zoom: int = GRID_FROM_ZOOM,
    ):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "GridCellTiles"
        self.url = url
        self.from_zoom = int(from_zoom)
        self.style_json = script_json(style)
