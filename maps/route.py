"""An inspection round on the street map, for a phone, for the night and for print: the path,
numbered stops with their arrival times, each stop's street, checklist and the open cases near
it, links that open the phone's map app on the way to a stop, an "arrived" check-in and a link
to report a case there. Every user text goes through maps.escaping: popups and tooltips are
script text, the lists are compiled by branca.

On a phone the map sits above the stop list (collapsible) and the first view fits every stop
into the part of the map the list leaves visible. On paper the first page is the whole round
on the map, fitted to every stop at A4 size, then one block per stop (maps.round_sheet).
The behaviour is service/web/static/round.js, the looks round.css (day, night and print):
linked here with their URLs, run with this page's data. Times are the city's."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import folium
from branca.element import CssLink, Element, JavascriptLink, MacroElement
from jinja2 import Template

from maps.escaping import html_text, popup, script_json, tooltip
from maps.round_sheet import (
    case_line,
    hhmm,
    local,
    named,
    nav_links,
    next_stop,
    print_stop,
    stop_row,
    where,
)

STOP_ICON_PX = 34  # a numbered marker a thumb can hit and an eye can read in the street
PATH_CLASS = "cw-path"  # the round's path, recoloured by the night theme


def build_route_map(
    plan: dict,
    details: dict[int, dict],
    t: Callable[..., str],
    tz,
    arrive_url: str,
    report_url: str,
    csrf_token: str,
    tiles: Callable[[folium.Map], None],
    point_categories: Mapping[str, str] | None = None,
    case_categories: Mapping[str, str] | None = None,
    stylesheet: str | None = None,
    script: str | None = None,
    verifying: dict[int, dict] | None = None,
) -> folium.Map:
    """``details``: per point id, ``checklist`` (texts), ``cases`` (open cases near it, with
    ``unit`` and ``department`` names), ``street`` and ``address``; ``verifying``: the same
    per case id of a verification stop (the case itself its one case, and the verification's
    checklist line added here); ``point_categories`` and
    ``case_categories``: catalogue code → name, in the page's language; ``tz``: the city's
    time zone, in which every time is shown; ``stylesheet`` and ``script``: the URLs of
    round.css and round.js."""
    e = html_text
    lon, lat = plan["depot"]
    mode = plan.get("mode") or "walk"
    m = folium.Map(location=[lat, lon], zoom_start=15, tiles=None, control_scale=True)
    tiles(m)
    if plan["geometry"]:
        folium.PolyLine(
            [(y, x) for x, y in plan["geometry"]["coordinates"]],
            color="#b71c1c",
            weight=5,
            opacity=0.8,
            class_name=PATH_CLASS,
        ).add_to(m)
    if plan["released"]:  # a sealed round's "depot" is the city's centre, not a start
        folium.CircleMarker(
            [lat, lon],
            radius=8,
            color="#000",
            fill=True,
            fill_color="#fff",
            fill_opacity=1,
            tooltip=tooltip(e(t("route.depot"))),
        ).add_to(m)
    rows, sheets = [], []
    for s in plan["stops"]:
        if s.get("point_id") is None:  # a verification visit to a fixed case
            info = dict((verifying or {}).get(s.get("case_id"), {}))
            info["checklist"] = [t("route.verify.check"), *info.get("checklist", [])]
        else:
            info = details.get(s["point_id"], {})
        category = named(point_categories, s.get("category"))
        _marker(s, info, t, tz, category, case_categories, mode).add_to(m)
        rows.append(
            stop_row(
                s,
                info,
                t,
                tz,
                category=category,
                case_names=case_categories,
                report_url=report_url,
                mode=mode,
            )
        )
        sheets.append(print_stop(s, info, t, tz, category=category, case_names=case_categories))
    m.get_root().html.add_child(Element(_sheet(plan, rows, t, tz)))
    m.add_child(
        _Round(
            {
                "arriveUrl": arrive_url,
                "csrf": csrf_token,
                "done": t("route.arrived_at", at="{at}"),
                "tz": getattr(tz, "key", None) or str(tz),
                "bounds": _bounds(plan),
                "edge": STOP_ICON_PX // 2 + 10,
                "labels": {
                    "hide": t("route.hide_list"),
                    "show": t("route.show_list"),
                    "night": t("route.night"),
                    "day": t("route.day"),
                },
            },
            _paper(plan, sheets, t),
            stylesheet,
            script,
        )
    )
    return m


def _marker(stop, info, t, tz, category, case_names, mode) -> folium.Marker:
    """A numbered stop; its popup names the place and lists what to look at there."""
    e = html_text
    seq = int(stop["seq"])
    checklist = "".join(f"<li>{e(c)}</li>" for c in info.get("checklist", []))
    cases = (
        "".join(
            f"<li>{case_line(c, t, tz, case_names)}{_owners(c)}</li>" for c in info.get("cases", [])
        )
        or f"<li>{e(t('report.none'))}</li>"
    )
    place = where(info)
    body = (
        f"<b>{seq}. {e(stop['name'])}</b><br>"
        f'<span class="cw-stop-kind">{e(category)}</span> <small>({e(stop["code"])})</small><br>'
        + (f'<span class="cw-street">{e(place)}</span><br>' if place else "")
        + f"{e(t('route.eta'))} {hhmm(stop['eta'], tz)} · {e(t('route.dwell'))} "
        f"{stop['dwell_s'] // 60} min<br><b>{e(t('route.checklist'))}</b><ul>{checklist}</ul>"
        f"<b>{e(t('route.open_cases'))}</b><ul>{cases}</ul>{nav_links(stop, t, mode)}"
    )
    half = STOP_ICON_PX // 2
    return folium.Marker(
        [stop["lat"], stop["lon"]],
        icon=folium.DivIcon(
            html=f'<div class="cw-stop" data-seq="{seq}">{seq}</div>',
            icon_size=(STOP_ICON_PX, STOP_ICON_PX),
            icon_anchor=(half, half),
        ),
        popup=popup(body, max_width=300),
        tooltip=tooltip(e(f"{seq}. {stop['name']}")),
    )


def _owners(case: Mapping) -> str:
    names = [n for n in (case.get("unit"), case.get("department")) if n]
    return f"<br><small>{html_text(' / '.join(names))}</small>" if names else ""


def _sheet(plan: dict, rows: list[str], t: Callable[..., str], tz) -> str:
    """The stop list: a head that stays when the list is folded away (the round, its state
    and the next stop to walk to), then the table."""
    e = html_text
    hours = f"{hhmm(plan['window_start'], tz)}–{hhmm(plan['window_end'], tz)}"
    release = plan.get("release_at")
    when = (
        {"time": hhmm(release, tz), "date": local(release, tz).date().isoformat()}
        if release
        else None
    )
    if plan["released"]:
        state = t(
            "route.summary",
            n=len(plan["stops"]),
            km=round((plan["distance_m"] or 0) / 1000, 1),
            travel=(plan["travel_s"] or 0) // 60,
            dwell=(plan["dwell_s"] or 0) // 60,
        )
        released = f'<p class="cw-release">{e(t("route.released_at", **when))}</p>' if when else ""
    else:  # a team member before release_at: no stops yet, and when they come
        state = t("route.sealed", **when) if when else t("route.not_released")
        released = ""
    notes = "".join(f'<p class="cw-bad">{e(n)}</p>' for n in plan.get("notes", []))
    table = (
        f"<table><tr><th>#</th><th>{e(t('field.name'))}</th><th>{e(t('route.eta'))}</th>"
        f"<th></th></tr>{''.join(rows)}</table>"
        if rows
        else ""
    )
    return (
        f'<section id="cw-sheet" class="cw-sheet">'
        f'<div class="cw-sheet-head"><button type="button" id="cw-sheet-toggle" '
        f'class="cw-sheet-toggle" aria-expanded="true" aria-controls="cw-sheet-body">'
        f"{e(t('route.hide_list'))}</button>"
        f"<h3>{e(t('route.title', id=plan['id']))} · {e(plan['date'])} {hours}</h3>"
        f'<p class="cw-state">{e(state)}</p>{next_stop(plan, t)}</div>'
        f'<div id="cw-sheet-body" class="cw-sheet-body">{released}{notes}{table}'
        f'<p class="cw-print"><button type="button" id="cw-print">'
        f"{e(t('route.print'))}</button></p></div></section>"
    )


def _paper(plan: dict, sheets: list[str], t: Callable[..., str]) -> str:
    """The pages after the map on paper: the planner's notes, then one block per stop."""
    if not sheets:
        return ""
    notes = "".join(f'<p class="cw-bad">{html_text(n)}</p>' for n in plan.get("notes", []))
    return (
        f'<section id="cw-print-sheet" class="cw-print-sheet" aria-hidden="true">'
        f"{notes}{''.join(sheets)}</section>"
    )


