"""An inspection round on the street map, for a phone and for print: the path, numbered
stops with their arrival times, each stop's checklist and the open cases near it, an
"arrived" check-in and a link to report a case there. Every user text goes through
maps.escaping: popups and tooltips are script text, the sheet is compiled by branca.
On a phone the map sits above the stop list (collapsible), and the first view fits every
stop into the part of the map the list leaves visible. Times are the city's, as HH:MM."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

import folium
from branca.element import Element, MacroElement
from jinja2 import Template

from maps.escaping import html_text, popup, script_json, tooltip

STOP_ICON_PX = 34  # a numbered marker a thumb can hit and an eye can read in the street


def _local(iso: str, tz) -> dt.datetime:
    return dt.datetime.fromisoformat(iso).astimezone(tz)


def _hhmm(iso: str, tz) -> str:
    return _local(iso, tz).strftime("%H:%M")


def _named(names: Mapping[str, str] | None, code: str | None) -> str:
    """A catalogue code by its name in the page's language; the code itself if unnamed."""
    return (names or {}).get(code) or code or ""


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
) -> folium.Map:
    """``details``: per point id, ``checklist`` (texts) and ``cases`` (open cases near it);
    ``point_categories`` and ``case_categories``: catalogue code → name, in the page's
    language; ``tz``: the city's time zone, in which every time is shown."""
    e = html_text
    lon, lat = plan["depot"]
    m = folium.Map(location=[lat, lon], zoom_start=15, tiles=None, control_scale=True)
    tiles(m)
    if plan["geometry"]:
        folium.PolyLine(
            [(y, x) for x, y in plan["geometry"]["coordinates"]],
            color="#b71c1c",
            weight=5,
            opacity=0.8,
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
    rows = []
    for s in plan["stops"]:
        info = details.get(s["point_id"], {})
        category = _named(point_categories, s.get("category"))
        checklist = "".join(f"<li>{e(c)}</li>" for c in info.get("checklist", []))
        cases = (
            "".join(
                f"<li>{e(c['case_no'])} · {e(_named(case_categories, c['category']))} · "
                f"{e(t('status.' + c['status']))}"
                f"{' · ' + e(t('ui.problems.overdue')) if c['overdue'] else ''}</li>"
                for c in info.get("cases", [])
            )
            or f"<li>{e(t('report.none'))}</li>"
        )
        arrived = s.get("arrived_at")
        body = (
            f"<b>{int(s['seq'])}. {e(s['name'])}</b><br>"
            f'<span class="cw-stop-kind">{e(category)}</span> <small>({e(s["code"])})</small><br>'
            f"{e(t('route.eta'))} {_hhmm(s['eta'], tz)} · {e(t('route.dwell'))} "
            f"{s['dwell_s'] // 60} min<br><b>{e(t('route.checklist'))}</b><ul>{checklist}</ul>"
            f"<b>{e(t('route.open_cases'))}</b><ul>{cases}</ul>"
        )
        half = STOP_ICON_PX // 2
        folium.Marker(
            [s["lat"], s["lon"]],
            icon=folium.DivIcon(
                html=f'<div class="cw-stop" data-seq="{int(s["seq"])}">{int(s["seq"])}</div>',
                icon_size=(STOP_ICON_PX, STOP_ICON_PX),
                icon_anchor=(half, half),
            ),
            popup=popup(body, max_width=300),
            tooltip=tooltip(e(f"{s['seq']}. {s['name']}")),
        ).add_to(m)
        report = f"{report_url}?lon={s['lon']}&lat={s['lat']}"
        rows.append(
            f'<tr data-seq="{int(s["seq"])}"><td class="cw-seq">{int(s["seq"])}</td>'
            f"<td>{e(s['name'])}<br><small>{e(category)} · {e(s['code'])}</small>"
            f'<ul class="cw-check">{checklist}</ul></td>'
            f"<td>{_hhmm(s['eta'], tz)}</td><td>"
            f'<button type="button" class="cw-arrive" data-seq="{int(s["seq"])}"'
            f"{' disabled' if arrived else ''}>"
            f"{e(t('route.arrived_at', at=_hhmm(arrived, tz)) if arrived else t('route.arrive'))}"
            f'</button> <a class="cw-report-here" href="{e(report)}">{e(t("route.report"))}</a>'
            "</td></tr>"
        )
    m.get_root().html.add_child(Element(_sheet(plan, rows, t, tz)))
    m.add_child(
        _RoundScript(
            arrive_url,
            csrf_token,
            t("route.arrived_at", at="{at}"),
            getattr(tz, "key", None) or str(tz),
            _bounds(plan),
            {"hide": t("route.hide_list"), "show": t("route.show_list")},
        )
    )
    return m


def _sheet(plan: dict, rows: list[str], t: Callable[..., str], tz) -> str:
    """The stop list: a head that stays when the list is folded away, then the table."""
    e = html_text
    hours = f"{_hhmm(plan['window_start'], tz)}–{_hhmm(plan['window_end'], tz)}"
    release = plan.get("release_at")
    when = (
        {"time": _hhmm(release, tz), "date": _local(release, tz).date().isoformat()}
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
        f'<p class="cw-state">{e(state)}</p></div>'
        f'<div id="cw-sheet-body" class="cw-sheet-body">{released}{notes}{table}'
        f'<p class="cw-print"><button type="button" id="cw-print">'
        f"{e(t('route.print'))}</button></p></div></section>"
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


class _RoundScript(MacroElement):
    """The page's behaviour, with no inline handler (the page's CSP allows none): the first
    view fits the stops into the part of the map no list or control covers; the list folds
    away and back (the map then takes the room); "arrived" checks in through the API and
    shows the time kept, in the city's time zone; "print"."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var sheet = document.getElementById("cw-sheet");
            var toggle = document.getElementById("cw-sheet-toggle");
            var bounds = {{ this.bounds }};
            var labels = {{ this.labels }};
            function fit() {
                if (!bounds) { return; }
                map.invalidateSize({pan: false});
                var m = map.getContainer().getBoundingClientRect();
                var s = sheet.getBoundingClientRect();
                var edge = {{ this.edge }};
                var pad = {top: edge, right: edge, bottom: edge + 16, left: edge + 36};
                var overlapX = Math.min(m.right, s.right) - Math.max(m.left, s.left);
                var overlapY = Math.min(m.bottom, s.bottom) - Math.max(m.top, s.top);
                if (overlapX > 0 && overlapY > 0) {  // the list lies over the map
                    if (s.top > m.top + m.height / 2) { pad.bottom += m.bottom - s.top; }
                    else { pad.right += m.right - s.left; }
                }
                var snap = map.options.zoomSnap;
                map.options.zoomSnap = 0.25;  // a whole level can halve the view of the stops
                map.fitBounds(bounds, {paddingTopLeft: [pad.left, pad.top],
                    paddingBottomRight: [pad.right, pad.bottom], maxZoom: 17, animate: false});
                map.options.zoomSnap = snap;
            }
            fit();
            toggle.addEventListener("click", function () {
                var folded = sheet.classList.toggle("cw-folded");
                toggle.setAttribute("aria-expanded", folded ? "false" : "true");
                toggle.textContent = folded ? labels.show : labels.hide;
                map.invalidateSize({pan: false});
            });
            document.getElementById("cw-print").addEventListener("click", function () {
                window.print();
            });
            var clock;
            try {
                clock = new Intl.DateTimeFormat("en-GB", {timeZone: {{ this.tz }},
                    hour: "2-digit", minute: "2-digit", hourCycle: "h23"});
            } catch (err) { clock = null; }
            document.querySelectorAll(".cw-arrive").forEach(function (b) {
                b.addEventListener("click", function () {
                    b.disabled = true;
                    fetch({{ this.url }}.replace("{seq}", b.dataset.seq), {
                        method: "POST", credentials: "same-origin",
                        headers: {"X-CSRFToken": {{ this.csrf }}, Accept: "application/json"}
                    }).then(function (r) { return r.json().then(function (d) {
                        if (!r.ok) { b.disabled = false; b.title = d.detail || r.status; return; }
                        var at = new Date(d.arrived_at);
                        b.textContent = {{ this.done }}.replace("{at}", clock ?
                            clock.format(at) : d.arrived_at.slice(11, 16));
                    }); });
                });
            });
        })();
        {% endmacro %}"""
    )

    def __init__(self, url, csrf, done, tz_name, bounds, labels):
        super().__init__()
        self.url, self.csrf, self.done = script_json(url), script_json(csrf), script_json(done)
        self.tz, self.bounds, self.labels = (
            script_json(tz_name),
            script_json(bounds),
            script_json(labels),
        )
        self.edge = STOP_ICON_PX // 2 + 10
