"""Accounts over HTTP: admins list, create, disable and enable users of their city, reset
passwords, issue and revoke tokens; everyone changes their own password."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request
from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import text

from service.accounts import users
from service.errors import NotFound, Problem, field_error, validated
from service.store.db import reading, writing
from service.web.auth import actor, require_role, throttle
from service.web.idempotency import idempotent

bp = Blueprint("users", __name__, url_prefix="/api")


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=64)
    role: str
    password: str | None = Field(default=None, min_length=8, max_length=256)
    unit: str | None = Field(default=None, max_length=32)
    display_name: str | None = Field(default=None, max_length=100)


class NewPassword(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: str = Field(min_length=8, max_length=256)


class OwnPassword(BaseModel):
    model_config = ConfigDict(extra="forbid")
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=8, max_length=256)


class NewToken(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str | None = Field(default=None, max_length=100)


def _body(model: type[BaseModel]) -> BaseModel:
    raw = request.get_json(silent=True)
    if not isinstance(raw, dict):
        raise Problem(
            "Send a JSON object.", status=400, errors=[field_error("body", "not a JSON object")]
        )
    return validated(model, raw, "Some fields are not valid; nothing was written.")


def _user(conn, user_id: int) -> users.User:
    """A user of the admin's own city, by id (404 for any other)."""
    name = conn.execute(
        text("SELECT name FROM app_user WHERE city_id = :c AND id = :u"),
        {"c": current_user.city_id, "u": user_id},
    ).scalar()
    if name is None:
        raise NotFound(f"No user {user_id}.")
    return users.find_user_by_name(conn, name)


@bp.get("/users")
@require_role("admin")
def list_users():
    """The city's users, with their last sign-in and how many live tokens they hold."""
    with reading() as conn:
        return jsonify(users=users.list_users(conn, current_user.city_id))


@bp.post("/users")
@require_role("admin")
@idempotent
def create_user():
    """A new user of the admin's city (201); ``unit`` is a unit code, needed for role unit."""
    new = _body(NewUser)
    with writing(actor()) as conn:
        user = users.create_user(
            conn,
            current_user.city_id,
            new.name,
            new.role,
            password=new.password,
            unit_code=new.unit,
            display_name=new.display_name,
        )
    resp = jsonify(user.as_json())
    resp.status_code = 201
    resp.headers["Location"] = f"/api/users/{user.id}"
    return resp


def _set_active(user_id: int, active: bool):
    with writing(actor()) as conn:
        user = users.set_active(conn, _user(conn, user_id).name, active)
    return jsonify({**user.as_json(), "active": active})


@bp.post("/users/<int:user_id>/disable")
@require_role("admin")
def disable(user_id: int):
    """Disable a user: its sign-ins end and its tokens stop working."""
    if user_id == current_user.id:
        raise Problem(
            "An admin cannot disable itself.",
            status=422,
            errors=[field_error("user_id", "is you")],
        )
    return _set_active(user_id, False)


@bp.post("/users/<int:user_id>/enable")
@require_role("admin")
def enable(user_id: int):
    """Enable a disabled user again (its tokens work again; it signs in anew)."""
    return _set_active(user_id, True)


@bp.put("/users/<int:user_id>/password")
@require_role("admin")
def reset_password(user_id: int):
    """Set a user's password; every browser sign-in of theirs ends."""
    new = _body(NewPassword)
    with writing(actor()) as conn:
        users.set_password(conn, _user(conn, user_id).name, new.password)
    return Response(status=204)


@bp.post("/me/password")
def own_password():
    """Change one's own password (the current one is asked); every sign-in ends."""
    change = _body(OwnPassword)
    name, address = current_user.name, request.remote_addr or ""
    wait_s = throttle.wait_s(name, address, current_app.config)
    if wait_s:
        raise Problem(
            f"Too many wrong passwords; try again in {wait_s} s.",
            status=429,
            errors=[field_error("current_password", "too many wrong guesses")],
        )
    with writing(actor()) as conn:
        if users.authenticate(conn, name, change.current_password) is None:
            throttle.failed(name, address)
            current_app.logger.warning("wrong current password: user %r from %s", name, address)
            raise Problem(
                "The current password is wrong; nothing was changed.",
                status=422,
                errors=[field_error("current_password", "wrong")],
            )
        users.set_password(conn, name, change.new_password)
    throttle.succeeded(name)
    return Response(status=204)


@bp.get("/users/<int:user_id>/tokens")
@require_role("admin")
def tokens(user_id: int):
    """A user's tokens (never their value: only its digest is kept)."""
    with reading() as conn:
        return jsonify(tokens=users.tokens_of(conn, _user(conn, user_id)))


@bp.post("/users/<int:user_id>/tokens")
@require_role("admin")
def issue(user_id: int):
    """A new token for a user, shown once in the answer (201). Not idempotent by design:
    the token's value is kept nowhere, not even for a retry."""
    new = _body(NewToken)
    with writing(actor()) as conn:
        user = _user(conn, user_id)
        token = users.issue_token(conn, user, new.label)
        tid = conn.execute(
            text("SELECT max(id) FROM api_token WHERE city_id = :c AND user_id = :u"),
            {"c": user.city_id, "u": user.id},
        ).scalar()
    resp = jsonify(id=tid, token=token)
    resp.status_code = 201
    return resp


@bp.delete("/users/<int:user_id>/tokens/<int:token_id>")
@require_role("admin")
def revoke(user_id: int, token_id: int):
    """Revoke a token: requests carrying it are refused from now on."""
    with writing(actor()) as conn:
        if not users.revoke_tokens(conn, _user(conn, user_id), token_id):
            raise NotFound(f"No live token {token_id} of user {user_id}.")
    return Response(status=204)
