"""Problems in the request's language: the ``message`` beside every ``detail`` and ``reason``.

A Problem keeps its English ``detail`` and each field error its English ``reason``: programs
and tests read those, and they stay as the code wrote them. The answer gains ``message`` and
``errors[].message``, the same said in the request's language (English: the same text).

The catalogue, data/i18n/problems.zh.json, is keyed by the English *template* as written in
the code, gettext style: an f-string's ``{expr}`` becomes ``{0}``, ``{1}`` … in order, so
``f"a zoom from 0 to {basemap.MAX_ZOOM}"`` is the key ``"a zoom from 0 to {0}"`` and its
Chinese ``"缩放级别应为 0 到 {0}"``. tests/unit/test_messages.py derives every template from
the code's syntax tree and fails on one without Chinese, and on Chinese no code uses.

Why the rendered text is matched back to its template rather than carried beside it: some
250 call sites build their sentence with an f-string, in rooms that know nothing of
languages; matching keeps every one of them as it is, and a new sentence needs only its
entry (the test names it). How: a text found verbatim is translated; otherwise the templates
with placeholders, compiled once to anchored regular expressions (``{0}`` → ``(.*?)``, the
rest literal) and tried with the most literal text first, give the arguments, and those go
into the Chinese (each translated in turn when it is itself a catalogued text: a GEOS
reason, the json module's words, a reason inside a detail). What no template matches, a
library's own words (GDAL, PROJ, pyosmium) above all, stays as it is; a detail no template
matches (werkzeug's, for one) is said by its HTTP status.

pydantic's errors are said by their ``type`` and ``ctx`` (kept on the field error by
``service.errors.pydantic_errors``), not by their text: ``pydantic:string_too_long`` is
``"最多 {max_length} 个字符"``; ``pydantic:string_too_short:min_length=1``, a more particular
entry, is tried first. A ``value_error`` is the validator's own sentence, said as any other.
"""

from __future__ import annotations

import json
import re
from functools import cache

from service.errors import catalogued
from service.web.i18n import CATALOGUES, DEFAULT_LANGUAGE

CATALOGUE = CATALOGUES / "problems.zh.json"
PYDANTIC = "pydantic:"
_PLACEHOLDER = re.compile(r"\{(\d+)\}")
# the lazy groups of a template with several values cost a power of the text's length to
# match: a text as long as a client can make one (a query parameter's name, a file name) is
# not matched at all
MATCHED_AT_MOST = 300
_NESTING = 3  # how deep an argument's own translation may go

# a detail no template matches (werkzeug's descriptions, flask-wtf's) is said by its status
STATUS_MESSAGES = {
    400: catalogued("The request is not understood."),
    401: catalogued("Sign in first."),
    403: catalogued("You may not do this."),
    404: catalogued("Nothing is at this address."),
    405: catalogued("This address does not take this method."),
    409: catalogued("This conflicts with what is stored."),
    412: catalogued("The record has changed since it was read."),
    413: catalogued("What was sent is too large."),
    414: catalogued("The address is too long."),
    415: catalogued("This kind of content is not taken here."),
    422: catalogued("What was sent is not valid."),
    428: catalogued("The request needs a condition (If-Match)."),
    429: catalogued("Too many requests; try again shortly."),
    431: catalogued("The request's headers are too large."),
    500: catalogued("The server failed to handle the request; it was logged."),
    503: catalogued("The service is not available; try again shortly."),
}
# flask-wtf's reasons for refusing a form (a 400 on every API call from a page, and the
# login form's own error)
CSRF_REASONS = (
    catalogued("The CSRF token is missing."),
    catalogued("The CSRF session token is missing."),
    catalogued("The CSRF token has expired."),
    catalogued("The CSRF token is invalid."),
    catalogued("The CSRF tokens do not match."),
    catalogued("The referrer header is missing."),
    catalogued("The referrer does not match the host."),
)


