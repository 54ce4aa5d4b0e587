"""A real Chromium (the server fixture is in tests/conftest.py)."""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest

CHROMIUM = os.environ.get("CHUANGWEN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _polled(pg):
    """``wait_for_function`` for pages under a Content-Security-Policy: Playwright's own
    evaluates the expression with the page's ``eval``, which the pages' CSP forbids; this
    asks ``evaluate`` (through the DevTools protocol, outside the page's CSP) until true."""

    from playwright.sync_api import Error

    def wait_for_function(expression, *, arg=None, timeout=30000, polling=100):
        deadline = time.monotonic() + timeout / 1000
        while True:
            try:
                value = pg.evaluate(expression, arg)
            except Error as e:  # a navigation replaced the page meanwhile: ask again
                if "context was destroyed" not in str(e):
                    raise
                value = None
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"{expression!r} still false after {timeout} ms")
            pg.wait_for_timeout(polling)

    return wait_for_function


class Watch:
    """Every request leaving 127.0.0.1 is aborted and kept; console errors are kept."""

    def __init__(self):
        self.outside: list[str] = []
        self.errors: list[str] = []


@contextmanager
def watched_context(browser, **options):
    """A browser context (desktop-sized unless told) whose outside requests are aborted and
    kept, with a ``Watch`` of them and of console errors of every page it opens."""
    settings = {"viewport": {"width": 1280, "height": 860}, "locale": "zh-CN", **options}
    context = browser.new_context(**settings)
    watch = Watch()

    def route(r):
        url = r.request.url
        if url.startswith(("data:", "blob:")) or urlsplit(url).hostname == "127.0.0.1":
            r.continue_()
        else:
            watch.outside.append(url)
            r.abort()

    def watch_page(pg):
        pg.on("console", lambda m: watch.errors.append(m.text) if m.type == "error" else None)
        pg.on("pageerror", lambda e: watch.errors.append(str(e)))
        pg.watch = watch
        pg.wait_for_function = _polled(pg)

    context.route("**/*", route)
    context.on("page", watch_page)
    try:
        yield context, watch
    finally:
        context.close()


@pytest.fixture()
def page(browser):
    with watched_context(browser) as (context, _):
        yield context.new_page()


def sign_in_as(page, server, name, password):
    """Sign in on the login page of ``server``; the page lands where the role lands."""
    page.goto(server + "/login")
    page.fill("#username", name)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
