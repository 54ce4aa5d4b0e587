"""The city's own base map: a 256 × 256 PNG web-mercator tile drawn with Pillow from its
streets and community borders, for pages on an intranet that cannot reach a tile server.

Streets are drawn by class (which classes show, their widths and colours depend on the
zoom), each with a darker casing; footpaths and community borders dashed. A margin of
``MARGIN_PX`` around the tile is drawn too and cut off, so that lines and community names run
on across the tile's edges; street names (``gis/labels.py``) stay whole inside their tile.
Everything is drawn at twice the size and shrunk, which smooths the lines and the text.
The only input from outside is the CJK font (WenQuanYi Micro Hei, ``fonts-wqy-microhei``).
"""

from __future__ import annotations

import functools
import io
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from PIL import Image, ImageDraw, ImageFont
from shapely.affinity import affine_transform
from shapely.geometry.base import BaseGeometry

from gis.labels import label_box, place_labels

TILE_PX, MARGIN_PX, SCALE = 256, 96, 2
HALF = 20037508.342789244  # half the web-mercator world's width, metres
LAND = (242, 239, 233)
BORDER = (160, 140, 185)
AREA_TEXT, STREET_TEXT, HALO = (100, 80, 135), (40, 40, 40), (255, 255, 255)
AREA_LABEL_ZOOMS = range(13, 16)  # community names at low-mid zooms


@dataclass(frozen=True)
class RoadStyle:
    min_zoom: int  # drawn from this zoom
    width_px: float  # at zoom 16; ×√2 a zoom up, ÷√2 a zoom down
    fill: tuple[int, int, int]
    casing: tuple[int, int, int] | None
    label_zoom: int  # its name shown from this zoom
    dashed: bool = False


_MAJOR = {
    "motorway": RoadStyle(0, 9, (232, 146, 162), (200, 60, 100), 13),
    "trunk": RoadStyle(0, 8.5, (249, 178, 156), (200, 90, 60), 13),
    "primary": RoadStyle(0, 8, (252, 214, 164), (170, 120, 40), 14),
    "secondary": RoadStyle(9, 7, (247, 250, 191), (140, 150, 60), 14),
    "tertiary": RoadStyle(11, 6, (255, 255, 255), (160, 160, 160), 15),
}
_MINOR = {
    "residential": RoadStyle(13, 4.5, (255, 255, 255), (185, 185, 185), 16),
    "service": RoadStyle(14, 2.5, (255, 255, 255), (200, 200, 200), 17),
    "footway": RoadStyle(15, 1.2, (230, 120, 110), None, 18, dashed=True),
    "track": RoadStyle(14, 1.5, (160, 120, 60), None, 17, dashed=True),
    "construction": RoadStyle(14, 3, (235, 235, 225), (190, 190, 175), 17, dashed=True),
}
# classes drawn like another; a _link like its road, a little thinner
_SAME = {
    "unclassified": "residential",
    "living_street": "residential",
    "road": "residential",
    "pedestrian": "footway",
    "path": "footway",
    "cycleway": "footway",
    "steps": "footway",
    "bridleway": "footway",
}
STYLES = {**_MAJOR, **_MINOR}
RANK = {name: i for i, name in enumerate(STYLES)}  # most important first


def style_of(highway: str) -> RoadStyle:
    """A street class's style; an unknown class is drawn as a service road.

    >>> style_of("primary_link") == style_of("primary"), style_of("living_street").width_px
    (True, 4.5)
    """
    return STYLES[_class(highway)]


def _class(highway: str) -> str:
    base = highway.removesuffix("_link")
    base = _SAME.get(base, base)
    return base if base in STYLES else "service"