@cache
def chinese() -> dict[str, str]:
    """English template → Chinese."""
    return json.loads(CATALOGUE.read_text(encoding="utf-8"))


@cache
def _patterns() -> tuple[tuple[re.Pattern, str], ...]:
    """Every template with a placeholder as an anchored pattern with its Chinese, the ones
    with the most literal text first (the most particular wins)."""
    found = []
    for template, zh in chinese().items():
        if template.startswith(PYDANTIC) or not _PLACEHOLDER.search(template):
            continue
        parts = re.split(r"(\{\d+\})", template.replace("{{", "\0").replace("}}", "\1"))
        literal = "".join(p for p in parts if not _PLACEHOLDER.fullmatch(p))
        regex = (
            "".join("(.*?)" if _PLACEHOLDER.fullmatch(p) else re.escape(p) for p in parts)
            .replace("\0", r"\{")
            .replace("\1", r"\}")
        )
        found.append((len(literal), re.compile(regex, re.DOTALL), zh))
    found.sort(key=lambda f: -f[0])
    return tuple((pattern, zh) for _, pattern, zh in found)


def _chinese(text: str, depth: int = 0) -> str | None:
    """``text`` in Chinese, or None when the catalogue does not know it."""
    table = chinese()
    if text in table and not _PLACEHOLDER.search(text):
        return table[text].replace("{{", "{").replace("}}", "}")
    if depth >= _NESTING or len(text) > MATCHED_AT_MOST:
        return None  # a text longer than any sentence with its values stays as it is
    for pattern, zh in _patterns():
        m = pattern.fullmatch(text)
        if m:
            args = [_chinese(a, depth + 1) or a for a in m.groups()]
            return zh.format(*args)
    return None


def said(text: str, lang: str) -> str | None:
    """A catalogued sentence (a detail, a reason) in ``lang``; None when it is not known."""
    if lang != DEFAULT_LANGUAGE:
        return text
    return _chinese(text)


def detail_message(detail: str, status: int, lang: str) -> str:
    """A problem's ``detail`` in ``lang``: the catalogue's, else its status's sentence."""
    if lang != DEFAULT_LANGUAGE:
        return detail
    return (
        _chinese(detail)
        or _chinese(STATUS_MESSAGES.get(status, ""))
        or _chinese(STATUS_MESSAGES[400 if status < 500 else 500])
    )


def reason_message(error: dict, lang: str) -> str:
    """A field error's ``reason`` in ``lang``; a library's own words stay as they are."""
    reason = str(error.get("reason", ""))
    told = error.get("_pydantic")
    if told:
        return _pydantic(told["type"], told.get("ctx") or {}, lang) or reason
    return said(reason, lang) or reason


def _pydantic(kind: str, ctx: dict, lang: str) -> str | None:
    if kind == "value_error":  # the validator's own sentence (pydantic prefixes "Value error, ")
        words = ctx.get("error", "")
        return said(words, lang) or words
    if lang != DEFAULT_LANGUAGE:
        return None
    table = chinese()
    keys = [f"{PYDANTIC}{kind}:{k}={v}" for k, v in ctx.items()] + [f"{PYDANTIC}{kind}"]
    zh = next((table[k] for k in keys if k in table), None)
    if zh is None:
        return table.get(f"{PYDANTIC}*")
    values = dict(ctx)
    if "expected" in values:  # "'open', 'closed' or 'resolved'" → "'open'、'closed'、'resolved'"
        values["expected"] = re.sub(r", | or ", "、", values["expected"])
    return zh.format_map(_Kept(values))


class _Kept(dict):
    """``format_map`` values; a placeholder pydantic did not fill is kept as written."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def with_messages(errors: list[dict], lang: str) -> list[dict]:
    """Field errors as sent: their own keys (not the ``_`` ones) and ``message``."""
    return [
        {k: v for k, v in e.items() if not k.startswith("_")} | {"message": reason_message(e, lang)}
        for e in errors
    ]
