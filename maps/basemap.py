"""The city's own base map: a 256 × 256 PNG web-mercator tile drawn with Pillow from its
streets, community borders, water, buildings and green areas, for pages on an intranet that
cannot reach a tile server.

From the bottom up: green areas pale green, water blue (rivers and canals also as lines of
a width per zoom), buildings light grey from ``BUILDING_ZOOM``, community borders dashed,
then the streets by class (which classes show, their widths and colours depend on the zoom),
each with a darker casing. A margin of ``MARGIN_PX`` around the tile is drawn too and cut
off, so that lines, areas and the names of communities and lakes run on across the tile's
edges; names of streets and rivers (``gis/labels.py``) stay whole inside their tile.
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
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from gis.labels import inside_labels, label_box, place_labels

TILE_PX, MARGIN_PX, SCALE = 256, 96, 2
HALF = 20037508.342789244  # half the web-mercator world's width, metres
LAND = (242, 239, 233)
BORDER = (160, 140, 185)
AREA_TEXT, STREET_TEXT, HALO = (100, 80, 135), (40, 40, 40), (255, 255, 255)
AREA_LABEL_ZOOMS = range(13, 16)  # community names at low-mid zooms
WATER, WATER_TEXT = (170, 211, 223), (40, 95, 140)
GREEN = (205, 232, 190)
BUILDING, BUILDING_LINE = (222, 218, 213), (200, 194, 188)
BUILDING_ZOOM = 15  # buildings drawn from this zoom
# a waterway's width in pixels at zoom 16 (scaled by zoom as a street's) and its first zoom
WATERWAY_PX = {"river": (10.0, 8), "canal": (6.0, 12)}
# what a tile reports it drew: features with a part inside it, names placed in it
DRAWN = ("streets", "labels", "water", "buildings", "green", "water_labels")


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


@dataclass
class Feature:
    """Water, a waterway, a building or a green area (``basemap_feature``)."""

    kind: str  # water, waterway, building, green
    tag: str  # the OSM tag it was taken by, e.g. waterway=river
    name: str | None
    geom: BaseGeometry  # EPSG:3857
    label_at: tuple[float, float] | None = None  # a named lake's name goes here (EPSG:3857)
    label_radius_m: float = 0.0  # the room around label_at inside it, web-mercator metres


@dataclass(frozen=True)
class Tile:
    """A drawn tile: its PNG and how many features and names it shows (``DRAWN``)."""

    png: bytes
    drawn: dict[str, int]

    def __len__(self) -> int:  # what it weighs in a cache
        return len(self.png)


@functools.cache
def blank_png() -> bytes:
    """The tile of a place without streets or areas: transparent, a hundred bytes."""
    out = io.BytesIO()
    Image.new("P", (TILE_PX, TILE_PX), 0).save(out, "PNG", transparency=0, optimize=True)
    return out.getvalue()


def render_tile(
    z: int,
    x: int,
    y: int,
    roads: Sequence[Road],
    communities: Sequence[Community],
    features: Sequence[Feature] = (),
) -> Tile:
    """Tile z/x/y drawn from the streets, communities and base-map features around it
    (EPSG:3857), with the count of what it shows."""
    drawn = dict.fromkeys(DRAWN, 0)
    if not roads and not communities and not features:
        return Tile(blank_png(), drawn)
    pen = _Canvas.of(z, x, y)
    kinds: dict[str, list[tuple[Feature, BaseGeometry]]] = {
        kind: [] for kind in ("water", "waterway", "building", "green")
    }  # in the tile's pixels, by kind: what this zoom shows
    for f in features:
        if (f.kind == "building" and z < BUILDING_ZOOM) or (
            f.kind == "waterway" and z < _waterway_px(f.tag)[1]
        ):
            continue
        kinds[f.kind].append((f, affine_transform(f.geom, pen.to_px)))
    drawn.update(_draw_areas(pen, kinds, z))
    for c in communities:
        for part in _parts(affine_transform(c.border, pen.to_px)):
            for piece in _dashes(shapely.get_coordinates(part), 6, 4):
                pen.draw.line(pen.xy(piece), fill=BORDER, width=max(1, SCALE))
    shown = sorted(
        (r for r in roads if z >= style_of(r.highway).min_zoom),
        key=lambda r: -RANK[_class(r.highway)],
    )
    lines = [(r, style_of(r.highway), affine_transform(r.geom, pen.to_px)) for r in shown]
    drawn["streets"] = _in_tile([g for _, _, g in lines])
    _draw_streets(pen, lines, z)
    drawn.update(_draw_names(pen, z, communities, kinds, lines))
    return Tile(pen.png(), drawn)


@dataclass
class _Canvas:
    """A tile with its margin, drawn at ``SCALE``: ``to_px`` takes metres to the tile's
    pixels (y down), ``xy`` the tile's pixels to the canvas's."""

    img: Image.Image
    draw: ImageDraw.ImageDraw
    k: float  # pixels a metre
    to_px: list[float]

    @classmethod
    def of(cls, z: int, x: int, y: int) -> _Canvas:
        xmin, _, xmax, ymax = tile_bounds(z, x, y)
        k = TILE_PX / (xmax - xmin)
        img = Image.new("RGB", ((TILE_PX + 2 * MARGIN_PX) * SCALE,) * 2, LAND)
        return cls(img, ImageDraw.Draw(img), k, [k, 0, 0, -k, -xmin * k, ymax * k])

    def xy(self, xy: np.ndarray) -> list[tuple[float, float]]:
        return [((px + MARGIN_PX) * SCALE, (py + MARGIN_PX) * SCALE) for px, py in xy]

    def at(self, point: tuple[float, float]) -> tuple[float, float]:
        """A point in metres in the tile's pixels."""
        return point[0] * self.k + self.to_px[4], -point[1] * self.k + self.to_px[5]

    def png(self) -> bytes:
        m = MARGIN_PX * SCALE
        tile = self.img.crop((m, m, m + TILE_PX * SCALE, m + TILE_PX * SCALE)).resize(
            (TILE_PX, TILE_PX), Image.Resampling.LANCZOS
        )
        out = io.BytesIO()
        tile.save(out, "PNG", compress_level=6)
        return out.getvalue()