def width_at(style: RoadStyle, z: int) -> float:
    """A class's line width in pixels at zoom ``z``.

    >>> width_at(STYLES["primary"], 16), width_at(STYLES["primary"], 18)
    (8.0, 16.0)
    """
    return max(0.8, style.width_px * 2 ** ((z - 16) / 2))


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """The web-mercator (EPSG:3857) bounds of a tile: xmin, ymin, xmax, ymax.

    >>> [round(v) for v in tile_bounds(1, 1, 0)]
    [0, 0, 20037508, 20037508]
    """
    size = 2 * HALF / 2**z
    return -HALF + x * size, HALF - (y + 1) * size, -HALF + (x + 1) * size, HALF - y * size


@dataclass
class Road:
    highway: str
    name: str | None
    geom: BaseGeometry  # EPSG:3857


@dataclass
class Community:
    name: str
    border: BaseGeometry  # its outline as lines, EPSG:3857
    label_at: tuple[float, float]  # a point inside it, EPSG:3857


@functools.cache
def blank_png() -> bytes:
    """The tile of a place without streets or areas: transparent, a hundred bytes."""
    out = io.BytesIO()
    Image.new("P", (TILE_PX, TILE_PX), 0).save(out, "PNG", transparency=0, optimize=True)
    return out.getvalue()


def render_tile(
    z: int, x: int, y: int, roads: Sequence[Road], communities: Sequence[Community]
) -> bytes:
    """The PNG of tile z/x/y from the streets and communities around it (EPSG:3857)."""
    if not roads and not communities:
        return blank_png()
    xmin, _, xmax, ymax = tile_bounds(z, x, y)
    k = TILE_PX / (xmax - xmin)  # pixels a metre
    # metres → the tile's pixels (y down); the canvas adds the margin and the scale
    to_px = [k, 0, 0, -k, -xmin * k, ymax * k]
    s = SCALE
    side = (TILE_PX + 2 * MARGIN_PX) * s
    img = Image.new("RGB", (side, side), LAND)
    draw = ImageDraw.Draw(img)

    def canvas(xy: np.ndarray) -> list[tuple[float, float]]:
        return [((px + MARGIN_PX) * s, (py + MARGIN_PX) * s) for px, py in xy]

    for c in communities:
        for part in _parts(affine_transform(c.border, to_px)):
            for piece in _dashes(shapely.get_coordinates(part), 6, 4):
                draw.line(canvas(piece), fill=BORDER, width=max(1, s))
    shown = sorted(
        (r for r in roads if z >= style_of(r.highway).min_zoom),
        key=lambda r: -RANK[_class(r.highway)],
    )
    lines = [(r, style_of(r.highway), affine_transform(r.geom, to_px)) for r in shown]
    for r, st, g in lines:  # casings under every fill, so crossings join
        if st.casing is not None:
            w = round((width_at(st, z) + 2) * s * (0.8 if r.highway.endswith("_link") else 1))
            for part in _parts(g):
                draw.line(
                    canvas(shapely.get_coordinates(part)), fill=st.casing, width=w, joint="curve"
                )
    for r, st, g in lines:
        w = max(1, round(width_at(st, z) * s * (0.8 if r.highway.endswith("_link") else 1)))
        for part in _parts(g):
            xy = shapely.get_coordinates(part)
            for piece in _dashes(xy, 4, 3) if st.dashed else [xy]:
                draw.line(canvas(piece), fill=st.fill, width=w, joint="curve")
    taken = []
    if z in AREA_LABEL_ZOOMS:
        font = _font(13 * s)
        for c in communities:
            px, py = c.label_at[0] * k + to_px[4], -c.label_at[1] * k + to_px[5]
            if -MARGIN_PX <= px <= TILE_PX + MARGIN_PX and -MARGIN_PX <= py <= TILE_PX + MARGIN_PX:
                w, h = _measure(font, c.name, s)
                taken.append(label_box(px, py, w + 6, h + 6, 0))
                _text(img, font, c.name, (px + MARGIN_PX) * s, (py + MARGIN_PX) * s, 0, AREA_TEXT)
    font = _font((12 if z >= 17 else 11) * s)
    named: dict[str, list] = {}
    for r, st, g in lines:
        if r.name and z >= st.label_zoom:
            entry = named.setdefault(r.name, [RANK[_class(r.highway)], []])
            entry[0] = min(entry[0], RANK[_class(r.highway)])
            entry[1].append(g)
    streets = [
        (name, shapely.union_all(gs) if len(gs) > 1 else gs[0])
        for name, (_, gs) in sorted(named.items(), key=lambda kv: (kv[1][0], kv[0]))
    ]
    for lab in place_labels(streets, lambda t: _measure(font, t, s), TILE_PX, taken):
        _text(
            img,
            font,
            lab.text,
            (lab.x + MARGIN_PX) * s,
            (lab.y + MARGIN_PX) * s,
            lab.angle,
            STREET_TEXT,
        )
    m = MARGIN_PX * s
    tile = img.crop((m, m, m + TILE_PX * s, m + TILE_PX * s)).resize(
        (TILE_PX, TILE_PX), Image.Resampling.LANCZOS
    )
    out = io.BytesIO()
    tile.save(out, "PNG", compress_level=6)
    return out.getvalue()


