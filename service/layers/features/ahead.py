"""The next page made while a client reads the one before.

A client walking a layer by its next links (GDAL's OAPIF driver, so QGIS) asks for a page
only once it has read the one before: the server would wait while the client reads, and the
client while the server makes the page. When a page is asked by ``after`` (a next link) and
more follow, the page after it is made on a worker thread while this one is sent and read,
and kept for the same user and the same query for :data:`KEPT_S` seconds.

It is served only if, in the snapshot of the request that asks for it, the layer's version
(``read.version``: the layers its rows name) and the page's rows (``read.mark``: each row's
id and the transaction that last wrote it) are what they were in the snapshot it was made
in; else it is dropped and the page made afresh. What neither says — a reporter's name
changed (users have no version), a case that fell overdue (``overdue`` reads the clock) —
is at most :data:`KEPT_S` old. The key holds the user and the whole query, the user's scope
among its conditions: a page made for one user is never given to another, and a user whose
scope changed asks another query.

One worker makes the pages, one at a time; a request whose page has not been started yet
makes it itself (the worker is busy with other users' pages), and one being made is waited
for at most :data:`WAIT_S`. Pages over :data:`PAGE_BYTES` are not kept, :data:`PER_USER` at
most a user and :data:`PAGES_KEPT` in all, the oldest dropped first.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace

from service.layers.features import read
from service.layers.features.collections import Collection
from service.layers.features.params import Query
from service.store.db import reading

KEPT_S = 10.0  # a page made ahead is dropped after this long (a walking client asks in ~1 s)
WAIT_S = 5.0  # a request waits at most this long for its page being made
PAGE_BYTES = 16 << 20  # a page larger is not kept (10,000 cases are about 8 MB)
PER_USER = 2  # pages kept for one user at most
PAGES_KEPT = 6  # pages kept in all at most

log = logging.getLogger(__name__)
_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="page-ahead")
_PAGES: dict[tuple, tuple[float, Future]] = {}  # in the order they were asked for
_LOCK = threading.Lock()


@dataclass
class Page:
    version: str
    mark: str
    body: bytes  # the features' texts joined by ",\n"


def _key(user_id: int, c: Collection, q: Query) -> tuple:
    return (
        user_id,
        c.id,
        tuple(q.where),
        read.params_key(q),
        q.limit,
        q.after,
    )


def worth(q: Query) -> bool:
    """A page asked by a next link, of a query that reads no clock."""
    return q.after is not None and not read.clocked(q)


def _make(app, c: Collection, q: Query) -> Page | None:
    with app.app_context(), reading(app) as conn:  # one snapshot: version, rows and mark
        version, mark = read.version(conn, c, q.params["city_id"]), read.mark(conn, c, q)
        parts, size = [], 0
        for _, batch in read.batches(conn, c, q):
            parts.append(batch)
            size += len(batch)
            if size > PAGE_BYTES:
                return None
    return Page(version, mark, b",\n".join(parts))


def _failed(job: Future) -> None:
    if not job.cancelled() and job.exception() is not None:
        log.error("a page made ahead failed", exc_info=job.exception())


def _drop(key: tuple) -> None:
    """Forget a page (under the lock); one not started yet is not made."""
    _PAGES.pop(key)[1].cancel()


def start(app, user_id: int, c: Collection, q: Query, last: int) -> None:
    """Make the page after ``last`` (the next link's) for this user on the worker thread."""
    following = replace(q, where=list(q.where), params=dict(q.params), after=last, offset=0)
    key = _key(user_id, c, following)
    now = time.monotonic()
    with _LOCK:
        for k in [k for k, (made, _) in _PAGES.items() if now - made > KEPT_S]:
            _drop(k)
        if key in _PAGES:
            return
        mine = [k for k in _PAGES if k[0] == user_id]
        for k in mine[: max(0, len(mine) + 1 - PER_USER)]:
            _drop(k)
        while len(_PAGES) >= PAGES_KEPT:
            _drop(next(iter(_PAGES)))
        try:
            job = _POOL.submit(_make, app, c, following)
        except RuntimeError:  # the interpreter is shutting down
            return
        job.add_done_callback(_failed)
        _PAGES[key] = (now, job)


def take(user_id: int, c: Collection, q: Query, version: str, mark: str) -> bytes | None:
    """The page made ahead for this user and query, if the layer is still at ``version`` and
    the page's rows at ``mark`` (both read in the request's snapshot); else None (made
    afresh)."""
    with _LOCK:
        held = _PAGES.pop(_key(user_id, c, q), None)
    if held is None:
        return None
    made, job = held
    if time.monotonic() - made > KEPT_S or job.cancel():  # too old, or not started yet
        return None
    try:
        page = job.result(timeout=WAIT_S)
    except Exception:  # noqa: BLE001 - failed or late: made afresh instead
        return None
    if page is None or page.version != version or page.mark != mark:
        return None
    return page.body
