"""Shared fixtures: a real PostGIS (the self-managed cluster code), the demo city, an app.

Set CHUANGWEN_TEST_DATABASE_URL to run against a server of your own; otherwise a
throw-away cluster is initialised under /tmp and removed at the end.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text

from service.store.db import Actor, make_engine, set_actor, upgrade
from service.store.pgcluster import Cluster

NOW = dt.datetime(2026, 11, 28, 4, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def pg_cluster():
    """The throw-away cluster (None when CHUANGWEN_TEST_DATABASE_URL names a server)."""
    if os.environ.get("CHUANGWEN_TEST_DATABASE_URL"):
        yield None
        return
    home = Path(tempfile.mkdtemp(prefix="chuangwen-test-"))
    home.chmod(0o755)  # the postgres user must reach the cluster inside it when run as root
    cluster = Cluster(home)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_url(pg_cluster):
    return os.environ.get("CHUANGWEN_TEST_DATABASE_URL") or pg_cluster.url


@contextmanager
def own_database(engine, pg_url: str, name: str):
    """A database of its own in the test cluster, migrated, dropped afterwards: for tests
    whose writes (a fuzzer's, a second city's) must not reach the shared demo city."""
    from sqlalchemy.engine import make_url

    url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    upgrade(url)
    try:
        yield url
    finally:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@contextmanager
def app_on(url: str, **config):
    """An app on the database at ``url`` with a home of its own."""
    from service.app import create_app

    home = Path(tempfile.mkdtemp(prefix="chuangwen-app-"))
    app = create_app(
        {
            "DATABASE_URL": url,
            "HOME": str(home),
            "TESTING": True,
            "TILES": "none",
            "SECRET_KEY": "test-secret",
            **config,
        }
    )
    try:
        yield app
    finally:
        eng = app.extensions.get("chuangwen_engine")
        if eng is not None:
            eng.dispose()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def engine(pg_url):
    upgrade(pg_url)
    eng = make_engine(pg_url)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def demo(engine):
    """The Guixi demo city, loaded once for the session: (city_id, DemoCity, admin password)."""
    from service.demo.build import build
    from service.demo.load import load

    city = build(NOW)
    with engine.begin() as conn:
        set_actor(conn, Actor(None, "test-demo"))
        city_id, _, password = load(conn, city)
    return city_id, city, password


@pytest.fixture(scope="session")
def app_home():
    home = Path(tempfile.mkdtemp(prefix="chuangwen-app-"))
    yield home
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture()
def app(pg_url, engine, demo, app_home):
    from service.app import create_app

    app = create_app(
        {
            "DATABASE_URL": pg_url,
            "HOME": str(app_home),
            "TESTING": True,
            "TILES": "none",
            "SECRET_KEY": "test-secret",
        }
    )
    yield app
    eng = app.extensions.get("chuangwen_engine")
    if eng is not None:
        eng.dispose()


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def tokens(engine, demo):
    """A bearer token and user per role, in the demo city."""
    from service.accounts.users import create_user, issue_token

    city_id = demo[0]
    out = {}
    with engine.begin() as conn:
        set_actor(conn, Actor(None, "test-users"))
        unit = conn.execute(
            text("SELECT code FROM unit WHERE city_id = :c AND kind = 'territorial' LIMIT 1"),
            {"c": city_id},
        ).scalar()
        for role in ("admin", "planner", "inspector", "unit", "leader"):
            user = create_user(
                conn,
                city_id,
                f"t_{role}",
                role,
                password=f"{role}-password",
                unit_code=unit if role == "unit" else None,
            )
            out[role] = (user, issue_token(conn, user))
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def _serving(pg_url, app_home, unset: tuple[str, ...] = (), **env_extra):
    """``chuangwen serve`` in a subprocess on a free port, against the test database; with
    no base map unless told (``unset``: variables left out, as an operator would)."""
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": pg_url,
        "CHUANGWEN_HOME": str(app_home),
        "CHUANGWEN_TILES": "none",
        **env_extra,
    }
    env = {k: v for k, v in env.items() if k not in unset}
    cli = Path(sys.executable).with_name("chuangwen")
    proc = subprocess.Popen(
        [str(cli), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(base + "/health", timeout=2) as resp:
                if resp.status == 200:
                    break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(
                    "server did not start:\n" + proc.stdout.read().decode()
                ) from None
            time.sleep(0.3)
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def server(pg_url, engine, demo, tokens, app_home):
    with _serving(pg_url, app_home) as base:
        yield base


@pytest.fixture(scope="session")
def big_city_server(pg_url, engine, demo, tokens, app_home):
    """The same city served as a big one: no layer of more than 20 features embedded (its
    3 stall areas are), the cases from tiles."""
    with _serving(
        pg_url, app_home, CHUANGWEN_EMBED_FEATURES="20", CHUANGWEN_EMBED_MAX="100"
    ) as base:
        yield base


EVIL_TEXT = '<img src=x onerror="window.__xss=1">'


@pytest.fixture()
def evil_violation(engine, demo):
    """A case whose description is HTML that would run if a page did not escape it."""
    case_no = f"XSS{time.monotonic_ns() % 10**9}"
    with engine.begin() as conn:
        set_actor(conn, Actor(None, "test"))
        conn.execute(
            text(
                "INSERT INTO violation (city_id, case_no, category_code, description, observed_at, "
                "source, provenance, geom) VALUES (:c, :n, 'graffiti', :d, now(), 'citizen', "
                "'user', ST_SetSRID(ST_MakePoint(117.215, 28.29), 4326))"
            ),
            {"c": demo[0], "n": case_no, "d": EVIL_TEXT},
        )
    yield case_no
    with engine.begin() as conn:
        set_actor(conn, Actor(None, "test"))
        conn.execute(text("DELETE FROM violation WHERE case_no = :n"), {"n": case_no})


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}
