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
