"""The planner map's layers over HTTP: ``/api/map/layers/{layer}`` (service/layers/map_layers.py),
read within the reader's case scope, with the layer's version as ETag (304 when unchanged)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request
from flask_login import current_user

from service.accounts.scope import case_scope
from service.errors import Problem, field_error
from service.layers import map_layers
from service.layers.features.params import whole_number
from service.store.db import reading

bp = Blueprint("map_layers", __name__, url_prefix="/api/map/layers")


@bp.get("/<layer>")
def layer(layer: str) -> Response:
    """One layer of the map as GeoJSON: the whole layer, or with ``bbox`` the features in a
    view (at most ``limit``, BBOX_LIMIT)."""
    errors = [
        field_error(k, "unknown parameter; takes bbox, limit")
        for k in sorted(set(request.args) - {"bbox", "limit"})
    ]
    limit = whole_number(request.args, "limit", map_layers.BBOX_LIMIT, 1, map_layers.BBOX_LIMIT,
                         errors)  # fmt: skip
    if "limit" in request.args and "bbox" not in request.args:
        errors.append(field_error("limit", "only with bbox"))
    if errors:
        raise Problem("Some query parameters are not understood.", errors=errors)
    bbox = map_layers.parse_bbox(request.args.get("bbox"))
    city, scope = current_user.city_id, case_scope(current_user)
    with reading() as conn:
        if bbox is None:
            # a layer bigger than a page can draw whole is asked for the view (or as tiles)
            most = current_app.config["EMBED_MAX"]
            if map_layers.size(conn, city, layer, scope, most) > most:
                raise Problem(
                    "The layer is too big to send whole: ask for a view.",
                    errors=[field_error("bbox", f"required above {most} features")],
                )
        if bbox is None and request.if_none_match:
            version = map_layers.version(conn, city, layer, scope)
            if request.if_none_match.contains(version):
                return _answer(b"", version, 304)
        body, version = map_layers.document(conn, city, layer, scope, bbox, limit)
    return _answer(body, version, 200)


def _answer(body: bytes, version: str | None, status: int) -> Response:
    resp = Response(body, status=status, mimetype="application/geo+json")
    resp.headers["Cache-Control"] = "private, no-cache"
    if version:
        resp.set_etag(version)
    return resp