def _bounds(plan: dict) -> list[list[float]] | None:
    """[[south, west], [north, east]] of the stops and the path, for Leaflet; None if none."""
    points = [(s["lon"], s["lat"]) for s in plan["stops"]]
    if plan["geometry"]:
        points += [tuple(c) for c in plan["geometry"]["coordinates"]]
    if not points:
        return None
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return [[min(ys), min(xs)], [max(ys), max(xs)]]


class _Round(MacroElement):
    """Links round.css and round.js after the page's own stylesheet, puts the paper sheet
    after the map (so that on paper the map comes first), and starts round.js on this map
    with the page's data. No inline handler: the page's CSP allows none."""

    _template = Template(
        """{% macro html(this, kwargs) %}{{ this.paper }}{% endmacro %}
        {% macro script(this, kwargs) %}
        if (window.chuangwenRound) {
            window.chuangwenRound({{ this._parent.get_name() }}, {{ this.config }});
        }
        {% endmacro %}"""
    )

    def __init__(self, config: dict, paper: str, stylesheet: str | None, script: str | None):
        super().__init__()
        self._name = "Round"
        self.config = script_json(config)
        self.paper = paper
        self.stylesheet, self.script_url = stylesheet, script

    def render(self, **kwargs):
        header = self.get_root().header
        if self.stylesheet:
            header.add_child(CssLink(self.stylesheet), name="round_css")
        if self.script_url:
            header.add_child(JavascriptLink(self.script_url), name="round_js")
        super().render(**kwargs)