def _draw_areas(pen: _Canvas, kinds: dict, z: int) -> dict[str, int]:
    """Green areas, water, waterways and buildings, bottom up; how many of each it shows."""
    greens = [g for _, g in kinds["green"]]
    _fill(pen, greens, GREEN)
    _fill(pen, [g for _, g in kinds["water"]], WATER)
    for f, g in kinds["waterway"]:
        w = max(1, round(max(0.8, _waterway_px(f.tag)[0] * 2 ** ((z - 16) / 2)) * SCALE))
        for part in _parts(g):
            pen.draw.line(pen.xy(shapely.get_coordinates(part)), fill=WATER, width=w, joint="curve")
    buildings = [g for _, g in kinds["building"]]
    _fill(pen, buildings, BUILDING, outline=BUILDING_LINE)
    return {
        "water": _in_tile([g for kind in ("water", "waterway") for _, g in kinds[kind]]),
        "buildings": _in_tile(buildings),
        "green": _in_tile(greens),
    }


def _draw_streets(pen: _Canvas, lines: list, z: int) -> None:
    for r, st, g in lines:  # casings under every fill, so crossings join
        if st.casing is not None:
            w = round((width_at(st, z) + 2) * SCALE * (0.8 if r.highway.endswith("_link") else 1))
            for part in _parts(g):
                pen.draw.line(
                    pen.xy(shapely.get_coordinates(part)), fill=st.casing, width=w, joint="curve"
                )
    for r, st, g in lines:
        w = max(1, round(width_at(st, z) * SCALE * (0.8 if r.highway.endswith("_link") else 1)))
        for part in _parts(g):
            xy = shapely.get_coordinates(part)
            for piece in _dashes(xy, 4, 3) if st.dashed else [xy]:
                pen.draw.line(pen.xy(piece), fill=st.fill, width=w, joint="curve")


def _draw_names(pen: _Canvas, z: int, communities, kinds: dict, lines: list) -> dict[str, int]:
    """Names, each kind kept clear of those before it: communities' (zooms 13–15) and
    lakes' at their fixed points, then streets' and rivers' along them inside the tile."""
    s = SCALE
    taken = []
    if z in AREA_LABEL_ZOOMS:
        area_font = _font(13 * s)
        for c in communities:
            px, py = pen.at(c.label_at)
            if _in_margin(px, py):
                w, h = _measure(area_font, c.name, s)
                taken.append(label_box(px, py, w + 6, h + 6, 0))
                _text(pen.img, area_font, c.name, *pen.xy([(px, py)])[0], 0, AREA_TEXT)
    font = _font((12 if z >= 17 else 11) * s)

    def measure(text: str) -> tuple[float, float]:
        return _measure(font, text, s)

    def write(labels, colour) -> None:
        for lab in labels:
            _text(pen.img, font, lab.text, *pen.xy([(lab.x, lab.y)])[0], lab.angle, colour)
        taken.extend(lab.box for lab in labels)

    lakes = [
        (f.name, *pen.at(f.label_at), f.label_radius_m * pen.k)
        for f, _ in kinds["water"]
        if f.name and f.label_at is not None and _in_margin(*pen.at(f.label_at))
    ]
    lake_labels = inside_labels(lakes, measure, taken)
    write(lake_labels, WATER_TEXT)
    named: dict[str, list] = {}
    for r, st, g in lines:
        if r.name and z >= st.label_zoom:
            entry = named.setdefault(r.name, [RANK[_class(r.highway)], []])
            entry[0] = min(entry[0], RANK[_class(r.highway)])
            entry[1].append(g)
    streets = sorted(named.items(), key=lambda kv: (kv[1][0], kv[0]))
    street_labels = place_labels(
        [(name, _union(gs)) for name, (_, gs) in streets], measure, TILE_PX, taken
    )
    write(street_labels, STREET_TEXT)
    rivers: dict[str, list] = {}
    for f, g in kinds["waterway"]:
        if f.name:
            rivers.setdefault(f.name, []).append(g)
    river_labels = place_labels(
        [(name, _union(gs)) for name, gs in sorted(rivers.items())], measure, TILE_PX, taken
    )
    write(river_labels, WATER_TEXT)
    tile = shapely.box(0, 0, TILE_PX, TILE_PX)
    return {
        "labels": len(street_labels),
        "water_labels": len(river_labels) + sum(lab.box.intersects(tile) for lab in lake_labels),
    }


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


def _waterway_px(tag: str) -> tuple[float, int]:
    return WATERWAY_PX.get(tag.partition("=")[2], WATERWAY_PX["canal"])


def _in_margin(px: float, py: float) -> bool:
    return -MARGIN_PX <= px <= TILE_PX + MARGIN_PX and -MARGIN_PX <= py <= TILE_PX + MARGIN_PX


def _union(geoms: list[BaseGeometry]) -> BaseGeometry:
    return shapely.union_all(geoms) if len(geoms) > 1 else geoms[0]


def _in_tile(geoms: Sequence[BaseGeometry]) -> int:
    """How many of the geometries (in the tile's pixels) have a part inside the tile; a
    polygon PostGIS clipped into an invalid shape is counted by its box."""
    if not geoms:
        return 0
    arr = np.array(geoms, dtype=object)
    tile = shapely.box(0, 0, TILE_PX, TILE_PX)
    try:
        return int(shapely.intersects(arr, tile).sum())
    except shapely.errors.GEOSException:
        return int(shapely.intersects(shapely.envelope(arr), tile).sum())


def _fill(pen: _Canvas, geoms, colour, outline=None) -> None:
    """Fill polygons (in the tile's pixels) with ``colour``, their holes left as they were;
    with ``outline``, their rings drawn a pixel wide in it."""
    polygons = [p for g in geoms for p in _parts(g) if isinstance(p, Polygon)]
    for p in polygons:
        ring = pen.xy(shapely.get_coordinates(p.exterior))
        if len(ring) < 3:
            continue
        if not p.interiors:  # most: drawn straight on the tile
            pen.draw.polygon(ring, fill=colour)
            continue
        # a courtyard or an island: the polygon less its holes as a mask over its box
        x0, y0 = (int(min(v)) for v in zip(*ring, strict=True))
        x1, y1 = (int(max(v)) + 2 for v in zip(*ring, strict=True))
        mask = Image.new("L", (x1 - x0, y1 - y0), 0)
        mask_pen = ImageDraw.Draw(mask)
        mask_pen.polygon([(a - x0, b - y0) for a, b in ring], fill=255)
        for hole in p.interiors:
            inner = pen.xy(shapely.get_coordinates(hole))
            mask_pen.polygon([(a - x0, b - y0) for a, b in inner], fill=0)
        pen.img.paste(colour, (x0, y0, x1, y1), mask)
    if outline is not None:
        for p in polygons:
            for ring in (p.exterior, *p.interiors):
                pen.draw.line(pen.xy(shapely.get_coordinates(ring)), fill=outline, width=1)


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
