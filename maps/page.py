"""The page around a map: title bar, links, sign-out, stylesheet, and the request's
Content-Security-Policy nonce on the page's own scripts."""

from __future__ import annotations

import folium
from branca.element import Element, Figure, JavascriptLink

from maps.escaping import html_text


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
    nonce: str | None = None,
) -> folium.Map:
    """Put a title bar above the map. Every text is escaped here. With ``nonce`` (the
    request's CSP nonce) the page's scripts carry it (``_NoncedPage``)."""
    e = html_text
    root = m.get_root()
    if nonce is not None:
        root._template = _NoncedPage(nonce, m.get_name(), "en" if lang == "en" else "zh-CN")
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


class _NoncedPage:
    """Stands in for the template of branca's Figure: the same page, with the nonce on the
    script tags the builders write and on no other. Those are the one ``<script>`` after the
    body that holds every layer's code, folium's head script of the map (sizes and switches,
    no data) and the script links. A tag anywhere else — in the body, where user text is
    shown, or inside a script — did not come from a builder and gets no nonce."""

    def __init__(self, nonce: str, map_name: str, lang: str = "zh-CN"):
        self.attr = f' nonce="{html_text(nonce)}"'
        self.map_name = map_name
        self.lang = html_text(lang)

    def render(self, this: Figure, kwargs: dict) -> str:
        head = []
        for name, child in this.header._children.items():
            if isinstance(child, JavascriptLink):
                head.append(f'<script{self.attr} src="{html_text(child.url)}"></script>')
            elif name == self.map_name:
                head.append(child.render(**kwargs).replace("<script>", f"<script{self.attr}>"))
            else:
                head.append(child.render(**kwargs))
        return (
            f'<!DOCTYPE html>\n<html lang="{self.lang}">\n<head>\n'
            + "\n".join(head)
            + "\n</head>\n<body>\n"
            + this.html.render(**kwargs)
            + f"\n</body>\n<script{self.attr}>\n"
            + this.script.render(**kwargs)
            + "\n</script>\n</html>\n"
        )
