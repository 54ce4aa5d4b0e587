"""Users, passwords and API tokens (SQL for the ``app_user`` and ``api_token`` tables)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, text
from werkzeug.security import check_password_hash, generate_password_hash

from service.errors import Problem, field_error
from service.store.models import ROLES

# werkzeug's scrypt hash of a random password: checked when the user is unknown, so a
# wrong name costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(16))


@dataclass(frozen=True)
class User:
    id: int
    city_id: int
    name: str
    role: str
    unit_id: int | None
    display_name: str | None
    # the browser sign-in this user came with (None for a bearer token or a command)
    session_token: str | None = None

    # what a sign-in library asks of a user (Flask-Login's protocol), without importing it
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        # what the signed cookie carries: the sign-in, not the user, so it can be ended
        return f"s:{self.session_token}" if self.session_token else str(self.id)

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
            "WHERE u.name = :name AND u.active AND u.role <> 'system'"
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
    if role == "system" and password is not None:
        errors.append(field_error("password", "a client system signs in with tokens only"))
    if role == "system" and unit_code:
        errors.append(field_error("unit", "a client system answers for no unit"))
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
    """A new password; every browser sign-in of the user ends with the old one."""
    if len(password) < 8 or len(password) > 256:
        raise Problem(
            "The password is too short or too long.",
            status=422,
            errors=[field_error("password", "8 to 256 characters")],
        )
    row = conn.execute(
        text(
            "UPDATE app_user SET password_hash = :h WHERE name = :n AND role <> 'system' "
            "RETURNING city_id, id"
        ),
        {"h": generate_password_hash(password), "n": name},
    ).first()
    if (
        row is None
        and conn.execute(text("SELECT 1 FROM app_user WHERE name = :n"), {"n": name}).first()
    ):
        raise Problem(
            "A client system has no password: it signs in with tokens only.",
            status=422,
            errors=[field_error("password", "a client system signs in with tokens only")],
        )
    if row is None:
        raise Problem(
            f"No user named {name!r}.", status=404, errors=[field_error("name", "no such user")]
        )
    end_sessions(conn, row.city_id, row.id)


def set_active(conn: Connection, name: str, active: bool) -> User:
    """Disable (or enable again) a user: a disabled one signs in with nothing, its browser
    sign-ins end and its tokens stop working (they are kept, so enabling restores them)."""
    row = conn.execute(
        text("UPDATE app_user SET active = :a WHERE name = :n RETURNING city_id, id"),
        {"a": active, "n": name},
    ).first()
    if row is None:
        raise Problem(
            f"No user named {name!r}.", status=404, errors=[field_error("name", "no such user")]
        )
    if not active:
        end_sessions(conn, row.city_id, row.id)
    return find_user_by_name(conn, name)


def revoke_tokens(conn: Connection, user: User, token_id: int | None = None) -> int:
    """Revoke one of the user's tokens (by id) or all of them; returns how many."""
    return conn.execute(
        text(
            "UPDATE api_token SET revoked_at = now() WHERE city_id = :c AND user_id = :u "
            "AND revoked_at IS NULL AND (CAST(:t AS bigint) IS NULL OR id = :t)"
        ),
        {"c": user.city_id, "u": user.id, "t": token_id},
    ).rowcount


def tokens_of(conn: Connection, user: User) -> list[dict]:
    rows = conn.execute(
        text(
            "SELECT id, label, created_at, revoked_at FROM api_token "
            "WHERE city_id = :c AND user_id = :u ORDER BY id"
        ),
        {"c": user.city_id, "u": user.id},
    )
    return _plain_rows(rows)


def _plain_rows(rows) -> list[dict]:
    """Rows as JSON-ready dicts (times as ISO text)."""
    return [
        {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in r._mapping.items()}
        for r in rows
    ]


def list_users(conn: Connection, city_id: int) -> list[dict]:
    rows = conn.execute(
        text(
            "SELECT u.id, u.name, u.display_name, u.role, n.code AS unit, u.active, "
            "u.created_at, (SELECT max(s.created_at) FROM user_session s WHERE s.city_id = "
            "u.city_id AND s.user_id = u.id) AS last_sign_in, (SELECT count(*) FROM api_token t "
            "WHERE t.city_id = u.city_id AND t.user_id = u.id AND t.revoked_at IS NULL) AS tokens "
            "FROM app_user u LEFT JOIN unit n ON n.city_id = u.city_id AND n.id = u.unit_id "
            "WHERE u.city_id = :c ORDER BY u.name"
        ),
        {"c": city_id},
    )
    return _plain_rows(rows)


def start_session(conn: Connection, user: User, address: str | None) -> User:
    """A new browser sign-in: the user as the cookie will carry it."""
    token = secrets.token_urlsafe(32)
    conn.execute(
        text(
            "INSERT INTO user_session (city_id, user_id, token_sha256, address) "
            "VALUES (:c, :u, :d, :a)"
        ),
        {"c": user.city_id, "u": user.id, "d": _digest(token), "a": address},
    )
    return User(**{**user.__dict__, "session_token": token})


def user_for_session(conn: Connection, token: str, idle_s: int) -> User | None:
    """The user of a live sign-in (not ended, seen within ``idle_s``, user active); notes
    that it was seen (at most once a minute, so most requests write nothing)."""
    row = conn.execute(
        text(
            f"SELECT {_USER_COLUMNS}, s.id AS sid, s.last_seen_at < now() - interval '60 s' "
            "AS stale FROM user_session s JOIN app_user u ON u.city_id = s.city_id "
            "AND u.id = s.user_id WHERE s.token_sha256 = :d AND s.ended_at IS NULL "
            "AND s.last_seen_at > now() - make_interval(secs => :idle) AND u.active"
        ),
        {"d": _digest(token), "idle": idle_s},
    ).first()
    if row is None:
        return None
    if row.stale:
        conn.execute(
            text("UPDATE user_session SET last_seen_at = now() WHERE city_id = :c AND id = :s"),
            {"c": row.city_id, "s": row.sid},
        )
    values = {k: v for k, v in row._mapping.items() if k not in ("sid", "stale")}
    return User(**values, session_token=token)


def end_session(conn: Connection, token: str) -> None:
    conn.execute(
        text(
            "UPDATE user_session SET ended_at = now() WHERE token_sha256 = :d AND ended_at IS NULL"
        ),
        {"d": _digest(token)},
    )


def end_sessions(conn: Connection, city_id: int, user_id: int) -> int:
    """End every browser sign-in of a user (new password, disabled)."""
    return conn.execute(
        text(
            "UPDATE user_session SET ended_at = now() WHERE city_id = :c AND user_id = :u "
            "AND ended_at IS NULL"
        ),
        {"c": city_id, "u": user_id},
    ).rowcount


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
