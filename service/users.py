"""Users, passwords and API tokens (SQL for the ``app_user`` and ``api_token`` tables)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from flask_login import UserMixin
from sqlalchemy import Connection, text
from werkzeug.security import check_password_hash, generate_password_hash

from service.errors import Problem, field_error
from service.models import ROLES

# werkzeug's scrypt hash of a random password: checked when the user is unknown, so a
# wrong name costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(16))


@dataclass(frozen=True)
class User(UserMixin):
    id: int
    city_id: int
    name: str
    role: str
    unit_id: int | None
    display_name: str | None

    def get_id(self) -> str:
        return str(self.id)

    def as_json(self) -> dict:
        return {"id": self.id, "name": self.name, "role": self.role}


_USER_COLUMNS = "u.id, u.city_id, u.name, u.role, u.unit_id, u.display_name"


def _user(row) -> User | None:
    return User(**row._mapping) if row else None


def get_user(conn: Connection, user_id: int) -> User | None:
    row = conn.execute(
        text(f"SELECT {_USER_COLUMNS} FROM app_user u WHERE u.id = :id AND u.active"),
        {"id": user_id},
    ).first()
    return _user(row)


def authenticate(conn: Connection, name: str, password: str) -> User | None:
    row = conn.execute(
        text(
            f"SELECT {_USER_COLUMNS}, u.password_hash FROM app_user u "
            "WHERE u.name = :name AND u.active"
        ),
        {"name": name},
    ).first()
    stored = row.password_hash if row is not None else None
    ok = check_password_hash(stored or _DUMMY_HASH, password)
    if row is None or stored is None or not ok:
        return None
    return get_user(conn, row.id)


def user_for_token(conn: Connection, token: str) -> User | None:
    row = conn.execute(
        text(
            f"SELECT {_USER_COLUMNS} FROM api_token t "
            "JOIN app_user u ON u.city_id = t.city_id AND u.id = t.user_id "
            "WHERE t.token_sha256 = :digest AND t.revoked_at IS NULL AND u.active"
        ),
        {"digest": _digest(token)},
    ).first()
    return _user(row)


def create_user(
    conn: Connection,
    city_id: int,
    name: str,
    role: str,
    password: str | None = None,
    unit_code: str | None = None,
    display_name: str | None = None,
) -> User:
    """Insert a user; raise Problem naming the field when the input is wrong."""
    errors = []
    if not name or len(name) > 64 or not name.isprintable() or " " in name:
        errors.append(field_error("name", "1 to 64 printable characters without spaces"))
    if role not in ROLES:
        errors.append(field_error("role", f"one of {', '.join(ROLES)}"))
    if password is not None and len(password) < 8:
        errors.append(field_error("password", "at least 8 characters"))
    unit_id = None
    if unit_code:
        unit_id = conn.execute(
            text("SELECT id FROM unit WHERE city_id = :c AND code = :code"),
            {"c": city_id, "code": unit_code},
        ).scalar()
        if unit_id is None:
            errors.append(field_error("unit", f"no unit with code {unit_code!r} in this city"))
    elif role == "unit":
        errors.append(field_error("unit", "a unit-role user needs the unit it answers for"))
    if conn.execute(text("SELECT 1 FROM app_user WHERE name = :n"), {"n": name}).first():
        errors.append(field_error("name", f"a user named {name!r} exists"))
    if errors:
        raise Problem("The user could not be created.", status=422, errors=errors)
    row = conn.execute(
        text(
            "INSERT INTO app_user (city_id, name, role, password_hash, unit_id, display_name) "
            "VALUES (:c, :name, :role, :hash, :unit, :display) RETURNING id"
        ),
        {
            "c": city_id,
            "name": name,
            "role": role,
            "hash": generate_password_hash(password) if password else None,
            "unit": unit_id,
            "display": display_name,
        },
    ).one()
    return get_user(conn, row.id)


def set_password(conn: Connection, name: str, password: str) -> None:
    if len(password) < 8:
        raise Problem(
            "Password too short.",
            status=422,
            errors=[field_error("password", "at least 8 characters")],
        )
    done = conn.execute(
        text("UPDATE app_user SET password_hash = :h WHERE name = :n"),
        {"h": generate_password_hash(password), "n": name},
    ).rowcount
    if not done:
        raise Problem(
            f"No user named {name!r}.", status=404, errors=[field_error("name", "no such user")]
        )


def issue_token(conn: Connection, user: User, label: str | None = None) -> str:
    """A new bearer token; only its digest is kept, so it is shown once."""
    token = "cw_" + secrets.token_urlsafe(32)
    conn.execute(
        text(
            "INSERT INTO api_token (city_id, user_id, token_sha256, label) VALUES (:c, :u, :d, :l)"
        ),
        {"c": user.city_id, "u": user.id, "d": _digest(token), "l": label},
    )
    return token


def find_user_by_name(conn: Connection, name: str) -> User | None:
    row = conn.execute(
        text(f"SELECT {_USER_COLUMNS} FROM app_user u WHERE u.name = :n"), {"n": name}
    ).first()
    return _user(row)


def _digest(token: str) -> str:
    # Tokens carry 256 random bits, so a fast digest is enough to store them safely.
    return hashlib.sha256(token.encode()).hexdigest()
