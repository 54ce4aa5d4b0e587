"""Sign-in for people (session cookie from the login page) and programs (bearer token).

Every page and API route needs one of the two, except the login page and static files.
State-changing requests from a browser session must carry the CSRF token; requests
authenticated by a bearer token are not open to CSRF and skip that check.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from functools import wraps

from flask import Flask, current_app, g, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import text

from service.accounts.users import (
    User,
    end_session,
    start_session,
    user_for_session,
    user_for_token,
)
from service.errors import Forbidden, Unauthorized
from service.store.db import Actor, get_engine, reading

login_manager = LoginManager()
csrf = CSRFProtect()

PUBLIC_ENDPOINTS = {"pages.login", "static", "pages.health", "pages.favicon"}
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@login_manager.user_loader
def _load_user(cookie_id: str) -> User | None:
    """The cookie names a sign-in (``s:TOKEN``); an ended, idle or older cookie is nobody."""
    if not cookie_id.startswith("s:"):
        return None
    idle_s = int(float(current_app.config["SESSION_IDLE_HOURS"]) * 3600)
    with get_engine().begin() as conn:  # user_session is not audited: no actor needed
        return user_for_session(conn, cookie_id[2:], idle_s)


def sign_in(user: User) -> None:
    """Start a server-side sign-in for ``user`` and put it in the session cookie."""
    session.clear()  # nothing from before the sign-in (a planted CSRF token) carries over
    with get_engine().begin() as conn:
        login_user(start_session(conn, user, request.remote_addr))


def sign_out() -> None:
    token = getattr(current_user, "session_token", None)
    if token:
        with get_engine().begin() as conn:
            end_session(conn, token)
    logout_user()


class SignInThrottle:
    """Failed sign-ins counted per account and per address over a sliding window; past the
    limit the sign-in is refused (429 with Retry-After) without the password being tried.
    Kept in the server's memory: a restart forgets, and each server process counts alone."""

    def __init__(self) -> None:
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    MAX_KEYS = 100_000  # names and addresses remembered; past it the stale ones are dropped

    def _recent(self, key: tuple[str, str], window_s: float, now: float) -> deque[float]:
        times = self._failures.get(key) or deque()  # asking remembers nothing new
        while times and times[0] <= now - window_s:
            times.popleft()
        return times

    def wait_s(self, name: str, address: str, limits: dict) -> int:
        """Seconds until a sign-in of ``name`` from ``address`` is tried again (0: now)."""
        now, window = time.monotonic(), float(limits["LOGIN_WINDOW_S"])
        waits = []
        with self._lock:
            for key, limit in (
                (("name", name), limits["LOGIN_MAX_FAILURES"]),
                (("address", address), limits["LOGIN_MAX_FAILURES_PER_ADDRESS"]),
            ):
                times = self._recent(key, window, now)
                if len(times) >= int(limit):
                    waits.append(times[0] + window - now)
        return int(max(waits)) + 1 if waits else 0

    def failed(self, name: str, address: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._failures) > self.MAX_KEYS:  # a spray of names must not fill memory
                stale = [k for k, v in self._failures.items() if not v or v[-1] < now - 3600]
                for k in stale or list(self._failures)[: self.MAX_KEYS // 2]:
                    del self._failures[k]
            self._failures[("name", name)].append(now)
            self._failures[("address", address)].append(now)

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(("name", name), None)


throttle = SignInThrottle()


class DatabaseKeySessionInterface(SecureCookieSessionInterface):
    """Session cookies signed with the key kept in the database (``server_secret``), read
    once on the first request: no file the server could be made to read holds it."""

    _lock = threading.Lock()

    def open_session(self, app: Flask, request):
        if not app.config.get("SECRET_KEY"):
            with self._lock:
                if not app.config.get("SECRET_KEY"):
                    app.config["SECRET_KEY"] = session_key(app)
        return super().open_session(app, request)


def session_key(app: Flask) -> str:
    with get_engine(app).connect() as conn:
        key = conn.execute(text("SELECT value FROM server_secret WHERE name = 'session'")).scalar()
    if key is None:  # the migration makes it; a database restored without it gets one
        key = secrets.token_hex(32)
        with get_engine(app).begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO server_secret (name, value) VALUES ('session', :k) "
                    "ON CONFLICT (name) DO NOTHING"
                ),
                {"k": key},
            )
            key = conn.execute(
                text("SELECT value FROM server_secret WHERE name = 'session'")
            ).scalar()
    return key


OPEN311_PREFIX = "/open311/"  # GeoReport's api_key parameter is a token there (only there)
SYSTEM_BLUEPRINT = "open311"  # the one set of routes a client system (role system) may use


def _api_key(req) -> str:
    """GeoReport's ``api_key`` (query string, or the form of a POST) on the Open311 routes."""
    if not req.path.startswith(OPEN311_PREFIX):
        return ""
    key = req.args.get("api_key")
    if (
        key is None
        and req.method == "POST"
        and req.mimetype
        in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        )
    ):
        key = req.form.get("api_key")
    return (key or "").strip()


@login_manager.request_loader
def _load_from_token(req) -> User | None:
    header = req.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        token = _api_key(req)
        if not token:
            return None
    with reading() as conn:
        user = user_for_token(conn, token.strip())
    if user is not None:
        g.bearer = True
    return user


@login_manager.unauthorized_handler
def _unauthorized():
    raise Unauthorized("Sign in on the login page, or send 'Authorization: Bearer TOKEN'.")


def init_app(app: Flask) -> None:
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    if not app.config.get("SECRET_KEY"):
        app.session_interface = DatabaseKeySessionInterface()
    login_manager.init_app(app)
    csrf.init_app(app)

    @app.before_request
    def _require_login() -> None:
        if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
            return
        if not current_user.is_authenticated:
            if request.headers.get("Authorization"):
                raise Unauthorized("The bearer token is unknown or revoked.")
            if _api_key(request):
                raise Unauthorized("The api_key is unknown or revoked.")
            raise Unauthorized("Sign in on the login page, or send 'Authorization: Bearer TOKEN'.")
        if current_user.role == "system" and request.blueprint != SYSTEM_BLUEPRINT:
            raise Forbidden("A client system uses only the Open311 routes (/open311/v2/).")
        if request.method in UNSAFE_METHODS and not g.get("bearer"):
            csrf.protect()


def actor() -> Actor:
    """The signed-in user as the author of a write."""
    return Actor(current_user.id, current_user.name)


def require_role(*roles: str) -> Callable:
    """Allow only users with one of ``roles`` (admins always pass)."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if current_user.role != "admin" and current_user.role not in roles:
                raise Forbidden(f"This needs one of the roles: {', '.join(roles)}.")
            return view(*args, **kwargs)

        return wrapped

    return decorate
