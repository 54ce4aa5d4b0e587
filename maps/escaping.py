"""User text in folium pages: one helper for each place it can land.

* HTML — the title bar, the legend, the round's sheet, and the property values folium's
  GeoJsonPopup and GeoJsonTooltip put into ``innerHTML``: ``html_text``.
* HTML that folium writes between backticks, a JavaScript template literal (``folium.Popup``,
  ``folium.Tooltip``), where a backtick or ``${`` would end the text and run as code:
  ``literal_html`` (``popup`` and ``tooltip`` build the two with it).
* JSON inside ``<script>``, where ``</script>`` or ``<!--`` would end or bend the script:
  ``script_json``.

Under all three lies one more trap: branca compiles what every element renders as a Jinja
template again (``Element(template)``), so ``{{ ... }}`` in a zone's name would be evaluated
on the server when the page is rendered. No helper's output holds ``{{``, ``{%`` or ``{#``.
"""

from __future__ import annotations

import json
import re

import folium

_HTML = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "'": "&#39;",
        # not HTML's, but folium's: Jinja's delimiters and a template literal's
        "{": "&#123;",
        "}": "&#125;",
        "`": "&#96;",
        "$": "&#36;",
        "\\": "&#92;",
    }
)
_LITERAL = str.maketrans({"`": "&#96;", "$": "&#36;", "\\": "&#92;"})
_SCRIPT = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)
_JINJA = re.compile(r"\{[{%#]")
_OPENING = re.compile(r"\{(?=[{%#])")  # each "{" that begins a Jinja delimiter


def html_text(value: object) -> str:
    """``value`` as text anywhere in HTML (an element, a quoted attribute), also where folium
    puts that HTML between backticks or compiles it as Jinja; ``None`` is empty.

    >>> html_text('<img src=x onerror="go()">')
    '&lt;img src=x onerror=&quot;go()&quot;&gt;'
    >>> html_text("`${go()}` {{ 6*7 }}")
    '&#96;&#36;&#123;go()&#125;&#96; &#123;&#123; 6*7 &#125;&#125;'
    """
    return "" if value is None else str(value).translate(_HTML)


def literal_html(markup: str) -> str:
    """Our own ``markup``, with every user text in it through ``html_text``, made safe for
    folium's Popup and Tooltip, which write it between backticks in the page's script.
    Entities mean the same in HTML, so only the script's reading changes.

    >>> literal_html("<b>`${go()}`</b>")
    '<b>&#96;&#36;{go()}&#96;</b>'
    """
    if _JINJA.search(markup):
        raise ValueError("markup holds a Jinja delimiter: pass user text through html_text")
    return markup.translate(_LITERAL)


def popup(markup: str, **options) -> folium.Popup:
    """A folium Popup of ``markup`` (see ``literal_html``)."""
    return folium.Popup(literal_html(markup), **options)


def tooltip(markup: str, **options) -> folium.Tooltip:
    """A folium Tooltip of ``markup`` (see ``literal_html``)."""
    return folium.Tooltip(literal_html(markup), **options)


def script_json(obj: object) -> str:
    """``obj`` as JSON to write inside ``<script>``: ``<``, ``>`` and ``&`` as ``\\u003c`` and
    so on, so no string can close the script or open a comment, and no ``{{``, ``{%`` or
    ``{#``. Parsed back, every string is what it was.

    >>> print(script_json({"name": "</script><!-- {{ 6*7 }}"}))
    {"name": "\\u003c/script\\u003e\\u003c!-- \\u007b{ 6*7 }}"}
    >>> json.loads(script_json(["{{{%x", "{#"])) == ["{{{%x", "{#"]
    True
    """
    text = json.dumps(obj, ensure_ascii=False).translate(_SCRIPT)
    # outside strings JSON puts '"', "}" or a space after "{", never "{", "%" or "#": so each
    # match is inside a string, where \u007b is the same "{"
    return _OPENING.sub(r"\\u007b", text)
