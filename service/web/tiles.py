"""The vector tiles' route: the tile address and filters checked, the reader's scope, the
tile from service/layers/tiles.py."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, request
from flask_login import current_user

from service.accounts.scope import case_scope
from service.errors import NotFound, Problem, field_error
from service.layers import tiles
from service.store.db import reading

bp = Blueprint("tiles", __name__, url_prefix="/tiles")


@bp.get("/<layer>/<int:z>/<int:x>/<int:y>.pbf")
def tile(layer: str, z: int, x: int, y: int) -> Response:
    """One vector tile of a layer (``violations`` or ``grid_cells``)."""
    if layer not in ("violations", "grid_cells"):
        raise NotFound(f"No tiled layer {layer!r}: there are violations and grid_cells.")
    errors = []
    if not 0 <= z <= tiles.MAX_ZOOM:
        errors.append(field_error("z", f"a zoom from 0 to {tiles.MAX_ZOOM}"))
    elif not (0 <= x < 2**z and 0 <= y < 2**z):
        errors.append(
            field_error("x" if not 0 <= x < 2**z else "y", f"0 to {2**z - 1} at zoom {z}")
        )
    allowed = set(tiles.LISTS) | set(tiles.DAYS) if layer == "violations" else set()
    errors += [
        field_error(k, f"unknown parameter; takes {', '.join(sorted(allowed)) or 'none'}")
        for k in set(request.args) - allowed
    ]
    for k in tiles.DAYS:
        try:
            if k in request.args:
                dt.date.fromisoformat(request.args[k])
        except ValueError:
            errors.append(field_error(k, "a day as YYYY-MM-DD"))
    if errors:
        raise Problem("The tile address is not understood.", status=400, errors=errors)
    filters = {
        k: tuple(sorted(request.args[k].split(","))) if k in tiles.LISTS else (request.args[k],)
        for k in sorted(allowed & set(request.args))
    }
    city = current_user.city_id
    scope = case_scope(current_user)
    with reading() as conn:
        body, _ = tiles.serve(conn, layer, city, z, x, y, filters, scope)
    resp = Response(body, mimetype=tiles.MVT)
    resp.headers["Cache-Control"] = "private, no-cache"
    return resp
