"""The OpenAPI entries of the accounts routes (service/web/users_api.py)."""

from __future__ import annotations

PROBLEM = {"$ref": "#/components/responses/Problem"}
_USER = {"name": "user_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_TOKEN = {"name": "token_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_NAME = {"type": "string", "minLength": 1, "maxLength": 64}
_PASSWORD = {"type": "string", "minLength": 8, "maxLength": 256}


def _body(required: list[str], properties: dict) -> dict:
    schema = {
        "type": "object",
        "required": required,
        "additionalProperties": False,
        "properties": properties,
    }
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _json(description: str, required: list[str] | None = None) -> dict:
    schema = {"type": "object", "required": required or []}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def paths(idempotency_key: dict) -> dict:
    admins = {"403": PROBLEM}
    return {
        "/api/users": {
            "get": {
                "summary": "The city's users: role, unit, active, last sign-in, live tokens "
                "(admins)",
                "responses": {"200": _json("users", ["users"]), **admins},
            },
            "post": {
                "summary": "Create a user of the admin's city (admins)",
                "parameters": [idempotency_key],
                "requestBody": _body(
                    ["name", "role"],
                    {
                        "name": _NAME,
                        "role": {"type": "string"},
                        "password": _PASSWORD,
                        "unit": {"type": "string", "maxLength": 32},
                        "display_name": {"type": "string", "maxLength": 100},
                    },
                ),
                "responses": {
                    "201": {
                        **_json("the user", ["id", "name", "role"]),
                        "headers": {"Location": {"schema": {"type": "string"}}},
                    },
                    **admins,
                    "422": PROBLEM,
                },
            },
        },
        "/api/users/{user_id}/disable": {
            "post": {
                "summary": "Disable a user: its sign-ins end, its tokens are refused (admins)",
                "parameters": [_USER],
                "responses": {"200": _json("the user"), **admins, "422": PROBLEM},
            }
        },
        "/api/users/{user_id}/enable": {
            "post": {
                "summary": "Enable a disabled user again (admins)",
                "parameters": [_USER],
                "responses": {"200": _json("the user"), **admins},
            }
        },
        "/api/users/{user_id}/password": {
            "put": {
                "summary": "Reset a user's password; its sign-ins end (admins)",
                "parameters": [_USER],
                "requestBody": _body(["password"], {"password": _PASSWORD}),
                "responses": {"204": {"description": "changed"}, **admins, "422": PROBLEM},
            }
        },
        "/api/users/{user_id}/tokens": {
            "get": {
                "summary": "A user's tokens (never their value) (admins)",
                "parameters": [_USER],
                "responses": {"200": _json("tokens", ["tokens"]), **admins},
            },
            "post": {
                "summary": "Issue a token, shown once in the answer (admins; not idempotent)",
                "parameters": [_USER],
                "requestBody": _body([], {"label": {"type": "string", "maxLength": 100}}),
                "responses": {"201": _json("the token", ["id", "token"]), **admins, "422": PROBLEM},
            },
        },
        "/api/users/{user_id}/tokens/{token_id}": {
            "delete": {
                "summary": "Revoke a token (admins)",
                "parameters": [_USER, _TOKEN],
                "responses": {"204": {"description": "revoked"}, **admins},
            }
        },
        "/api/me/password": {
            "post": {
                "summary": "Change one's own password (the current one is asked); every "
                "sign-in ends",
                "requestBody": _body(
                    ["current_password", "new_password"],
                    {
                        "current_password": {"type": "string", "minLength": 1},
                        "new_password": _PASSWORD,
                    },
                ),
                "responses": {"204": {"description": "changed"}, "422": PROBLEM},
            }
        },
    }
