"""The round's words beside its map, as HTML: the stop list of the screen (with the next stop
to walk to at its head) and the sheet for paper (one block per stop). Every user text goes
through ``html_text``; times are the city's."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from maps.escaping import html_text
from maps.navigation import navigation_links

e = html_text


def local(value: str | dt.datetime, tz) -> dt.datetime:
    """An ISO time or an aware datetime in the city's time zone ``tz``."""
    at = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return at.astimezone(tz)


def hhmm(value: str | dt.datetime, tz) -> str:
    return local(value, tz).strftime("%H:%M")


def day_time(value: str | dt.datetime | None, tz) -> str:
    return local(value, tz).strftime("%Y-%m-%d %H:%M") if value else ""


def named(names: Mapping[str, str] | None, code: str | None) -> str:
    """A catalogue code by its name in the page's language; the code itself if unnamed."""
    return (names or {}).get(code) or code or ""


def where(info: Mapping) -> str:
    """The street and the address of a stop, as far as they are known, as one text."""
    parts = [info.get("street"), info.get("address")]
    return " · ".join(dict.fromkeys(p for p in parts if p))


def nav_links(stop: Mapping, t: Callable[..., str], mode: str) -> str:
    """The links that open a map app with the way to ``stop`` (maps.navigation)."""
    uri = navigation_links(stop["lon"], stop["lat"], stop["name"], mode)
    return (
        f'<span class="cw-nav" data-seq="{int(stop["seq"])}">'
        f'<span class="cw-nav-label">{e(t("route.navigate"))}</span>'
        f'<a class="cw-nav-amap" href="{e(uri["amap"])}" data-ios="{e(uri["amap_ios"])}">'
        f"{e(t('route.nav_amap'))}</a>"
        f'<a class="cw-nav-baidu" href="{e(uri["baidu"])}">{e(t("route.nav_baidu"))}</a>'
        f'<a class="cw-nav-geo" href="{e(uri["geo"])}">{e(t("route.nav_geo"))}</a></span>'
    )


def case_line(case: Mapping, t: Callable[..., str], tz, names: Mapping[str, str] | None) -> str:
    """One open case in a line: number, category, status, due time, overdue."""
    due = day_time(case.get("due_at"), tz)
    line = (
        f"{e(case['case_no'])} · {e(named(names, case['category']))} · "
        f"{e(t('status.' + case['status']))}"
    )
    if due:
        line += f" · {e(t('field.due_at'))} {e(due)}"
    if case["overdue"]:
        line += f' · <b class="cw-overdue">{e(t("ui.problems.overdue"))}</b>'
    return line


def stop_row(
    stop: Mapping,
    info: Mapping,
    t: Callable[..., str],
    tz,
    *,
    category: str,
    case_names: Mapping[str, str] | None,
    report_url: str,
    mode: str,
) -> str:
    """The stop's row in the screen's list."""
    seq = int(stop["seq"])
    arrived = stop.get("arrived_at")
    checklist = "".join(f"<li>{e(c)}</li>" for c in info.get("checklist", []))
    cases = "".join(f"<li>{case_line(c, t, tz, case_names)}</li>" for c in info.get("cases", []))
    place = where(info)
    report = f"{report_url}?lon={stop['lon']}&lat={stop['lat']}"
    return (
        f'<tr data-seq="{seq}" data-name="{e(stop["name"])}" '
        f'class="cw-stop-row{" cw-arrived" if arrived else ""}"><td class="cw-seq">{seq}</td>'
        f'<td><span class="cw-stop-name">{e(stop["name"])}</span><br>'
        f"<small>{e(category)} · {e(stop['code'])}</small>"
        + (f'<div class="cw-street">{e(place)}</div>' if place else "")
        + f'<ul class="cw-check">{checklist}</ul>'
        + (f'<ul class="cw-cases">{cases}</ul>' if cases else "")
        + f"{nav_links(stop, t, mode)}</td>"
        f"<td>{hhmm(stop['eta'], tz)}</td><td>"
        f'<button type="button" class="cw-arrive" data-seq="{seq}"'
        f"{' disabled' if arrived else ''}>"
        f"{e(t('route.arrived_at', at=hhmm(arrived, tz)) if arrived else t('route.arrive'))}"
        f'</button> <a class="cw-report-here" href="{e(report)}">{e(t("route.report"))}</a>'
        "</td></tr>"
    )


