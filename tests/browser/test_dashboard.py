"""The leaders' dashboard in a browser on the demo city: the cards, the trend chart drawn by
the vendored Chart.js, the heat map over the city's own base map, last week's ranking, and a
drill-down from the district to a unit's cases and back. No request leaves the server; no
console error."""

from __future__ import annotations

import pytest

from tests.browser.conftest import sign_in_as, watched_context

pytestmark = pytest.mark.browser


def _level(page, level: str) -> None:
    page.wait_for_function(
        f"() => document.getElementById('cw-dashboard').dataset.level === '{level}'"
    )


def _deeper(page, level: str) -> None:
    """Click the row with the most cases and wait for ``level``."""
    rows = page.locator("#dash-drill tbody tr")
    counts = [int(rows.nth(i).locator("td").nth(1).inner_text()) for i in range(rows.count())]
    rows.nth(counts.index(max(counts))).locator("a").click()
    _level(page, level)


def test_a_leader_reads_the_dashboard_and_drills_down(browser, server):
    with watched_context(browser) as (ctx, watch):
        page = ctx.new_page()
        sign_in_as(page, server, "t_leader", "leader-password")
        page.goto(f"{server}/dashboard")
        page.wait_for_function("() => document.querySelectorAll('.cw-card').length === 6")
        assert page.locator(".cw-card[data-figure=received] .cw-card-value").inner_text().isdigit()
        page.wait_for_function("() => document.getElementById('dash-trend').dataset.drawn === '12'")
        page.wait_for_function(
            "() => Number(document.getElementById('dash-map').dataset.squares) > 0"
        )
        assert page.locator("#dash-map canvas.leaflet-heatmap-layer").count() == 1
        page.wait_for_function(
            "() => document.querySelectorAll('#dash-map img.leaflet-tile-loaded').length > 0"
        )
        assert page.locator("#dash-ranking tbody tr").count() >= 2
        assert "流动黄旗" in page.inner_text("#dash-flag")
        _level(page, "street")
        _deeper(page, "community")
        _deeper(page, "unit")
        _deeper(page, "case")
        assert page.locator("#dash-drill tbody tr").count() >= 1
        assert page.locator("#dash-crumbs a").count() == 3  # district › street › community
        page.locator("#dash-crumbs a").first.click()
        _level(page, "street")
        assert watch.outside == [] and watch.errors == []
