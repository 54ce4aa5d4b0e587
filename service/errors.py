"""One error shape everywhere: RFC 7807 ``application/problem+json``.

Exceptions carry their HTTP status; every room raises them, and one handler in the web room
(service/web/errors.py) renders them. Nothing here imports a web framework.

Details and reasons are English sentences written in place (f-strings welcome); the web room
adds each one's ``message`` in the request's language from data/i18n/problems.zh.json, keyed
by the sentence's template (service/web/messages.py). A sentence that reaches a Problem other
than as a literal argument is marked with :func:`catalogued` so the catalogue's test sees it.
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


def field_error(field: str, reason: str, *, pydantic: dict | None = None) -> dict:
    """``{"field", "reason"}``; ``pydantic``: the error's ``type`` and ``ctx`` when pydantic
    said it (kept under ``_pydantic`` for the translation, never sent)."""
    error = {"field": field, "reason": reason}
    if pydantic is not None:
        error["_pydantic"] = pydantic
    return error


def pydantic_errors(exc, prefix: str = "") -> list[dict]:
    """A pydantic ``ValidationError`` as field errors: pydantic's English ``msg`` as the
    reason, its ``type`` and ``ctx`` (values as text) kept to say it in other languages."""
    return [
        field_error(
            prefix + ".".join(map(str, e["loc"])),
            e["msg"],
            pydantic={
                "type": e["type"],
                "ctx": {k: str(v) for k, v in (e.get("ctx") or {}).items()},
            },
        )
        for e in exc.errors()
    ]


def validated(model, value: object, detail: str):
    """``model.model_validate(value)`` (a pydantic model), or a 422 Problem naming every
    field that is wrong and why."""
    from pydantic import ValidationError

    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise Problem(detail, status=422, errors=pydantic_errors(exc)) from None


def catalogued(text: str) -> str:
    """``text`` itself: marks a sentence the message catalogue must hold though it reaches a
    Problem by another way than a literal argument (gettext's ``N_``)."""
    return text