def next_stop(plan: Mapping, t: Callable[..., str]) -> str:
    """The head's "next stop": the first not yet arrived at, with its navigation links
    (the page's script moves it on at each check-in); empty while the round is sealed."""
    stops = plan["stops"]
    if not stops:
        return ""
    ahead = next((s for s in stops if not s.get("arrived_at")), None)
    shown = ahead or stops[-1]
    return (
        f'<div id="cw-next" class="cw-next{"" if ahead else " cw-all-done"}">'
        f'<span class="cw-next-label">{e(t("route.next"))}</span> '
        f'<b class="cw-next-stop">{int(shown["seq"])}. {e(shown["name"])}</b> '
        f"{nav_links(shown, t, plan.get('mode') or 'walk')}"
        f'<span class="cw-next-done">{e(t("route.all_arrived"))}</span></div>'
    )


def print_stop(
    stop: Mapping,
    info: Mapping,
    t: Callable[..., str],
    tz,
    *,
    category: str,
    case_names: Mapping[str, str] | None,
) -> str:
    """One stop on paper: name, category, street and address, arrival, checklist, the open
    cases near it (with their unit and department), and room to write."""
    arrived = stop.get("arrived_at")
    fact = "<tr><th>{}</th><td>{}</td><th>{}</th><td>{}</td></tr>".format
    facts = (
        fact(e(t("field.category")), e(category), e(t("field.code")), e(stop["code"]))
        + fact(
            e(t("route.street")),
            e(info.get("street") or "—"),
            e(t("field.address")),
            e(info.get("address") or "—"),
        )
        + fact(
            e(t("route.eta")),
            f"{hhmm(stop['eta'], tz)} · {e(t('route.dwell'))} {stop['dwell_s'] // 60} min",
            e(t("route.arrive")),
            hhmm(arrived, tz) if arrived else "",
        )
    )
    checklist = "".join(f"<li>{e(c)}</li>" for c in info.get("checklist", []))
    heads = ("field.case_no", "field.category", "field.status", "field.due_at")
    rows = "".join(
        f"<tr><td>{e(c['case_no'])}</td><td>{e(named(case_names, c['category']))}</td>"
        f"<td>{e(t('status.' + c['status']))}</td><td>{e(day_time(c.get('due_at'), tz))}</td>"
        + (
            f'<td class="cw-overdue">{e(t("ui.problems.overdue"))}</td>'
            if c["overdue"]
            else "<td>—</td>"
        )
        + f"<td>{e(c.get('unit') or '—')}</td><td>{e(c.get('department') or '—')}</td></tr>"
        for c in info.get("cases", [])
    )
    cases = (
        '<table class="cw-print-cases"><thead><tr>'
        + "".join(f"<th>{e(t(h))}</th>" for h in heads)
        + f"<th>{e(t('route.overdue'))}</th><th>{e(t('field.unit'))}</th>"
        f"<th>{e(t('route.department'))}</th></tr></thead><tbody>{rows}</tbody></table>"
        if rows
        else f"<p>{e(t('report.none'))}</p>"
    )
    return (
        f'<article class="cw-print-stop" data-seq="{int(stop["seq"])}">'
        f'<h4><span class="cw-print-seq">{int(stop["seq"])}</span> {e(stop["name"])}</h4>'
        f'<table class="cw-print-facts">{facts}</table>'
        f'<h5>{e(t("route.checklist"))}</h5><ul class="cw-print-check">{checklist}</ul>'
        f"<h5>{e(t('route.open_cases'))}</h5>{cases}"
        f'<div class="cw-print-notes"><h5>{e(t("route.findings"))}</h5></div></article>'
    )
