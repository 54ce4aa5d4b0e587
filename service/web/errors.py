"""The one error shape rendered: every Problem, HTTP error and database outage becomes
``application/problem+json`` with its ``message`` in the request's language
(service/web/messages.py); pages get a redirect to the login page instead of a 401, and a
browser opening a page that cannot be shown gets the problem as a short page in the page's
language instead of JSON."""

from __future__ import annotations

from http import HTTPStatus

from flask import Flask, Response, json, redirect, render_template, request, url_for
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from service.errors import PROBLEM_JSON, RETRY_AFTER_S, Problem
from service.web import messages
from service.web.i18n import current_language, request_language, translator


def problem_response(
    status: int, detail: str, title: str | None = None, errors: list[dict] | None = None
) -> Response:
    if wants_page() and _navigating():
        return _problem_page(status, detail, errors or [])
    lang = request_language()
    body = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "message": messages.detail_message(detail, status, lang),
        "instance": request.path,
        "errors": messages.with_messages(errors or [], lang),
    }
    resp = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_JSON)
    if status == HTTPStatus.UNAUTHORIZED:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="chuangwen"'
    return resp


def wants_page() -> bool:
    """A browser asking for a page, not a program calling the API."""
    if request.path.startswith("/api") or request.headers.get("Authorization"):
        return False
    return request.accept_mimetypes.accept_html


def _navigating() -> bool:
    """A page opened in the browser (it names HTML among what it takes best), not a script's
    fetch (``*/*``, or JSON)."""
    accept = request.accept_mimetypes
    top = max((q for _, q in accept), default=0)
    return any(v in ("text/html", "application/xhtml+xml") and q == top for v, q in accept)


def _problem_page(status: int, detail: str, errors: list[dict]) -> Response:
    lang = current_language()
    try:
        html = render_template(
            "problem.html",
            t=translator(lang),
            lang=lang,
            status=status,
            message=messages.detail_message(detail, status, lang),
            errors=messages.with_messages(errors, lang),
        )
    except Exception:  # a page that cannot be made: the problem as it is
        return Response(detail, status=status, mimetype="text/plain")
    resp = Response(html, status=status, mimetype="text/html")
    resp.headers["Cache-Control"] = "no-store"
    return resp


def problem_text(value: str | dict) -> str:
    """For templates: a detail (a text) or a field error (a dict) in the page's language."""
    lang = current_language()
    if isinstance(value, dict):
        return messages.reason_message(value, lang)
    return messages.said(value, lang) or value


def init_app(app: Flask) -> None:
    app.jinja_env.globals["problem_text"] = problem_text

    @app.errorhandler(Problem)
    def _problem(exc: Problem) -> Response:
        if exc.status == HTTPStatus.UNAUTHORIZED and wants_page():
            return redirect(url_for("pages.login", next=request.full_path.rstrip("?")))
        return problem_response(exc.status, exc.detail, exc.title, exc.errors)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        status = exc.code or 500
        resp = problem_response(status, exc.description or HTTPStatus(status).phrase)
        for name, value in exc.get_headers(request.environ):  # Allow on a 405, for one
            if name.lower() != "content-type":
                resp.headers[name] = value
        return resp

    from service.web.inputs import check_request  # it raises Problem: imported once this exists

    app.before_request(check_request)  # NUL, bad JSON bodies: a 400, before any view

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def _database_away(exc: Exception) -> Response:
        # the database is restarting or unreachable: nothing was written, try again shortly
        app.logger.warning("database unavailable on %s %s: %s", request.method, request.path, exc)
        resp = problem_response(
            503, "The database is not answering; nothing was written. Try again shortly."
        )
        resp.headers["Retry-After"] = str(RETRY_AFTER_S)
        return resp

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return problem_response(500, "The server failed to handle the request; it was logged.")
