"""Sign-in for people (session cookie from the login page) and programs (bearer token).

Every page and API route needs one of the two, except the login page and static files.
State-changing requests from a browser session must carry the CSRF token; requests
authenticated by a bearer token are not open to CSRF and skip that check.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Flask, g, request
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect

from service.db import Actor, reading
from service.errors import Forbidden, Unauthorized
from service.users import User, get_user, user_for_token

login_manager = LoginManager()
csrf = CSRFProtect()

PUBLIC_ENDPOINTS = {"pages.login", "static", "pages.health", "pages.favicon"}
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    with reading() as conn:
        return get_user(conn, int(user_id))


@login_manager.request_loader
def _load_from_token(req) -> User | None:
    header = req.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
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
    login_manager.init_app(app)
    csrf.init_app(app)

    @app.before_request
    def _require_login() -> None:
        if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
            return
        if not current_user.is_authenticated:
            if request.headers.get("Authorization"):
                raise Unauthorized("The bearer token is unknown or revoked.")
            raise Unauthorized("Sign in on the login page, or send 'Authorization: Bearer TOKEN'.")
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
