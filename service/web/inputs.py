"""What a request sends, checked once for every route before any of it reaches a view.

PostgreSQL refuses NUL in text (and ``\\u0000`` in jsonb), a lone surrogate cannot be encoded
to UTF-8, Python's JSON parser recurses once per level of nesting, and ``str.isdigit()``
takes ``²``: each once turned a bad request into a 500. :func:`check_request` runs before
every view (``errors.init_app`` registers it) and refuses NUL in query parameters, path
values and form fields, and any JSON body that is not JSON, nests deeper than
``MAX_JSON_DEPTH`` or holds NUL or a lone surrogate, as a 400 naming the field. Views read the
body with :func:`json_body` (parsed once) and whole numbers with :func:`whole_number`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from flask import g, request

from service.errors import Problem, catalogued, field_error
from service.layers.features.params import BIGINT_MAX, whole_number  # noqa: F401

MAX_JSON_DEPTH = 32  # a GeoJSON feature needs 6; a plan or a catalogue row, 3
JSON_TYPES = ("application/json", "application/geo+json", "application/merge-patch+json")
_UNSAFE = re.compile("[\x00\ud800-\udfff]")  # NUL, and halves of a UTF-16 pair
_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
TEXT_REFUSED = "Text cannot hold NUL characters or lone surrogates; nothing was done."
# what Python's json module says is wrong (the start of a JSONDecodeError), translated as such
JSON_SAYS = (
    catalogued("Expecting value"),
    catalogued("Expecting property name enclosed in double quotes"),
    catalogued("Expecting ':' delimiter"),
    catalogued("Expecting ',' delimiter"),
    catalogued("Extra data"),
    catalogued("Unterminated string starting at"),
    catalogued("Invalid control character at"),
    catalogued("Invalid \\escape"),
    catalogued("Invalid \\uXXXX escape"),
)


def check_request() -> None:
    """Refuse NUL in query parameters, path values and form fields, and a bad JSON body."""
    if request.routing_exception is not None:
        return  # a 404 or 405 says more
    errors = _text_errors(request.args, catalogued("query parameter"))
    errors += _text_errors(request.view_args or {}, catalogued("path value"))
    if request.method in _BODY_METHODS:
        errors += _text_errors(request.form, catalogued("form field"))
        if None in request.form or None in request.files:
            raise Problem(
                "A part of the form has no name.",
                status=400,
                errors=[field_error("form", "every part needs Content-Disposition: name")],
            )
    if errors:
        raise Problem(TEXT_REFUSED, status=400, errors=errors)
    if request.method in _BODY_METHODS and request.is_json and request.get_data(cache=True):
        g.json_body = _parse(request.get_data(cache=True))


def json_body() -> object:
    """The request's JSON body: 415 unless sent as JSON, 400 when it is not JSON or nests too
    deep; its strings and keys hold no NUL and no lone surrogate."""
    if request.mimetype not in JSON_TYPES:
        raise Problem(
            "Send the body as application/json.",
            status=415,
            errors=[field_error("Content-Type", f"got {request.mimetype or 'none'}")],
        )
    if "json_body" not in g:
        g.json_body = _parse(request.get_data(cache=True))
    return g.json_body


def _text_errors(values: Mapping, what: str) -> list[dict]:
    items = values.items(multi=True) if hasattr(values, "getlist") else values.items()
    errors = []
    for key, value in items:
        name = key if isinstance(key, str) else ""  # a nameless form part: refused after
        if "\x00" in name:
            errors.append(field_error(_shown(name), f"the {what}'s name contains NUL"))
        elif isinstance(value, str) and "\x00" in value:
            errors.append(field_error(_shown(name), f"the {what} contains NUL"))
    return errors


def _parse(raw: bytes) -> object:
    try:
        value = json.loads(raw)
    except RecursionError:
        raise _too_deep() from None
    except json.JSONDecodeError as exc:  # str(exc) as its parts: exc.msg is said in Chinese
        raise Problem(
            "The body is not JSON.",
            status=400,
            errors=[
                field_error(
                    "body", f"{exc.msg}: line {exc.lineno} column {exc.colno} (char {exc.pos})"
                )
            ],
        ) from None
    except UnicodeDecodeError as exc:
        raise Problem(
            "The body is not JSON.",
            status=400,
            errors=[field_error("body", f"not Unicode text: byte {exc.start} cannot be read")],
        ) from None
    except ValueError:  # the one other: a number of more digits than int() reads
        raise Problem(
            "The body is not JSON.",
            status=400,
            errors=[field_error("body", "holds a number with too many digits")],
        ) from None
    errors = _json_errors(value)
    if errors:
        raise Problem(TEXT_REFUSED, status=400, errors=errors)
    return value


def _too_deep() -> Problem:
    return Problem(
        f"The body nests deeper than {MAX_JSON_DEPTH} levels.",
        status=400,
        errors=[field_error("body", f"JSON nested deeper than {MAX_JSON_DEPTH} levels")],
    )


def _json_errors(value: object) -> list[dict]:
    """NUL and lone surrogates in keys and strings, by field (``properties.name``); walked
    without recursion, and refused past ``MAX_JSON_DEPTH``."""
    errors = []
    stack: list[tuple[object, tuple, int]] = [(value, (), 0)]
    while stack:
        node, path, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth >= MAX_JSON_DEPTH:
                raise _too_deep()
            pairs = node.items() if isinstance(node, dict) else enumerate(node)
            for key, child in pairs:
                if isinstance(key, str) and _UNSAFE.search(key):
                    errors.append(
                        field_error(
                            _field((*path, key)),
                            "the name contains NUL"
                            if "\x00" in key
                            else "the name is not valid Unicode (a lone UTF-16 surrogate)",
                        )
                    )
                if isinstance(child, dict | list | str):  # numbers need no look
                    stack.append((child, (*path, key), depth + 1))
        elif isinstance(node, str) and _UNSAFE.search(node):
            errors.append(
                field_error(
                    _field(path) or "body",
                    "the text contains NUL"
                    if "\x00" in node
                    else "the text is not valid Unicode (a lone UTF-16 surrogate)",
                )
            )
    return errors


def _field(path: tuple) -> str:
    return ".".join(_shown(str(p)) for p in path)


def _shown(name: str) -> str:
    """A name as it can be written back in an answer: NUL and surrogates as \\uXXXX."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", name)


def form_number(errors: list, name: str, raw: str | None, required: bool) -> float | None:
    """A form field as a finite number; None when empty (with ``missing`` when required)
    or not a number, what is wrong added to ``errors``."""
    if raw is None or raw.strip() == "":
        if required:
            errors.append(field_error(name, "missing"))
        return None
    try:
        value = float(raw)
    except ValueError:
        errors.append(field_error(name, f"should be a number, got {raw!r}"))
        return None
    if value != value or value in (float("inf"), float("-inf")):
        errors.append(field_error(name, "should be a finite number"))
        return None
    return value
