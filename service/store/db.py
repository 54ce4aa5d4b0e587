"""Database lifecycle: one engine per app, connections that know who is writing,
and migrations applied on start.

Every write runs inside ``writing(actor)``: it sets ``chuangwen.actor_*`` for the
transaction, which the audit trigger on every table reads. A write with no actor is
refused by the database itself.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, text

from service.store.pgcluster import Cluster

MIGRATIONS = Path(__file__).parent / "migrations"


class App(Protocol):
    """What the store needs of an application: its configuration and a place for the engine
    (a Flask app has both); the store itself imports no web framework."""

    config: dict
    extensions: dict


# the application of the request or command being served, when none is passed: the web room
# registers it (service/app.py), so reading() and writing() need no argument in a view
_current_app: Callable[[], App] | None = None


def use_current_app(provider: Callable[[], App]) -> None:
    global _current_app
    _current_app = provider


@dataclass(frozen=True)
class Actor:
    """Who a write is made by: a signed-in user or a named command-line job."""

    id: int | None
    name: str


SYSTEM = Actor(None, "system")


def database_url(config: dict) -> str:
    """DATABASE_URL when given, else the self-managed cluster under CHUANGWEN_HOME."""
    url = config.get("DATABASE_URL") or os.environ.get("DATABASE_URL")
    if url:
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return url
    return Cluster(Path(config["HOME"])).url


def make_engine(url: str) -> Engine:
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def get_engine(app: App | None = None) -> Engine:
    """The app's engine (the current one's when none is given), made on first use."""
    if app is None:
        if _current_app is None:
            raise RuntimeError("no application: pass one, or create it with create_app()")
        app = _current_app()
    engine = app.extensions.get("chuangwen_engine")
    if engine is None:
        engine = make_engine(database_url(app.config))
        app.extensions["chuangwen_engine"] = engine
    return engine


def cached(conn: Connection, key: tuple, load: Callable[[], Any]) -> Any:
    """A value kept for the rest of this transaction (catalogues looked up once per import)."""
    store = conn.info.setdefault("chuangwen_cache", {})
    if key not in store:
        store[key] = load()
    return store[key]


@contextmanager
def reading(app: App | None = None) -> Iterator[Connection]:
    """A read-only transaction on one snapshot (a page read in batches sees one state)."""
    with get_engine(app).connect() as conn:
        conn.info.pop("chuangwen_cache", None)
        conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
        yield conn
        conn.rollback()


# the transaction every writing() joins while one_transaction() is open (idempotent POSTs)
_SHARED: ContextVar[Connection | None] = ContextVar("chuangwen_shared_tx", default=None)


@contextmanager
def writing(actor: Actor, app: App | None = None) -> Iterator[Connection]:
    """One transaction, committed at the end or rolled back on any error. Inside
    ``one_transaction()`` it is a savepoint of that transaction instead, committed with it."""
    shared = _SHARED.get()
    if shared is not None:
        with shared.begin_nested():
            set_actor(shared, actor)
            yield shared
        return
    with get_engine(app).begin() as conn:
        conn.info.pop("chuangwen_cache", None)
        set_actor(conn, actor)
        yield conn


@contextmanager
def one_transaction(actor: Actor, app: App | None = None) -> Iterator[Connection]:
    """A transaction that every ``writing()`` opened inside it joins: what they write and
    what is written here commit together or not at all."""
    with writing(actor, app) as conn:
        token = _SHARED.set(conn)
        try:
            yield conn
        finally:
            _SHARED.reset(token)


def set_actor(conn: Connection, actor: Actor) -> None:
    conn.execute(
        text(
            "SELECT set_config('chuangwen.actor_id', :id, true), "
            "set_config('chuangwen.actor_name', :name, true)"
        ),
        {"id": "" if actor.id is None else str(actor.id), "name": actor.name},
    )


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["url"] = url
    return cfg


def upgrade(url: str) -> None:
    """Create the extensions and apply every migration (idempotent)."""
    command.upgrade(alembic_config(url), "head")


def prepare(app: App) -> str:
    """Start the self-managed cluster when no DATABASE_URL is set, then migrate."""
    url = database_url(app.config)
    if not (app.config.get("DATABASE_URL") or os.environ.get("DATABASE_URL")):
        Cluster(Path(app.config["HOME"])).start()
    upgrade(url)
    return url
