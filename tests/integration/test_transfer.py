"""Files in and out: every format, all-or-nothing imports, dry runs, CRS handling."""

import datetime as dt
import io
import json
import zipfile
from unittest.mock import patch
from zoneinfo import ZoneInfo

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from flask.cli import ScriptInfo
from shapely.geometry import Point
from sqlalchemy import text

from gis.chinacrs import wgs84_to_gcj02
from service.cli import main
from service.layers.features import read
from service.layers.features.collections import COLLECTIONS, VIOLATIONS, feature_from
from service.layers.features.params import Query
from service.layers.transfer import export_features
from service.store.db import Actor, set_actor
from tests.conftest import bearer

CATEGORIES = ["disorderly_parking", "street_vending", "garbage_corner", "graffiti"]


def _cases(n: int, prefix: str, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "case_no": [f"{prefix}{i:06d}" for i in range(n)],
            "category": rng.choice(CATEGORIES, n),
            "description": ["导入测试"] * n,
            "observed_at": pd.Timestamp("2026-11-20 21:30")
            + pd.to_timedelta(rng.integers(0, 5 * 24 * 60, n), unit="m"),  # local times, no zone
            "source": "digital_city",
            "经度": rng.uniform(117.200, 117.245, n).round(7),
            "纬度": rng.uniform(28.285, 28.315, n).round(7),
        }
    )


@pytest.fixture()
def cleanup(engine):
    prefixes = []
    yield prefixes
    with engine.begin() as conn:
        set_actor(conn, Actor(None, "test-cleanup"))
        for p in prefixes:
            conn.execute(text("DELETE FROM violation WHERE case_no LIKE :p"), {"p": p + "%"})


def _run(app, *args):
    return app.test_cli_runner().invoke(main, list(args), obj=ScriptInfo(create_app=lambda: app))


def _count(engine, prefix):
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT count(*), count(zone_id), count(grid_cell_id), count(due_at), "
                "count(DISTINCT department_code) FROM violation WHERE case_no LIKE :p"
            ),
            {"p": prefix + "%"},
        ).one()


def test_ten_thousand_xlsx_rows_come_in_owned_in_one_transaction(app, engine, tmp_path, cleanup):
    cleanup.append("XL")
    path = tmp_path / "cases.xlsx"
    _cases(10_000, "XL").to_excel(path, index=False)
    result = _run(app, "import", "violations", str(path))
    assert result.exit_code == 0, result.output[-2000:]
    assert "imported 10000 of 10000 rows" in result.output
    total, zoned, celled, due, departments = _count(engine, "XL")
    assert total == 10_000 and due == 10_000 and departments == 4
    assert zoned > 9_000 and celled > 9_000  # a few fall in the gaps between zones
    with engine.connect() as conn:
        local = conn.execute(
            text(
                "SELECT to_char(observed_at AT TIME ZONE 'Asia/Shanghai', 'HH24:MI') "
                "FROM violation WHERE case_no = 'XL000000'"
            )
        ).scalar()
    assert local == _cases(10_000, "XL")["observed_at"][0].strftime("%H:%M")


def test_one_bad_row_and_nothing_is_written(app, engine, tmp_path, cleanup):
    cleanup.append("BAD")
    rows = _cases(300, "BAD")
    rows.loc[120, "category"] = "no_such_thing"
    rows.loc[250, "经度"] = 28.30  # latitude in the longitude column
    path = tmp_path / "cases.csv"
    rows.to_csv(path, index=False)
    result = _run(app, "import", "violations", str(path))
    assert result.exit_code != 0
    assert "row 121: properties.category" in result.output
    assert "row 251: geometry" in result.output
    assert _count(engine, "BAD")[0] == 0
    dry = _run(app, "import", "violations", str(path), "--dry-run")
    assert dry.exit_code != 0 and "row 121" in dry.output
    rows.loc[[120, 250], :] = rows.loc[[0, 1], :].to_numpy()
    rows.loc[[120, 250], "case_no"] = ["BAD999998", "BAD999999"]
    rows.to_csv(path, index=False)
    ok_dry = _run(app, "import", "violations", str(path), "--dry-run")
    assert ok_dry.exit_code == 0 and "would import 300 of 300" in ok_dry.output
    assert _count(engine, "BAD")[0] == 0


