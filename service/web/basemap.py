"""The city's own base map over HTTP: ``/tiles/basemap/{z}/{x}/{y}.png`` (signed-in users),
drawn by service/layers/basemap.py. Each tile says what it shows in ``X-Basemap-Drawn``
(``streets=12; labels=3; water=2; buildings=40; green=1; water_labels=1``: features with a
part inside the tile, names placed in it), readable by the pages' own scripts."""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, request
from flask_login import current_user

from service.errors import Problem, field_error
from service.layers import basemap
from service.store.db import reading

bp = Blueprint("basemap", __name__, url_prefix="/tiles/basemap")


@bp.get("/<int:z>/<int:x>/<int:y>.png")
def tile(z: int, x: int, y: int) -> Response:
    """One 256 × 256 PNG tile of the base map drawn from the city's streets, areas, water,
    buildings and green areas."""
    errors = [field_error(k, "unknown parameter; takes none") for k in sorted(request.args)]
    if not 0 <= z <= basemap.MAX_ZOOM:
        errors.append(field_error("z", f"a zoom from 0 to {basemap.MAX_ZOOM}"))
    elif not (0 <= x < 2**z and 0 <= y < 2**z):
        errors.append(
            field_error("x" if not 0 <= x < 2**z else "y", f"0 to {2**z - 1} at zoom {z}")
        )
    if errors:
        raise Problem("The tile address is not understood.", status=400, errors=errors)
    city = current_user.city_id
    with reading() as conn:
        image, version = basemap.serve(conn, city, z, x, y)
    resp = Response(image.png, mimetype=basemap.PNG)
    resp.headers["Cache-Control"] = "private, no-cache"
    resp.headers["X-Basemap-Drawn"] = "; ".join(f"{k}={n}" for k, n in image.drawn.items())
    resp.set_etag(hashlib.sha256(repr((city, z, x, y, version)).encode()).hexdigest()[:32])
    return resp.make_conditional(request)
