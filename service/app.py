"""The Flask application factory."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app

from maps.assets import install_local_assets
from service.rounds.coverage import check_settings
from service.store import db
from service.web import auth, errors, headers


def create_app(test_config: dict | None = None) -> Flask:
    """Defaults, then ``CHUANGWEN_*`` environment variables, then ``test_config``."""
    app = Flask(__name__, template_folder="web/templates", static_folder="web/static")
    app.config.from_mapping(
        HOME="var",
        TILES="own",  # the base map drawn from the city's own streets (osm, none, a URL)
        TILES_GCJ02=False,  # the tiles of a TILES URL are in GCJ-02 (AMap, Tencent)
        EMBED_MAX=20_000,  # more cases than this: the map draws them from vector tiles
        EMBED_FEATURES=5_000,  # a bigger layer is drawn from tiles or read for the view
        TILE_WARM_SECONDS=5,  # how often `serve` looks for changed cases to make tiles ahead
        DATABASE_URL=None,
        MAX_CONTENT_LENGTH=64 * 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
        SESSION_IDLE_HOURS=12,  # a browser sign-in unused this long ends
        LOGIN_MAX_FAILURES=5,  # failed sign-ins of one account within LOGIN_WINDOW_S ...
        LOGIN_MAX_FAILURES_PER_ADDRESS=20,  # ... or from one address, then refused a while
        LOGIN_WINDOW_S=900,
        IDEMPOTENCY_HOURS=24,  # how long the answer to an Idempotency-Key is kept
    )
    app.config.from_prefixed_env("CHUANGWEN")
    db.use_current_app(lambda: current_app._get_current_object())
    if test_config:
        app.config.update(test_config)
    app.config["HOME"] = str(Path(app.config["HOME"]).resolve())
    check_settings(app.config)
    # the session key lives in the database now (auth.DatabaseKeySessionInterface); a key
    # file left by an older version is removed, since it may have been read out
    (Path(app.config["HOME"]) / "secret_key").unlink(missing_ok=True)

    install_local_assets(app.static_url_path + "/vendor", app.static_url_path)
    errors.init_app(app)
    app.cli.add_command(_db_commands())
    auth.init_app(app)
    headers.init_app(app)

    from service.web import (
        admin,
        ads_api,
        api,
        assess,
        basemap,
        cases_api,
        catalogue_api,
        dashboard_api,
        kpis_api,
        map_layers,
        ogc,
        open311,
        openapi,
        pages,
        plans_api,
        ranking_api,
        reports,
        summaries_api,
        tasks,
        tiles,
        users_api,
    )

    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(ogc.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(catalogue_api.bp)
    app.register_blueprint(tiles.bp)
    app.register_blueprint(basemap.bp)
    app.register_blueprint(map_layers.bp)
    app.register_blueprint(cases_api.bp)
    app.register_blueprint(kpis_api.bp)
    app.register_blueprint(assess.bp)
    app.register_blueprint(ads_api.bp)
    app.register_blueprint(ranking_api.bp)
    app.register_blueprint(dashboard_api.bp)
    app.register_blueprint(summaries_api.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(tasks.bp)
    app.register_blueprint(plans_api.bp)
    app.register_blueprint(users_api.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(open311.bp)
    return app


def _db_commands():
    from service.cli import db_cli  # `flask --app service.app db ...` as well as `chuangwen db`

    return db_cli
