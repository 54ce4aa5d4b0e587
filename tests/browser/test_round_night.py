"""The round at night: a dark theme that follows the phone's own setting until the user picks
one with the switch on the map, remembered on the device; stop numbers stay legible
(WCAG contrast of at least 4.5:1 for the number on its marker)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.browser.conftest import sign_in_as, watched_context
from tests.browser.test_round_phone import PHONE, _create

pytestmark = pytest.mark.browser


def _rgb(css: str) -> tuple[float, float, float]:
    r, g, b = (float(v) for v in re.findall(r"[\d.]+", css)[:3])
    return r, g, b


def _luminance(css: str) -> float:
    def channel(v: float) -> float:
        c = v / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in _rgb(css))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two CSS colours, as ``getComputedStyle`` gives them."""
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_contrast_is_wcag_s():
    assert round(contrast("rgb(0, 0, 0)", "rgb(255, 255, 255)"), 1) == 21.0
    assert round(contrast("rgb(183, 28, 28)", "rgb(255, 255, 255)"), 2) == 6.57


def _released(server, tokens) -> dict:
    """A night round, released an hour ago: its team sees the stops."""
    an_hour_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    return _create(
        server,
        tokens,
        window_start="20:00",
        window_end="23:00",
        release_at=an_hour_ago.isoformat(),
    )


def _colours(page) -> dict[str, str]:
    return page.evaluate(
        """() => {
            const css = (sel, prop) => getComputedStyle(document.querySelector(sel))[prop];
            return {
                theme: document.documentElement.dataset.theme,
                number: css(".cw-stop", "color"),
                marker: css(".cw-stop", "backgroundColor"),
                map: css(".folium-map", "backgroundColor"),
                sheet: css("#cw-sheet", "backgroundColor"),
                text: css("#cw-sheet", "color"),
                seq: css("#cw-sheet .cw-seq", "color"),
                bar: css(".cw-bar", "backgroundColor"),
                tiles: css(".leaflet-tile-pane", "filter"),
                button: document.querySelector("#cw-theme-toggle").textContent,
                pressed: document.querySelector("#cw-theme-toggle").getAttribute("aria-pressed"),
            };
        }"""
    )


def test_the_night_switch_darkens_the_page_and_keeps_the_numbers_legible(browser, server, tokens):
    plan = _released(server, tokens)
    with watched_context(browser, viewport=PHONE, color_scheme="light") as (ctx, watch):
        page = ctx.new_page()
        sign_in_as(page, server, "t_inspector", "inspector-password")
        page.goto(f"{server}/inspection-plans/{plan['id']}")
        page.wait_for_selector(".cw-stop", timeout=30000)
        day = _colours(page)
        assert day["theme"] == "light" and day["pressed"] == "false" and day["button"] == "夜间"
        assert contrast(day["number"], day["marker"]) >= 4.5, day
        assert day["tiles"] == "none"
        page.click("#cw-theme-toggle")
        night = _colours(page)
        assert night["theme"] == "dark" and night["pressed"] == "true" and night["button"] == "日间"
        assert contrast(night["number"], night["marker"]) >= 4.5, night
        assert contrast(night["marker"], night["map"]) >= 3, night  # the marker on the map
        assert _luminance(night["sheet"]) < 0.05 and _luminance(night["bar"]) < 0.05, night
        assert contrast(night["text"], night["sheet"]) >= 4.5, night
        assert contrast(night["seq"], night["sheet"]) >= 4.5, night
        assert "invert" in night["tiles"]  # the base map darkened
        # remembered on the device: the next visit is dark too
        page.reload()
        page.wait_for_selector(".cw-stop", timeout=30000)
        assert _colours(page)["theme"] == "dark"
        page.click("#cw-theme-toggle")
        page.reload()
        page.wait_for_selector(".cw-stop", timeout=30000)
        assert _colours(page)["theme"] == "light"
        assert watch.outside == [] and watch.errors == []


def test_a_phone_set_to_dark_opens_the_round_dark(browser, server, tokens):
    plan = _released(server, tokens)
    with watched_context(browser, viewport=PHONE, color_scheme="dark") as (ctx, watch):
        page = ctx.new_page()
        sign_in_as(page, server, "t_inspector", "inspector-password")
        page.goto(f"{server}/inspection-plans/{plan['id']}?lang=en")
        page.wait_for_selector(".cw-stop", timeout=30000)
        night = _colours(page)
        assert night["theme"] == "dark" and night["button"] == "Day", night
        assert contrast(night["number"], night["marker"]) >= 4.5, night
        # the user's choice wins over the phone's
        page.click("#cw-theme-toggle")
        page.reload()
        page.wait_for_selector(".cw-stop", timeout=30000)
        assert _colours(page)["theme"] == "light"
        assert watch.outside == [] and watch.errors == []