def cjk_font_path() -> Path:
    """The font that draws the Chinese names: WenQuanYi Micro Hei where Debian puts it, else
    any font fontconfig knows for Chinese; a clear error when there is none."""
    known = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
    if known.is_file():
        return known
    try:
        found = subprocess.run(
            ["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=10
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        found = []
    for f in sorted(f.rstrip(":") for f in found):
        if Path(f).is_file():
            return Path(f)
    raise RuntimeError(
        "The base map needs a font with Chinese characters and none is installed: "
        "apt-get install fonts-wqy-microhei (./dev does), or set CHUANGWEN_TILES=none."
    )


@functools.cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(cjk_font_path()), size)


def _measure(font: ImageFont.FreeTypeFont, text: str, scale: int) -> tuple[float, float]:
    """A text's width and height in tile pixels (its halo included)."""
    x0, y0, x1, y1 = font.getbbox(text, stroke_width=2 * scale)
    return (x1 - x0) / scale, (y1 - y0) / scale


def _text(img: Image.Image, font, text: str, cx: float, cy: float, angle: float, fill) -> None:
    """Draw ``text`` with a white halo centred on (cx, cy), turned to ``angle`` (y down)."""
    halo = 2 * SCALE
    x0, y0, x1, y1 = font.getbbox(text, stroke_width=halo)
    stamp = Image.new("RGBA", (x1 - x0, y1 - y0), (0, 0, 0, 0))
    ImageDraw.Draw(stamp).text(
        (-x0, -y0), text, font=font, fill=fill, stroke_width=halo, stroke_fill=HALO
    )
    if angle:
        # PIL turns counter-clockwise as seen; the angle is measured with y down
        stamp = stamp.rotate(-angle, resample=Image.Resampling.BICUBIC, expand=True)
    img.paste(stamp, (round(cx - stamp.width / 2), round(cy - stamp.height / 2)), stamp)


def _parts(geom: BaseGeometry):
    if geom.is_empty:
        return []
    return list(geom.geoms) if hasattr(geom, "geoms") else [geom]


def _dashes(xy: np.ndarray, on: float, off: float) -> list[np.ndarray]:
    """The dashes of a polyline: ``on`` pixels drawn, ``off`` left out, in turn."""
    if len(xy) < 2:
        return []
    steps = np.hypot(*np.diff(xy, axis=0).T)
    at = np.concatenate([[0.0], np.cumsum(steps)])
    total = at[-1]
    if total == 0:
        return []
    out = []
    start = 0.0
    while start < total:
        end = min(start + on, total)
        inner = (at > start) & (at < end)
        ts = np.concatenate([[start], at[inner], [end]])
        out.append(np.column_stack([np.interp(ts, at, xy[:, 0]), np.interp(ts, at, xy[:, 1])]))
        start = end + off
    return out
