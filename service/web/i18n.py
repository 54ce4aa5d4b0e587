"""Message catalogues (data/i18n/*.json): Chinese by default, English on request."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path

from flask import request

CATALOGUES = Path(__file__).resolve().parents[2] / "data" / "i18n"
LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
COOKIE = "lang"


@cache
def catalogue(lang: str) -> dict[str, str]:
    return json.loads((CATALOGUES / f"{lang}.json").read_text(encoding="utf-8"))


def translator(lang: str) -> Callable[..., str]:
    """``t(key, **values)``: the message in ``lang``, falling back to Chinese, then the key."""
    messages, fallback = catalogue(lang), catalogue(DEFAULT_LANGUAGE)

    def t(key: str, **values: object) -> str:
        message = messages.get(key) or fallback.get(key) or key
        return message.format(**values) if values else message

    return t


def current_language() -> str:
    """``?lang=`` wins, then the cookie it sets, then Chinese."""
    lang = request.args.get("lang") or request.cookies.get(COOKIE) or DEFAULT_LANGUAGE
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def request_language() -> str:
    """The language of an answer to a program (a problem's ``message``): ``?lang=``, then
    the cookie, then ``Accept-Language``, then Chinese. Pages keep ``current_language``: a
    browser's own language does not turn the campaign's pages English; their scripts send
    the page's language as ``Accept-Language``."""
    for lang in (request.args.get("lang"), request.cookies.get(COOKIE)):
        if lang in LANGUAGES:
            return lang
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE
