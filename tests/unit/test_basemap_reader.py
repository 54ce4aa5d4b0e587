"""What the base map takes from an OpenStreetMap file, and who reads such files: the command
line and the demo, never the web process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from service.layers.basemap_import import area_kind, is_osm, read_osm

GUIXI = Path(__file__).resolve().parents[2] / "data" / "guixi" / "jiangxi_guixi_center.osm.pbf"


def test_areas_are_sorted_into_water_buildings_and_green():
    cases = {
        (("natural", "water"), ("water", "lake")): ("water", "natural=water"),
        (("waterway", "riverbank"),): ("water", "waterway=riverbank"),
        (("landuse", "reservoir"),): ("water", "landuse=reservoir"),
        (("water", "pond"),): ("water", "water=pond"),
        (("building", "apartments"), ("name", "一号楼")): ("building", "building=apartments"),
        (("leisure", "park"), ("name", "早闲公园")): ("green", "leisure=park"),
        (("landuse", "forest"),): ("green", "landuse=forest"),
        (("natural", "wood"),): ("green", "natural=wood"),
        (("building", "no"), ("landuse", "grass")): ("green", "landuse=grass"),
        (("landuse", "residential"),): None,
        (("leisure", "pitch"),): None,
        (("amenity", "parking"),): None,
    }
    for tags, kind in cases.items():
        assert area_kind(dict(tags)) == kind, tags


def test_guixi_s_extract_gives_its_river_ponds_park_and_buildings():
    frame = read_osm(GUIXI)
    assert frame.crs.to_epsg() == 4326
    counts = frame["kind"].value_counts().to_dict()
    assert counts == {"building": 165, "water": 9, "waterway": 5, "green": 1}
    rivers = frame[frame["kind"] == "waterway"]
    assert set(rivers.geom_type) == {"LineString"} and "信江" in set(rivers["name"])
    assert set(frame[frame["kind"] != "waterway"].geom_type) == {"MultiPolygon"}
    assert frame.loc[frame["kind"] == "green", "name"].tolist() == ["早闲公园"]
    assert is_osm(GUIXI) and is_osm(Path("a.osm")) and not is_osm(Path("a.geojson"))


def test_the_web_process_loads_no_osm_reader(tmp_path):
    """The server reads no files for its base map: pyosmium and the import module stay out
    of a process that made the app and loaded every web module."""
    code = (
        "import importlib, pkgutil, sys\n"
        "import service.web as web\n"
        "from service.app import create_app\n"
        "create_app({'DATABASE_URL': 'postgresql+psycopg://nobody@/none', 'TESTING': True,\n"
        f"            'HOME': {str(tmp_path)!r}}})\n"
        "for m in pkgutil.walk_packages(web.__path__, 'service.web.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'osmium'\n"
        "             or m == 'service.layers.basemap_import'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
