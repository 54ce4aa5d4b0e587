"""One error shape everywhere: RFC 7807 ``application/problem+json``.

Exceptions carry their HTTP status; every room raises them, and one handler in the web room
(service/web/errors.py) renders them. Nothing here imports a web framework.
"""

from __future__ import annotations

from http import HTTPStatus

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_S = 5  # what a 503 asks the client to wait while the database is away


class Problem(Exception):
    """An error for the client, with the fields it concerns."""

    http_status_code = HTTPStatus.BAD_REQUEST

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        title: str | None = None,
        errors: list[dict] | None = None,
    ):
        super().__init__(detail)
        self.status = int(status or self.http_status_code)
        self.title = title or HTTPStatus(self.status).phrase
        self.detail = detail
        self.errors = errors or []


class Unauthorized(Problem):
    http_status_code = HTTPStatus.UNAUTHORIZED


class Forbidden(Problem):
    http_status_code = HTTPStatus.FORBIDDEN


class NotFound(Problem):
    http_status_code = HTTPStatus.NOT_FOUND


def field_error(field: str, reason: str) -> dict:
    return {"field": field, "reason": reason}


def validated(model, value: object, detail: str):
    """``model.model_validate(value)`` (a pydantic model), or a 422 Problem naming every
    field that is wrong and why."""
    from pydantic import ValidationError

    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise Problem(
            detail,
            status=422,
            errors=[field_error(".".join(map(str, e["loc"])), e["msg"]) for e in exc.errors()],
        ) from None
