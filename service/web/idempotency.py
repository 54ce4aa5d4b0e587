"""``Idempotency-Key`` on the POSTs that create something.

A client that did not hear the answer to a POST (a dropped connection, a restarted database)
sends it again with the same key. The first request claims the key in its own writing
transaction and stores its answer there too, so the key and what the POST wrote commit
together or not at all: a retry finds the stored answer and gets it again (with
``Idempotent-Replayed: true``) and nothing is written twice. A second request with the same
key while the first is still running waits for it (the claim is a row the first one holds);
the same key with another method, path or body is a 422. Keys are per user and kept
``IDEMPOTENCY_HOURS`` (24). Errors are not kept: a request that failed wrote nothing, so
its retry runs again.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from functools import wraps

from flask import Response, current_app, make_response, request
from flask_login import current_user
from sqlalchemy import text

from service.errors import Problem, field_error
from service.store.db import one_transaction
from service.web.auth import actor

HEADER = "Idempotency-Key"
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII, no spaces
_REPLAYED_HEADERS = ("Content-Type", "Location", "ETag")


def idempotent(view: Callable) -> Callable:
    """Make a creating POST safe to retry with an ``Idempotency-Key`` header."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not _KEY.match(key):
            raise Problem(
                "The Idempotency-Key is not usable.",
                status=400,
                errors=[field_error(HEADER, "1 to 255 printable ASCII characters, no spaces")],
            )
        digest = _request_digest()
        ids = {"c": current_user.city_id, "u": current_user.id, "k": key}
        with one_transaction(actor()) as conn:
            # the user's expired keys go (this one too, if it was used a day ago)
            conn.execute(
                text(
                    "DELETE FROM idempotency_key WHERE city_id = :c AND user_id = :u "
                    "AND created_at < now() - make_interval(hours => :h)"
                ),
                {"c": ids["c"], "u": ids["u"], "h": int(current_app.config["IDEMPOTENCY_HOURS"])},
            )
            claimed = conn.execute(
                text(
                    "INSERT INTO idempotency_key (city_id, user_id, key, request_sha256, "
                    "status, headers, body) VALUES (:c, :u, :k, :d, 0, '{}', '') "
                    "ON CONFLICT DO NOTHING RETURNING 1"
                ),
                {**ids, "d": digest},
            ).first()
            if claimed:
                resp = make_response(view(*args, **kwargs))
                if resp.is_streamed:
                    raise RuntimeError("an idempotent view must not stream its answer")
                headers = {h: resp.headers[h] for h in _REPLAYED_HEADERS if h in resp.headers}
                conn.execute(
                    text(
                        "UPDATE idempotency_key SET status = :s, headers = CAST(:h AS jsonb), "
                        "body = :b WHERE city_id = :c AND user_id = :u AND key = :k"
                    ),
                    {**ids, "s": resp.status_code, "h": json.dumps(headers), "b": resp.data},
                )
                return resp
            first = conn.execute(
                text(
                    "SELECT request_sha256, status, headers, body FROM idempotency_key "
                    "WHERE city_id = :c AND user_id = :u AND key = :k"
                ),
                ids,
            ).one()
        if first.request_sha256 != digest:
            raise Problem(
                "This Idempotency-Key was used with another request; nothing was written.",
                status=422,
                errors=[field_error(HEADER, "already used with another method, path or body")],
            )
        replay = Response(bytes(first.body), status=first.status, headers=first.headers)
        replay.headers["Idempotent-Replayed"] = "true"
        return replay

    return wrapped


def _request_digest() -> str:
    """What makes two requests the same: method, path and query, and the body as sent —
    JSON by its value, a form by its fields and the bytes of its files (a client draws a new
    boundary for every send; a form's body is read before any view, so only its fields are
    left to compare)."""
    h = hashlib.sha256(f"{request.method} {request.full_path}\n".encode())
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        fields = sorted((k, v) for k, vs in request.form.lists() for v in vs)
        files = []
        for name, storage in request.files.items(multi=True):
            files.append((name, storage.filename, _stream_sha256(storage.stream)))
        h.update(json.dumps([fields, sorted(files)], ensure_ascii=False).encode())
    elif request.is_json:
        raw = request.get_data(cache=True)
        try:
            h.update(json.dumps(json.loads(raw), sort_keys=True).encode())
        except (ValueError, UnicodeDecodeError, RecursionError):
            h.update(raw)  # the view names what is wrong with it
    else:
        h.update(request.get_data(cache=True))
    return h.hexdigest()


def _stream_sha256(stream) -> str:
    h = hashlib.sha256()
    for block in iter(lambda: stream.read(1 << 16), b""):
        h.update(block)
    stream.seek(0)
    return h.hexdigest()