def test_a_case_number_stored_or_used_twice_is_named_and_nothing_is_written(
    app, engine, tmp_path, cleanup
):
    cleanup.append("TWO")
    path = tmp_path / "cases.csv"
    _cases(3, "TWO").to_csv(path, index=False)
    assert _run(app, "import", "violations", str(path)).exit_code == 0
    rows = _cases(400, "TWO", seed=8)  # its first three case numbers are stored
    rows.loc[[10, 399], "case_no"] = "TWO-again"
    rows.loc[200, "case_no"] = " TWO-again "  # the same number once stripped
    rows.to_csv(path, index=False)
    result = _run(app, "import", "violations", str(path))
    assert result.exit_code != 0
    for row in (1, 2, 3):
        assert f"row {row}: properties.case_no: TWO00000{row - 1} is already stored" in (
            result.output
        )
    for row in (11, 201, 400):
        assert f"row {row}: properties.case_no: TWO-again is used by another row" in (result.output)
    assert result.output.count("properties.case_no") == 6
    assert _count(engine, "TWO")[0] == 3


def test_gcj02_spreadsheet_and_a_projected_file_land_in_place(app, engine, tmp_path, cleanup):
    cleanup += ["GCJ", "PRJ"]
    rows = _cases(5, "GCJ")
    glon, glat = wgs84_to_gcj02(rows["经度"].to_numpy(), rows["纬度"].to_numpy())
    shifted = rows.assign(经度=glon, 纬度=glat)
    shifted.to_csv(tmp_path / "gcj.csv", index=False)
    assert (
        _run(app, "import", "violations", str(tmp_path / "gcj.csv"), "--crs", "gcj02").exit_code
        == 0
    )
    projected = gpd.GeoDataFrame(
        _cases(5, "PRJ").drop(columns=["经度", "纬度"]),
        geometry=[Point(x, y) for x, y in zip(rows["经度"], rows["纬度"], strict=True)],
        crs=4326,
    ).to_crs(4548)
    projected["observed_at"] = projected["observed_at"].astype(str)
    projected.to_file(tmp_path / "prj.gpkg", driver="GPKG")
    result = _run(app, "import", "violations", str(tmp_path / "prj.gpkg"))
    assert result.exit_code == 0, result.output
    with engine.connect() as conn:
        got = conn.execute(
            text(
                "SELECT case_no, ST_X(geom), ST_Y(geom) FROM violation WHERE case_no LIKE 'GCJ%' "
                "OR case_no LIKE 'PRJ%' ORDER BY case_no"
            )
        ).all()
    want = {
        f"{p}{i:06d}": (x, y)
        for p in ("GCJ", "PRJ")
        for i, (x, y) in enumerate(zip(rows["经度"], rows["纬度"], strict=True))
    }
    assert len(got) == 10
    for case, x, y in got:
        assert abs(x - want[case][0]) < 1e-6 and abs(y - want[case][1]) < 1e-6


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".zip", ".kml", ".csv", ".xlsx"])
def test_export_every_format(app, engine, demo, tmp_path, suffix):
    path = tmp_path / f"zones{suffix}"
    result = _run(app, "export", "zones", str(path))
    assert result.exit_code == 0, result.output
    with engine.connect() as conn:
        expected = conn.execute(
            text(
                "SELECT count(*) FROM zone WHERE city_id = :c AND valid_from <= now() "
                "AND (valid_to IS NULL OR valid_to > now())"
            ),
            {"c": demo[0]},
        ).scalar()
    if suffix == ".csv":
        back = pd.read_csv(path)
        assert {"lon", "lat", "wkt", "code"} <= set(back.columns)
    elif suffix == ".xlsx":
        back = pd.read_excel(path)
    elif suffix == ".zip":
        assert any(n.endswith(".shp") for n in zipfile.ZipFile(path).namelist())
        back = pyogrio.read_dataframe(f"/vsizip/{path}")
    else:
        back = pyogrio.read_dataframe(path)
    assert len(back) == expected
    if suffix == ".geojson":
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert "crs" not in doc


