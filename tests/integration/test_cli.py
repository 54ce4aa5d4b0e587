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


def _script_info(app):
    from flask.cli import ScriptInfo

    return ScriptInfo(create_app=lambda: app)
