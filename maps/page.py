"""The page around a map: title bar, links, sign-out, stylesheet."""

from __future__ import annotations

import html

import folium
from branca.element import Element


def add_page_chrome(
    m: folium.Map,
    *,
    title: str,
    user: str,
    links: list[tuple[str, str]],
    logout: tuple[str, str],
    stylesheet: str,
    csrf_token: str,
    icon: str | None = None,
    lang: str = "zh",
) -> folium.Map:
    """Put a title bar above the map. Every text is escaped here."""
    e = html.escape
    root = m.get_root()
    root.header.add_child(Element(f'<link rel="stylesheet" href="{e(stylesheet)}"/>'))
    root.header.add_child(Element(f"<title>{e(title)}</title>"))
    if icon:
        root.header.add_child(Element(f'<link rel="icon" href="{e(icon)}" type="image/svg+xml"/>'))
    nav = "".join(f'<a href="{e(href)}">{e(label)}</a>' for label, href in links)
    bar = (
        f'<header class="cw-bar" lang="{"en" if lang == "en" else "zh-CN"}">'
        f'<span class="cw-title">{e(title)}</span><nav>{nav}'
        f'<span class="cw-user">{e(user)}</span>'
        f'<form method="post" action="{e(logout[1])}">'
        f'<input type="hidden" name="csrf_token" value="{e(csrf_token)}"/>'
        f'<button type="submit">{e(logout[0])}</button></form></nav></header>'
    )
    root.html.add_child(Element(bar), index=0)
    return m
