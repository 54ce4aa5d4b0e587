"""A summary's maps: the city's own base map (service/layers/basemap.py, drawn from its
streets and areas in PostGIS) stitched at the zoom that fits an extent into a width, with
points drawn on it. No outside tile."""

from __future__ import annotations

import io
import math

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import Connection

from maps.basemap import cjk_font_path
from service.layers import basemap

TILES_MAX = 64  # tiles stitched for one map


def _px(lon: float, lat: float, z: int) -> tuple[float, float]:
    n = 256 * 2**z
    lat = max(-85.05, min(85.05, lat))
    s = math.sin(math.radians(lat))
    return (lon + 180) / 360 * n, (0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)) * n


def draw(
    conn: Connection,
    city: int,
    extent: tuple[float, float, float, float],
    points: list[tuple[float, float, str]],
    width: int = 1400,
    labels: bool = False,
) -> bytes:
    """A PNG of ``extent`` (lon/lat) at most ``width`` px wide on the base map, with
    ``points`` (lon, lat, colour) as dots, numbered in order when ``labels``."""
    x0, y0, x1, y1 = extent
    z = 18
    while z > 3:
        a, b = _px(x0, y1, z), _px(x1, y0, z)
        tiles = (int(b[0] // 256) - int(a[0] // 256) + 1) * (
            int(b[1] // 256) - int(a[1] // 256) + 1
        )
        if b[0] - a[0] <= width and tiles <= TILES_MAX:
            break
        z -= 1
    (left, top), (right, bottom) = _px(x0, y1, z), _px(x1, y0, z)
    tx0, ty0, tx1, ty1 = int(left // 256), int(top // 256), int(right // 256), int(bottom // 256)
    canvas = Image.new("RGB", ((tx1 - tx0 + 1) * 256, (ty1 - ty0 + 1) * 256), "#f2efe9")
    for tx in range(tx0, tx1 + 1):
        for ty in range(ty0, ty1 + 1):
            tile, _ = basemap.serve(conn, city, z, tx, ty)
            canvas.paste(Image.open(io.BytesIO(tile.png)).convert("RGB"),
                         ((tx - tx0) * 256, (ty - ty0) * 256))  # fmt: skip
    pen = ImageDraw.Draw(canvas)
    font = ImageFont.truetype(str(cjk_font_path()), 18)
    for n, (lon, lat, colour) in enumerate(points, start=1):
        px, py = _px(lon, lat, z)
        cx, cy = px - tx0 * 256, py - ty0 * 256
        r = 11 if labels else 3
        pen.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour, outline="#ffffff")
        if labels:
            pen.text((cx, cy), str(n), fill="#ffffff", font=font, anchor="mm")
    box = (
        int(left - tx0 * 256),
        int(top - ty0 * 256),
        int(right - tx0 * 256),
        int(bottom - ty0 * 256),
    )
    out = io.BytesIO()
    canvas.crop(box).save(out, "PNG")
    return out.getvalue()
