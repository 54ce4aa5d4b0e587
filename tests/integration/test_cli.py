from service.cli import main


def test_user_add_prints_a_working_token_on_the_last_line(app, client, demo):
    result = app.test_cli_runner().invoke(
        main, ["user", "add", "cli_inspector", "--role", "inspector"], obj=_script_info(app)
    )
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    me = client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert me["name"] == "cli_inspector" and me["role"] == "inspector"


def test_user_add_names_the_bad_field(app, demo):
    runner = app.test_cli_runner()
    result = runner.invoke(
        main, ["user", "add", "cli_unit", "--role", "unit"], obj=_script_info(app)
    )
    assert result.exit_code != 0 and "unit:" in result.output
    result = runner.invoke(main, ["user", "add", "x", "--role", "mayor"], obj=_script_info(app))
    assert result.exit_code != 0 and "--role" in result.output


def test_db_status_reports_the_server(app):
    result = app.test_cli_runner().invoke(main, ["db", "status"], obj=_script_info(app))
    assert result.exit_code == 0, result.output
    assert "PostGIS" in result.output or "POSTGIS" in result.output


def test_import_roads_from_osm_then_plan_a_night_round_as_gpx(app, demo, tokens, engine):
    import xml.etree.ElementTree as ET
    from pathlib import Path

    from sqlalchemy import text

    pbf = Path(__file__).resolve().parents[2] / "data" / "guixi" / "jiangxi_guixi_center.osm.pbf"
    runner = app.test_cli_runner()
    result = runner.invoke(main, ["import-roads", str(pbf)], obj=_script_info(app))
    assert result.exit_code == 0, result.output
    with engine.connect() as conn:
        n, oneway = conn.execute(
            text("SELECT count(*), count(*) FILTER (WHERE oneway <> 0) FROM road")
        ).one()
    assert f"{n} streets" in result.output and n > 150 and oneway > 20
    # the same file's water, buildings and park replace the base map's
    assert "base map: water areas 9, waterways 5, buildings 165, green areas 1" in result.output
    result = runner.invoke(
        main,
        [
            "plan",
            "--date",
            "2026-11-29",
            "--from",
            "21:00",
            "--to",
            "00:30",
            "--depot",
            "117.2150,28.2900",
            "--mode",
            "drive",
            "--team",
            "t_inspector",
            "--as",
            "t_leader",
            "--format",
            "gpx",
        ],
        obj=_script_info(app),
    )
    assert result.exit_code == 0, result.output
    root = ET.fromstring(result.output.strip().encode())
    assert len(root.findall("{http://www.topografix.com/GPX/1/1}wpt")) > 3
    result = runner.invoke(
        main,
        [
            "plan",
            "--date",
            "2026-11-29",
            "--from",
            "21:00",
            "--to",
            "23:00",
            "--depot",
            "117.2150,28.2900",
            "--team",
            "t_inspector",
            "--as",
            "t_unit",
        ],
        obj=_script_info(app),
    )
    assert result.exit_code != 0 and "--as" in result.output


def _script_info(app):
    from flask.cli import ScriptInfo

    return ScriptInfo(create_app=lambda: app)
