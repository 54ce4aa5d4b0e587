"""OGC API – Features (Part 1 Core, Part 4 create/replace/update/delete) over the layers."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, request, stream_with_context
from flask_login import current_user
from werkzeug.utils import secure_filename

from service.accounts.scope import case_scope
from service.errors import Forbidden, NotFound, Problem, field_error
from service.layers.features import ahead, read, write
from service.layers.features.collections import COLLECTIONS, Collection
from service.layers.features.params import MAX_LIMIT, parse_items_query
from service.layers.transfer import UPLOAD_FORMATS, file_format, import_features, read_features
from service.store.db import reading, writing
from service.web.auth import actor
from service.web.idempotency import idempotent
from service.web.inputs import json_body

bp = Blueprint("ogc", __name__)

GEOJSON = "application/geo+json"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/features",
]
MAX_FEATURE_BYTES = 4 * 1024 * 1024
JSON_TYPES = ("application/json", GEOJSON, "application/merge-patch+json")


def _json(body: dict, status: int = 200, mimetype: str = "application/json") -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=mimetype)


def _base() -> str:
    return request.host_url.rstrip("/")


def landing() -> Response:
    b = _base()
    return _json(
        {
            "title": "chuangwen",
            "description": "Civilized-city campaign layers as OGC API – Features",
            "links": [
                {
                    "href": f"{b}/",
                    "rel": "self",
                    "type": "application/json",
                    "title": "this document",
                },
                {
                    "href": f"{b}/api",
                    "rel": "service-desc",
                    "type": "application/vnd.oai.openapi+json;version=3.1",
                    "title": "OpenAPI",
                },
                {"href": f"{b}/api.html", "rel": "service-doc", "type": "text/html"},
                {"href": f"{b}/conformance", "rel": "conformance", "type": "application/json"},
                {"href": f"{b}/collections", "rel": "data", "type": "application/json"},
            ],
        }
    )


@bp.get("/conformance")
def conformance() -> Response:
    return _json({"conformsTo": CONFORMANCE})


def _collection(cid: str) -> Collection:
    c = COLLECTIONS.get(cid)
    if c is None:
        raise NotFound(
            f"No collection {cid!r}; see /collections.",
            errors=[field_error("collectionId", f"one of {', '.join(COLLECTIONS)}")],
        )
    return c


def _describe(c: Collection, conn) -> dict:
    b = _base()
    en = request.args.get("lang") == "en"
    out = {
        "id": c.id,
        "title": c.title_en if en else c.title_zh,
        "description": c.title_en,
        "itemType": "feature",
        "crs": ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"],
        "links": [
            {"href": f"{b}/collections/{c.id}", "rel": "self", "type": "application/json"},
            {"href": f"{b}/collections/{c.id}/items", "rel": "items", "type": GEOJSON},
        ],
    }
    bbox = read.extent(conn, c, current_user.city_id)
    if bbox:
        out["extent"] = {
            "spatial": {"bbox": [bbox], "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}
        }
    return out


@bp.get("/collections")
def collections() -> Response:
    with reading() as conn:
        body = [_describe(c, conn) for c in COLLECTIONS.values()]
    b = _base()
    return _json(
        {
            "links": [{"href": f"{b}/collections", "rel": "self", "type": "application/json"}],
            "collections": body,
        }
    )


@bp.get("/collections/<cid>")
def collection(cid: str) -> Response:
    c = _collection(cid)
    with reading() as conn:
        return _json(_describe(c, conn))


@bp.get("/collections/<cid>/items")
def items(cid: str) -> Response:
    c = _collection(cid)
    q = parse_items_query(c, request.args, current_user.city_id, case_scope(current_user))
    walking = ahead.worth(q)  # by next links: a page may have been made ahead
    with reading() as conn:
        # the version, read once for the count and a page made ahead (only when walking: a
        # count of a query that reads the clock needs none)
        at = read.version(conn, c, current_user.city_id) if walking else None
        matched = read.count(conn, c, q, at)
        last, returned, more = read.page_end(conn, c, q)
        mark = read.mark(conn, c, q) if walking and returned else None
    head = {
        "type": "FeatureCollection",
        "numberMatched": matched,
        "numberReturned": returned,
        "links": _page_links(c, q, last, more),
    }
    made = ahead.take(current_user.id, c, q, at, mark) if mark else None
    if more and walking:  # the page after this one, meanwhile
        ahead.start(current_app._get_current_object(), current_user.id, c, q, last)
    if made is not None:
        return Response([_opened(head), made, b"]}"], mimetype=GEOJSON)
    return Response(stream_with_context(_stream(c, q, head)), mimetype=GEOJSON)


def _opened(head: dict) -> bytes:
    return json.dumps(head, ensure_ascii=False).encode()[:-1] + b', "features": ['


def _stream(c: Collection, q, head: dict) -> Iterator[bytes]:
    yield _opened(head)
    with reading() as conn:
        for i, (_, batch) in enumerate(read.batches(conn, c, q)):
            yield (b",\n" if i else b"") + batch
    yield b"]}"


def _page_links(c: Collection, q, last: int | None, more: bool) -> list[dict]:
    """self as asked; next after the page's last id (keyset, whether the page was asked by
    offset or after); prev only for offset pages."""
    base = f"{_base()}/collections/{c.id}/items"
    args = {k: v for k, v in request.args.items() if k not in ("offset", "after")}

    def link(rel: str, **at) -> dict:
        return {
            "href": f"{base}?{urlencode({**args, 'limit': q.limit, **at})}",
            "rel": rel,
            "type": GEOJSON,
        }

    here = {"after": q.after} if q.after is not None else {"offset": q.offset}
    links = [link("self", **here)]
    if more and last is not None:
        links.append(link("next", after=last))
    if q.after is None and q.offset > 0:
        links.append(link("prev", offset=max(0, q.offset - q.limit)))
    return links


def _scope_where() -> tuple[list[str], dict]:
    scope = case_scope(current_user)
    if scope is None:
        return [], {}
    return [scope.where()], scope.params


def _feature_response(
    feature: str, version: int, fid: int, status: int = 200, notes: list[str] | None = None
) -> Response:
    body = feature
    if notes:
        body = feature[:-1] + ', "notes": ' + json.dumps(notes, ensure_ascii=False) + "}"
    resp = Response(body, status=status, mimetype=GEOJSON)
    resp.headers["ETag"] = f'"{fid}.{version}"'
    return resp


@bp.get("/collections/<cid>/items/<int:fid>")
def item(cid: str, fid: int) -> Response:
    c = _collection(cid)
    extra, params = _scope_where() if c.id == "violations" else ([], {})
    with reading() as conn:
        found = read.one(conn, c, current_user.city_id, fid, extra, params)
    if found is None:
        raise NotFound(f"No feature {fid} in {cid}.")
    return _feature_response(found[0], found[1], fid)


def _may(roles: tuple[str, ...]) -> None:
    if current_user.role != "admin" and current_user.role not in roles:
        raise Forbidden(f"Writing here needs one of the roles: {', '.join(('admin', *roles))}.")


def _body() -> object:
    if request.content_length and request.content_length > MAX_FEATURE_BYTES:
        raise Problem(f"A feature may be at most {MAX_FEATURE_BYTES} bytes.", status=413)
    if request.mimetype not in JSON_TYPES:
        raise Problem(
            f"Send {GEOJSON} or application/json.",
            status=415,
            errors=[field_error("Content-Type", f"got {request.mimetype or 'none'}")],
        )
    return json_body()


def _write_options() -> tuple[str, bool]:
    crs = request.args.get("crs", "wgs84").lower()
    unknown = set(request.args) - {"crs", "repair"}
    errors = [field_error(k, "unknown parameter; writes take crs and repair") for k in unknown]
    if crs not in ("wgs84", "gcj02", "bd09"):
        errors.append(field_error("crs", "one of wgs84, gcj02, bd09"))
    repair = request.args.get("repair", "false").lower()
    if repair not in ("true", "false"):
        errors.append(field_error("repair", "true or false"))
    if errors:
        raise Problem("Some query parameters are not understood.", status=400, errors=errors)
    return crs, repair == "true"


@bp.post("/collections/<cid>/items")
@idempotent
def create(cid: str) -> Response:
    c = _collection(cid)
    _may(c.create_roles)
    crs, repair = _write_options()
    body = _body()
    city = current_user.city_id
    with writing(actor()) as conn:
        incoming = write.validate_feature(conn, c, city, body, crs, repair)
        fid = write.insert(conn, c, city, incoming.row, current_user.id)
        feature, version = read.one(conn, c, city, fid)
    resp = _feature_response(feature, version, fid, 201, incoming.notes)
    resp.headers["Location"] = f"{_base()}/collections/{c.id}/items/{fid}"
    return resp


def _if_match(fid: int) -> int:
    raw = request.headers.get("If-Match")
    if not raw:
        raise Problem(
            "Send If-Match with the ETag you read, so no edit is lost.",
            status=428,
            errors=[field_error("If-Match", "missing")],
        )
    tag = raw.strip().removeprefix("W/").strip('"')
    feature_id, _, version = tag.partition(".")
    if feature_id != str(fid) or not (version.isascii() and version.isdigit()) or len(version) > 18:
        raise Problem(
            "The ETag does not belong to this feature.",
            status=412,
            errors=[field_error("If-Match", f"got {raw}")],
        )
    return int(version)


def _stale(conn, c: Collection, fid: int) -> Problem:
    current = read.one(conn, c, current_user.city_id, fid)
    if current is None:
        return NotFound(f"No feature {fid} in {c.id}.")
    return Problem(
        "Someone else changed this feature since you read it; nothing was written. "
        f'Its current ETag is "{fid}.{current[1]}".',
        status=412,
        errors=[field_error("If-Match", "stale")],
    )


@bp.route("/collections/<cid>/items/<int:fid>", methods=["PUT", "PATCH"])
def replace(cid: str, fid: int) -> Response:
    c = _collection(cid)
    _may(c.edit_roles)
    crs, repair = _write_options()
    version = _if_match(fid)
    body = _body()
    city = current_user.city_id
    with writing(actor()) as conn:
        if request.method == "PATCH":
            body = _merge(conn, c, fid, body)
            if body.get("_geometry_unchanged"):
                crs = "wgs84"  # the stored geometry is WGS-84 already
        incoming = write.validate_feature(conn, c, city, body, crs, repair)
        if not write.update(conn, c, city, fid, version, incoming.row):
            raise _stale(conn, c, fid)
        feature, new_version = read.one(conn, c, city, fid)
    return _feature_response(feature, new_version, fid, 200, incoming.notes)


def _merge(conn, c: Collection, fid: int, patch: object) -> dict:
    """PATCH: the stored feature with the sent properties (and geometry) laid over it."""
    if not isinstance(patch, dict):
        raise Problem(
            "The body should be a JSON object.",
            status=400,
            errors=[field_error("body", "not an object")],
        )
    current = read.one(conn, c, current_user.city_id, fid)
    if current is None:
        raise NotFound(f"No feature {fid} in {c.id}.")
    stored = json.loads(current[0])
    writable = write.SPECS[c.id].model.model_fields
    props = {k: v for k, v in stored["properties"].items() if k in writable}
    sent = patch.get("properties") or {}
    if not isinstance(sent, dict):
        raise Problem(
            "properties should be an object.",
            status=400,
            errors=[field_error("properties", "not an object")],
        )
    props.update(sent)
    geometry = patch.get("geometry")
    merged = {
        "type": "Feature",
        "properties": props,
        "geometry": stored["geometry"] if geometry is None else geometry,
    }
    if geometry is None:  # absent or null: the stored one, in WGS-84 already (not converted)
        merged["_geometry_unchanged"] = True
    return merged


@bp.delete("/collections/<cid>/items/<int:fid>")
def remove(cid: str, fid: int) -> Response:
    c = _collection(cid)
    _may(c.edit_roles)
    version = _if_match(fid)
    with writing(actor()) as conn:
        if not write.delete(conn, c, current_user.city_id, fid, version):
            raise _stale(conn, c, fid)
    return Response(status=204)


@bp.post("/collections/<cid>/import")
@idempotent
def import_file(cid: str) -> Response:
    """Multipart upload of a file (field ``file``); ``dry_run``, ``crs``, ``repair``."""
    c = _collection(cid)
    _may(c.create_roles)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise Problem(
            "Send the file as multipart/form-data field 'file'.",
            status=400,
            errors=[field_error("file", "missing")],
        )
    form = {
        k: request.form.get(k, d)
        for k, d in (("dry_run", "false"), ("crs", "wgs84"), ("repair", "false"))
    }
    errors = [
        field_error(k, "true or false")
        for k in ("dry_run", "repair")
        if form[k] not in ("true", "false")
    ]
    if form["crs"] not in ("wgs84", "gcj02", "bd09"):
        errors.append(field_error("crs", "one of wgs84, gcj02, bd09"))
    if errors:
        raise Problem("Some form fields are not understood.", status=400, errors=errors)
    name = secure_filename(upload.filename) or "upload"
    file_format(Path(name), UPLOAD_FORMATS)
    # a private folder (0700) and a name of our own: nothing sent chooses a server path
    with tempfile.TemporaryDirectory(prefix="chuangwen-upload-") as tmp:
        path = Path(tmp) / f"upload{Path(name).suffix.lower()}"
        upload.save(path)
        frame, _ = read_features(path, name=name, collection=c)
        with writing(actor()) as conn:
            report = import_features(
                conn,
                c,
                current_user.city_id,
                frame,
                crs=form["crs"],
                repair=form["repair"] == "true",
                actor_id=current_user.id,
                dry_run=form["dry_run"] == "true",
            )
    status = 422 if report.errors else (200 if report.dry_run else 201)
    if report.errors:
        raise Problem(
            f"{len(report.errors)} problem(s) in {report.rows} rows; nothing was written.",
            status=status,
            errors=report.errors,
        )
    return _json(report.as_json(), status)


__all__ = ["bp", "landing", "MAX_LIMIT"]
