"""GDAL's OAPIF driver (what QGIS uses) lists and reads every collection from a live server."""

import os
import re
import subprocess

from sqlalchemy import text

from service.layers.features.collections import COLLECTIONS


def _ogrinfo(server, token, *args):
    env = {**os.environ, "GDAL_HTTP_HEADERS": f"Authorization: Bearer {token}"}
    out = subprocess.run(
        ["ogrinfo", "-ro", *args, f"OAPIF:{server}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return out.stdout


def test_gdal_lists_every_collection(server, tokens):
    listing = _ogrinfo(server, tokens["leader"][1], "-so")
    for cid in COLLECTIONS:
        assert re.search(rf"^\d+: {cid} ", listing, re.M), listing


def test_gdal_reads_every_feature(server, tokens, engine, demo):
    token = tokens["leader"][1]
    counts = {}
    with engine.connect() as conn:
        for cid, c in COLLECTIONS.items():
            where = "city_id = :c"
            if c.current_only:
                where += " AND valid_from <= now() AND (valid_to IS NULL OR valid_to > now())"
            counts[cid] = conn.execute(
                text(f"SELECT count(*) FROM {c.table} WHERE {where}"), {"c": demo[0]}
            ).scalar()
    for cid, expected in counts.items():
        # -al reads the features themselves, following the next links page by page
        assert _read_layer(server, token, cid) == expected, cid


def _read_layer(server, token, layer) -> int:
    env = {**os.environ, "GDAL_HTTP_HEADERS": f"Authorization: Bearer {token}"}
    out = subprocess.run(
        ["ogrinfo", "-ro", "-al", "-geom=NO", "-oo", "PAGE_SIZE=2000", f"OAPIF:{server}", layer],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    return len(re.findall(r"^OGRFeature\(", out, re.M))
