"""Security headers on every response, and the per-request nonce of the page's scripts.

The Content-Security-Policy runs no inline script but one carrying this request's nonce:
the templates give it to their script tags (``csp_nonce()`` in Jinja), the folium pages get
it through ``maps.page.add_page_chrome(nonce=...)``. Script files come from this origin only;
inline event handlers (``onclick=``, ``onerror=``) never run. Inline styles are allowed:
folium and Leaflet set them everywhere. Images may also come from the base map's tile
server (``CHUANGWEN_TILES``). A response that sets its own policy (a case's photo, sandboxed)
keeps it.
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g

from maps.planner import OSM_TILES

_HOST = re.compile(r"^(\*\.)?[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")


def csp_nonce() -> str:
    """This request's nonce (made on first use)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def tile_source(tiles: str) -> str | None:
    """Where the base map's tiles come from, as a CSP source: ``osm``, ``none`` or a URL
    template (a ``{s}`` subdomain becomes ``*``; one on this server needs none).

    >>> tile_source("osm"), tile_source("none"), tile_source("/tiles/{z}/{x}/{y}.png")
    ('https://tile.openstreetmap.org', None, None)
    >>> tile_source("http://{s}.tiles.example.cn:8080/{z}/{x}/{y}.png")
    'http://*.tiles.example.cn:8080'
    """
    if tiles == "none":
        return None
    parts = urlsplit(OSM_TILES if tiles == "osm" else tiles)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    host = re.sub(r"\{[^}]*\}", "*", parts.netloc.rpartition("@")[2])
    if not _HOST.match(host):  # a placeholder inside a name, or text CSP would misread
        return f"{parts.scheme}:"
    return f"{parts.scheme}://{host}"


def policy(nonce: str, tiles: str) -> str:
    """The Content-Security-Policy of a response."""
    images = ["'self'", "data:", "blob:", tile_source(tiles)]
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self' 'unsafe-inline'",
            "img-src " + " ".join(s for s in images if s),
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def _secure(resp: Response) -> Response:
    headers = resp.headers
    headers.setdefault("Content-Security-Policy", policy(csp_nonce(), current_app.config["TILES"]))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    return resp


def init_app(app: Flask) -> None:
    app.after_request(_secure)
    app.context_processor(lambda: {"csp_nonce": csp_nonce})
