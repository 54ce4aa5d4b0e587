"""The Flask application factory."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask

from maps.assets import install_local_assets
from service import auth, db, errors


def create_app(test_config: dict | None = None) -> Flask:
    """Defaults, then ``CHUANGWEN_*`` environment variables, then ``test_config``."""
    app = Flask(__name__)
    app.config.from_mapping(
        HOME="var",
        TILES="osm",
        EMBED_MAX=20_000,  # more cases than this: the map draws them from vector tiles
        EMBED_FEATURES=5_000,  # a bigger layer is drawn from tiles or read for the view
        TILE_WARM_SECONDS=5,  # how often `serve` looks for changed cases to make tiles ahead
        DATABASE_URL=None,
        MAX_CONTENT_LENGTH=64 * 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.config.from_prefixed_env("CHUANGWEN")
    if test_config:
        app.config.update(test_config)
    app.config["HOME"] = str(Path(app.config["HOME"]).resolve())
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _persistent_secret(Path(app.config["HOME"]))

    install_local_assets(app.static_url_path + "/vendor", app.static_url_path)
    errors.init_app(app)
    db.init_app(app)
    auth.init_app(app)

    from service import api, catalogue_api, ogc, openapi, pages, plans_api, reports, tiles

    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(ogc.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(catalogue_api.bp)
    app.register_blueprint(tiles.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(plans_api.bp)
    return app


def _persistent_secret(home: Path) -> str:
    """A random session key kept under HOME, so sign-ins survive a restart."""
    path = home / "secret_key"
    if path.exists():
        return path.read_text().strip()
    home.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
