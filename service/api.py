"""The JSON API (``/api``)."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask_login import current_user

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/me")
def me():
    """The caller: ``{id, name, role}``."""
    return jsonify(current_user.as_json())
