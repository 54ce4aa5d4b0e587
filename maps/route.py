"""An inspection round on the street map, for a phone and for print: the path, numbered
stops with their arrival times, each stop's checklist and the open cases near it, an
"arrived" check-in and a link to report a case there. Every user text goes through
maps.escaping: popups and tooltips are script text, the sheet is compiled by branca."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import folium
from branca.element import Element, MacroElement
from jinja2 import Template

from maps.escaping import html_text, popup, script_json, tooltip


def _hhmm(iso: str, tz) -> str:
    return dt.datetime.fromisoformat(iso).astimezone(tz).strftime("%H:%M")


def build_route_map(
    plan: dict,
    details: dict[int, dict],
    t: Callable[..., str],
    tz,
    arrive_url: str,
    report_url: str,
    csrf_token: str,
    tiles: Callable[[folium.Map], None],
) -> folium.Map:
    """``details``: per point id, ``checklist`` (texts) and ``cases`` (open cases near it)."""
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
        checklist = "".join(f"<li>{e(c)}</li>" for c in info.get("checklist", []))
        cases = (
            "".join(
                f"<li>{e(c['case_no'])} · {e(c['category'])} · {e(t('status.' + c['status']))}"
                f"{' · ' + e(t('ui.problems.overdue')) if c['overdue'] else ''}</li>"
                for c in info.get("cases", [])
            )
            or f"<li>{e(t('report.none'))}</li>"
        )
        arrived = s.get("arrived_at")
        body = (
            f"<b>{s['seq']}. {e(s['name'])}</b> ({e(s['code'])})<br>"
            f"{e(t('route.eta'))} {_hhmm(s['eta'], tz)} · {e(t('route.dwell'))} "
            f"{s['dwell_s'] // 60} min<br><b>{e(t('route.checklist'))}</b><ul>{checklist}</ul>"
            f"<b>{e(t('route.open_cases'))}</b><ul>{cases}</ul>"
        )
        folium.Marker(
            [s["lat"], s["lon"]],
            icon=folium.DivIcon(
                html=f'<div class="cw-stop">{int(s["seq"])}</div>',
                icon_size=(26, 26),
                icon_anchor=(13, 13),
            ),
            popup=popup(body, max_width=320),
            tooltip=tooltip(e(f"{s['seq']}. {s['name']}")),
        ).add_to(m)
        report = f"{report_url}?lon={s['lon']}&lat={s['lat']}"
        rows.append(
            f'<tr data-seq="{s["seq"]}"><td>{s["seq"]}</td><td>{e(s["name"])}<br>'
            f'<small>{e(s["code"])}</small><ul class="cw-check">{checklist}</ul></td>'
            f"<td>{_hhmm(s['eta'], tz)}</td><td>"
            f'<button type="button" class="cw-arrive" data-seq="{s["seq"]}"'
            f"{' disabled' if arrived else ''}>"
            f"{e(t('route.arrived_at', at=_hhmm(arrived, tz)) if arrived else t('route.arrive'))}"
            f'</button> <a class="cw-report-here" href="{e(report)}">{e(t("route.report"))}</a>'
            "</td></tr>"
        )
    hours = f"{_hhmm(plan['window_start'], tz)}–{_hhmm(plan['window_end'], tz)}"
    notes = "".join(f'<p class="cw-bad">{e(n)}</p>' for n in plan.get("notes", []))
    summary = t(
        "route.summary",
        n=len(plan["stops"]),
        km=round((plan["distance_m"] or 0) / 1000, 1),
        travel=(plan["travel_s"] or 0) // 60,
        dwell=(plan["dwell_s"] or 0) // 60,
    )
    sheet = (
        f'<section id="cw-sheet" class="cw-sheet"><h3>{e(t("route.title", id=plan["id"]))} '
        f"· {e(plan['date'])} {hours}</h3><p>{e(summary)}</p>{notes}"
        f"{'' if plan['released'] else '<p>' + e(t('route.not_released')) + '</p>'}"
        f"<table><tr><th>#</th><th>{e(t('field.name'))}</th><th>{e(t('route.eta'))}</th>"
        f"<th></th></tr>{''.join(rows)}</table>"
        f'<p class="cw-print"><button type="button" id="cw-print">'
        f"{e(t('route.print'))}</button></p></section>"
    )
    m.get_root().html.add_child(Element(sheet))
    m.add_child(_Arrivals(arrive_url, csrf_token, t("route.arrived_at", at="{at}")))
    if plan["geometry"]:
        xs = [x for x, _ in plan["geometry"]["coordinates"]]
        ys = [y for _, y in plan["geometry"]["coordinates"]]
        m.fit_bounds([[min(ys), min(xs)], [max(ys), max(xs)]])
    return m


class _Arrivals(MacroElement):
    """The sheet's buttons: "arrived", a check-in through the API, shown when it is kept;
    "print" (no inline handler: the page's CSP allows none)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        document.getElementById("cw-print").addEventListener("click", function () {
            window.print();
        });
        document.querySelectorAll(".cw-arrive").forEach(function (b) {
            b.addEventListener("click", function () {
                b.disabled = true;
                fetch({{ this.url }}.replace("{seq}", b.dataset.seq), {
                    method: "POST", credentials: "same-origin",
                    headers: {"X-CSRFToken": {{ this.csrf }}, Accept: "application/json"}
                }).then(function (r) { return r.json().then(function (d) {
                    if (!r.ok) { b.disabled = false; b.title = d.detail || r.status; return; }
                    var at = new Date(d.arrived_at);
                    b.textContent = {{ this.done }}.replace("{at}",
                        at.toTimeString().slice(0, 5));
                }); });
            });
        });
        {% endmacro %}"""
    )

    def __init__(self, url: str, csrf: str, done: str):
        super().__init__()
        self.url, self.csrf, self.done = script_json(url), script_json(csrf), script_json(done)
