"""The planner's tools beside the map (service/web/static/planner.js): editing through the
features API, the zone check overlay, search and filters, problem points.

The page carries their configuration as JSON (labels from the message catalogues, form
fields, pick lists, URLs, the JS names of the map's layers), written with ``script_json``
so that no name can end the block; the script builds the panel from it and sets every text
as text.
"""

from __future__ import annotations

from branca.element import MacroElement
from folium.elements import JSCSSMixin
from jinja2 import Template

from maps.escaping import script_json


class PlannerTools(JSCSSMixin, MacroElement):
    """``config`` is what planner.js reads; the map's JS name is added when rendered."""

    default_js: list[tuple[str, str]] = []  # set by maps.assets.install_local_assets
    default_css: list[tuple[str, str]] = []
    _template = Template(
        """{% macro header(this, kwargs) %}
        <script type="application/json" id="cw-config">{{ this.config_json }}</script>
        {% endmacro %}"""
    )

    def __init__(self, config: dict):
        super().__init__()
        self._name = "PlannerTools"
        self.config = dict(config)

    def render(self, **kwargs):
        self.config["map"] = self._parent.get_name()
        self.config_json = script_json(self.config)
        super().render(**kwargs)
