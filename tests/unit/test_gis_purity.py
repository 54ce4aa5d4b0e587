import subprocess
import sys


def test_gis_loads_no_web_or_database_code():
    code = (
        "import sys, gis, gis.crs, gis.grid, gis.partition, gis.metric\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('flask', 'sqlalchemy', 'geoalchemy2', 'psycopg', 'werkzeug'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_maps_loads_no_web_or_database_code():
    code = (
        "import sys, maps.planner, maps.page, maps.assets\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('flask', 'sqlalchemy', 'psycopg'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