def test_import_over_http_with_a_dry_run(client, tokens, engine, cleanup):
    cleanup.append("WEB")
    buf = io.BytesIO()
    _cases(20, "WEB").to_excel(buf, index=False)

    def send(dry: str):
        return client.post(
            "/collections/violations/import",
            data={"file": (io.BytesIO(buf.getvalue()), "cases.xlsx"), "dry_run": dry},
            headers=bearer(tokens["inspector"][1]),
            content_type="multipart/form-data",
        )

    dry = send("true")
    assert dry.status_code == 200 and dry.get_json()["rows"] == 20
    assert _count(engine, "WEB")[0] == 0
    real = send("false")
    assert real.status_code == 201 and real.get_json()["inserted"] == 20
    again = send("false")  # the same case numbers: every row is a conflict, nothing written
    assert again.status_code == 409 or again.status_code == 422
    assert len(again.get_json()["errors"]) == 20 and _count(engine, "WEB")[0] == 20
    wrong = client.post(
        "/collections/violations/import",
        data={"file": (io.BytesIO(b"x"), "a.docx")},
        headers=bearer(tokens["inspector"][1]),
        content_type="multipart/form-data",
    )
    assert wrong.status_code == 415


def test_geojson_export_in_batches_is_whole_and_in_order(engine, demo, tmp_path):
    """The export is read a batch at a time; batches smaller than the layer still give every
    feature once, in id order, as one valid document; text with backslashes, quotes,
    newlines and tabs comes out as it went in."""
    city_id = demo[0]
    odd = 'a\\b "c"\n\td\\\\n \u6587 \\u0041'
    with engine.connect() as conn:
        ids = conn.execute(
            text("SELECT id FROM violation WHERE city_id = :c ORDER BY id"), {"c": city_id}
        ).scalars()
        ids = list(ids)
        set_actor(conn, Actor(None, "test"))
        conn.execute(  # not committed: seen by this connection alone
            text("UPDATE violation SET description = :d WHERE city_id = :c AND id = :i"),
            {"d": odd, "c": city_id, "i": ids[1]},
        )
        q = Query(where=["t.city_id = :city_id"], params={"city_id": city_id}, limit=len(ids))
        with patch.object(read, "STREAM_BATCH", 333):
            parts = list(read.batches(conn, VIOLATIONS, q))
        path = tmp_path / "cases.geojson"
        n = export_features(conn, VIOLATIONS, city_id, path, limit=1000)
        conn.rollback()
    assert len(parts) == -(-len(ids) // 333) and sum(k for k, _ in parts) == len(ids)
    features = json.loads(b"[" + b",\n".join(body for _, body in parts) + b"]")
    assert [f["id"] for f in features] == ids
    assert features[1]["properties"]["description"] == odd
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert n == 1000 and [f["id"] for f in doc["features"]] == ids[:1000]
    assert doc["features"][1]["properties"]["description"] == odd


def test_no_property_keeps_raw_whitespace_for_copy_to_mangle(engine):
    """Features come through COPY's text form, which escapes a raw tab or newline; to_json
    escapes them in every type but json, which keeps the text it was given: no collection
    may carry a json-typed property (jsonb is fine)."""
    with engine.connect() as conn:
        for c in COLLECTIONS.values():
            cursor = conn.connection.driver_connection.cursor()
            cursor.execute(f"SELECT feat.* FROM {feature_from(c)} WHERE false")
            kinds = {d.name: d.type_code for d in cursor.description}
            assert kinds.keys() == c.properties.keys()
            assert 114 not in kinds.values(), (c.id, kinds)  # 114: json


def test_an_empty_layer_exports_as_an_empty_collection(engine, demo, tmp_path):
    path = tmp_path / "none.geojson"
    with engine.connect() as conn:
        q = Query(where=["t.city_id = :city_id", "false"], params={"city_id": demo[0]}, limit=50)
        assert list(read.batches(conn, VIOLATIONS, q)) == []
        assert export_features(conn, VIOLATIONS, -1, path) == 0
    assert json.loads(path.read_text(encoding="utf-8"))["features"] == []


def _odd_cases() -> gpd.GeoDataFrame:
    """Cases as files bring them, the awkward ones among them: text to strip, escapes,
    times with and without a zone or as text, numbers as text, and wrong values."""
    n = 40
    frame = _cases(n, "COL", seed=3)
    frame = frame.astype({"observed_at": object, "description": object})
    frame["status"] = None
    frame["location_accuracy_m"] = pd.Series([np.nan] * n, dtype=object)
    odd = {
        1: {"case_no": "  COL-strip  "},
        2: {"description": 'tab\there, line\nend, back\\slash, "quote", \\N'},
        3: {"description": "[1, 2]"},  # a JSON list in a text field
        4: {"category": "no_such_thing"},
        5: {"status": "resolved"},  # resolved now, as no time was given
        6: {"status": "Resolved"},
        7: {"observed_at": "2026-11-21T08:00:00+05:30"},
        8: {"observed_at": "2026-11-21 08:00"},  # the city's time
        9: {"observed_at": "yesterday"},
        10: {"observed_at": 1_790_000_000},  # seconds since 1970
        11: {"observed_at": None, "case_no": None},  # now, and a number drawn
        12: {"location_accuracy_m": 12.5},
        13: {"location_accuracy_m": "7"},
        14: {"location_accuracy_m": 20_000.0},
        15: {"description": "x" * 2001},
        16: {"description": "nul\x00"},
        17: {"source": "camera"},
        18: {"source": "tv"},
        19: {"case_no": "C" * 33},
        20: {"description": "   "},
        21: {"observed_at": pd.Timestamp("2026-11-22 10:00", tz="UTC")},
        22: {"case_no": ""},
        23: {"observed_at": pd.Timestamp("1900-06-01 10:00")},  # Shanghai then: +08:05:43
        24: {"location_accuracy_m": 1e-50},  # kept to a tenth of a millimetre: 0
    }
    for row, values in odd.items():
        for k, v in values.items():
            frame.at[row, k] = v
    return gpd.GeoDataFrame(
        frame.drop(columns=["经度", "纬度"]),
        geometry=gpd.points_from_xy(frame["经度"], frame["纬度"]),
        crs=4326,
    )


def _import_and_read(engine, demo, frame, columnar: bool):
    from service.layers import bulk, transfer

    keep = bulk.checked
    if not columnar:  # every row through the one-row validator
        bulk.checked = lambda frame, *a: (np.zeros(len(frame), bool), None)
    try:
        with engine.connect() as conn:
            set_actor(conn, Actor(None, "test"))
            before = conn.execute(text("SELECT max(id) FROM violation")).scalar()
            report = transfer.import_features(
                conn, VIOLATIONS, demo[0], frame, crs="wgs84", repair=False, actor_id=None,
                dry_run=False,
            )  # fmt: skip
            rows = conn.execute(
                text(
                    "SELECT v.case_no LIKE 'COL%' AS named, v.category_code, v.description, "
                    "v.observed_at > now() - interval '1 hour' AS now_ish, "
                    "CASE WHEN v.observed_at < now() - interval '1 hour' THEN v.observed_at END, "
                    "v.source, v.status, v.resolved_at IS NOT NULL AS resolved, "
                    "v.location_accuracy_m, v.photos, ST_AsText(v.geom), v.zone_id, "
                    "v.grid_cell_id, v.unit_id, v.severity, v.due_at - v.observed_at, "
                    "v.near_points, v.provenance FROM violation v WHERE v.city_id = :c "
                    "AND v.id > :before ORDER BY ST_X(v.geom), ST_Y(v.geom)"
                ),
                {"c": demo[0], "before": before},
            ).all()
            conn.rollback()
    finally:
        bulk.checked = keep
    return report, rows


def test_rows_checked_a_column_at_a_time_land_as_the_one_row_validator_lands_them(engine, demo):
    """The same file through the column checks and through the one-row validator: the same
    errors, row by row and field by field; without the wrong rows, the same stored cases,
    judged the same."""
    from service.layers import bulk

    frame = _odd_cases()
    # the rows the column checks pass on to the validator: all the odd ones but those
    # plainly right (an escape, a zone, a time without one, a number drawn, a resolved case)
    plain, _ = bulk.checked(
        frame.drop(columns="geometry"),
        set(),
        set(CATEGORIES),
        ZoneInfo("Asia/Shanghai"),
        dt.datetime.now(dt.UTC),
    )
    assert np.flatnonzero(~plain).tolist() == [1, 3, 4, 6, 9, 10, 13, 14, 15, 16, 18, 19, 20, 23]
    fast, fast_rows = _import_and_read(engine, demo, frame, columnar=True)
    slow, _ = _import_and_read(engine, demo, frame, columnar=False)
    assert fast.errors == slow.errors and fast.inserted == slow.inserted == 0
    wrong = {3, 4, 6, 9, 14, 15, 16, 18, 19, 23}
    assert {e["row"] - 1 for e in fast.errors} == wrong
    good = frame.drop(index=sorted(wrong)).reset_index(drop=True)
    fast, fast_rows = _import_and_read(engine, demo, good, columnar=True)
    slow, slow_rows = _import_and_read(engine, demo, good, columnar=False)
    assert fast.errors == slow.errors == [] and fast.inserted == slow.inserted == len(good)
    assert len(fast_rows) == len(good) and fast_rows == slow_rows
    stored = {r.description: r for r in fast_rows}
    assert 'tab\there, line\nend, back\\slash, "quote", \\N' in stored
    assert stored["   ".strip()].description == ""  # stripped to empty, not absent


def _import_into(conn, city: int, frame) -> dict:
    """``frame`` imported into ``city`` on ``conn``: its cases, their events, their audit
    and what they added to the map's bins, each as comparable rows (ids aside)."""
    from service.layers import transfer

    bins = "SELECT bx, by, status, category_code, n FROM violation_bin WHERE city_id = :c"
    before_bins = dict(
        ((r.bx, r.by, r.status, r.category_code), r.n)
        for r in conn.execute(text(bins), {"c": city})
    )
    before = conn.execute(text("SELECT max(id) FROM violation")).scalar() or 0
    report = transfer.import_features(
        conn, VIOLATIONS, city, frame, crs="wgs84", repair=False, actor_id=None, dry_run=False
    )
    assert report.errors == [] and report.inserted == len(frame)
    ids = {
        r.id: r.case_no
        for r in conn.execute(
            text("SELECT id, case_no FROM violation WHERE city_id = :c AND id > :b"),
            {"c": city, "b": before},
        )
    }
    cases = conn.execute(
        text(
            "SELECT case_no, category_code, description, observed_at, source, status, "
            "ST_AsText(geom), ST_AsText(geom_3857), zone_id, grid_cell_id, unit_id, "
            "department_code, severity, permitted, near_points, due_at, provenance, version, "
            "tally_apart FROM violation WHERE city_id = :c AND id = ANY (:ids) ORDER BY case_no"
        ),
        {"c": city, "ids": list(ids)},
    ).all()
    events = conn.execute(
        text(
            "SELECT v.case_no, e.at, e.actor_id, e.action, e.from_status, e.to_status, "
            "e.comment, e.unit_id, e.photos, ST_AsText(e.geom), e.accuracy_m FROM case_event e "
            "JOIN violation v ON v.city_id = e.city_id AND v.id = e.violation_id "
            "WHERE e.city_id = :c AND e.violation_id = ANY (:ids) ORDER BY 1, e.id"
        ),
        {"c": city, "ids": list(ids)},
    ).all()
    audit = conn.execute(
        text(
            "SELECT actor_name, action, table_name, row_key FROM audit_log WHERE city_id = :c "
            "AND table_name = 'violation' AND row_key = ANY (:keys)"
        ),
        {"c": city, "keys": [str(i) for i in ids]},
    ).all()
    after_bins = conn.execute(text(bins), {"c": city}).all()
    added = {
        (r.bx, r.by, r.status, r.category_code): r.n
        - before_bins.get((r.bx, r.by, r.status, r.category_code), 0)
        for r in after_bins
    }
    return {
        "cases": cases,
        "events": events,
        "audit": sorted((a.actor_name, a.action, a.table_name, ids[int(a.row_key)]) for a in audit),
        "bins": {k: n for k, n in added.items() if n},
    }


@pytest.mark.parametrize("read_meanwhile", [False, True])
def test_a_city_s_first_import_lands_as_an_import_into_a_city_with_cases(
    engine, demo, monkeypatch, read_meanwhile
):
    """A city's first import is written into tables of its own, indexed after and put in
    place of its empty partitions: the same cases, judged the same, with the same events,
    audit and bins as the same file imported where cases are stored, and partitions that
    go on as any other (every index, key and trigger of the cases' and events' tables).
    While another transaction reads cases, the tables are not swapped (that would wait for
    it) but copied into the partitions, with the same result."""
    from service.layers import partitions

    monkeypatch.setattr(partitions, "LEAST_ROWS", 500)  # the file's 600 rows go that way
    city = demo[0]
    frame = _cases(600, "FIRST", seed=11)
    frame.loc[::7, "source"] = "hotline"
    frame.loc[::5, "category"] = "graffiti"
    frame["status"] = "open"
    frame.loc[::9, "status"] = "closed"
    frame = gpd.GeoDataFrame(
        frame.drop(columns=["经度", "纬度"]),
        geometry=gpd.points_from_xy(frame["经度"], frame["纬度"]),
        crs=4326,
    )
    shape = (
        "SELECT (SELECT count(*) FROM pg_inherits WHERE inhrelid IN (SELECT indexrelid "
        "FROM pg_index WHERE indrelid = CAST(:p AS regclass))), "
        "(SELECT count(*) FROM pg_index WHERE indrelid = CAST(:p AS regclass)), "
        "(SELECT count(*) FROM pg_constraint WHERE conrelid = CAST(:p AS regclass)), "
        "(SELECT count(*) FROM pg_trigger WHERE tgrelid = CAST(:p AS regclass)), "
        "(SELECT array_agg(relname ORDER BY relname) FROM pg_class WHERE oid IN "
        "(SELECT indexrelid FROM pg_index WHERE indrelid = CAST(:p AS regclass))), "
        "CAST(:p AS regclass)::oid"
    )
    # one category is not dispatched on arrival
    manual = "UPDATE violation_category SET auto_dispatch = false WHERE city_id = :c AND code = :k"
    with engine.connect() as conn:
        set_actor(conn, Actor(None, "test"))
        conn.execute(text(manual), {"c": city, "k": "street_vending"})
        stored = _import_into(conn, city, frame)
        conn.rollback()
        set_actor(conn, Actor(None, "test"))
        conn.execute(text(manual), {"c": city, "k": "street_vending"})
        before = {
            t: conn.execute(text(shape), {"p": f"{t}_c{city}"}).one()
            for t in ("violation", "case_event")
        }
        conn.execute(text("DELETE FROM violation WHERE city_id = :c"), {"c": city})
        with engine.connect() as reader:
            if read_meanwhile:  # as a request does: who is asking, then the cases
                reader.execute(text("SELECT FROM app_user WHERE city_id = :c"), {"c": city})
                reader.execute(text("SELECT FROM violation WHERE city_id = :c"), {"c": city})
            first = _import_into(conn, city, frame)
            reader.rollback()
            left = conn.execute(
                text("SELECT to_regclass(:v), to_regclass(:e), current_setting('lock_timeout')"),
                {"v": f"violation_l{city}", "e": f"case_event_l{city}"},
            ).one()
        after = {
            t: conn.execute(text(shape), {"p": f"{t}_c{city}"}).one()
            for t in ("violation", "case_event")
        }
        # the cases went on as any city's: a case changed is audited, a new one has events
        conn.execute(
            text(
                "UPDATE violation SET description = 'changed' "
                "WHERE city_id = :c AND case_no = 'FIRST000001'"
            ),
            {"c": city},
        )
        changed = conn.execute(
            text(
                "SELECT count(*) FROM audit_log a JOIN violation v ON v.city_id = a.city_id "
                "AND a.row_key = v.id::text WHERE a.city_id = :c AND v.case_no = 'FIRST000001' "
                "AND a.action = 'UPDATE'"
            ),
            {"c": city},
        ).scalar()
        again = _import_into(conn, city, frame.assign(case_no=frame["case_no"] + "B").head(50))
        conn.rollback()
    assert len(first["cases"]) == 600 and first["cases"] == stored["cases"]
    assert {c.status for c in first["cases"]} == {"open", "closed", "dispatched"}
    assert {c.status for c in first["cases"] if c.category_code == "street_vending"} <= {
        "open",
        "closed",
    }
    assert sum(c.zone_id is not None for c in first["cases"]) > 500
    assert first["events"] == stored["events"] and len(first["events"]) > 600
    assert first["audit"] == stored["audit"] and len(first["audit"]) == 600
    assert first["bins"] == stored["bins"] and sum(first["bins"].values()) == 600
    for t in ("violation", "case_event"):
        # a new table in the partition's place, with every index of the parent's attached,
        # the same keys and triggers, and the indexes named as before
        assert (after[t][5] == before[t][5]) is read_meanwhile
        assert after[t][:5] == before[t][:5] and after[t][0] == after[t][1] > 0
    assert changed == 1
    assert tuple(left) == (None, None, "0")  # no table left behind, no wait kept
    assert len(again["cases"]) == 50 and len(again["events"]) >= 50
