"""An admin sets the city up in the browser: the checklist, a checked then imported file, a
file with bad rows, the zone check; users and their tokens; the audit log. A unit's user
is refused the pages."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import pytest
from sqlalchemy import text

from service.accounts.users import authenticate
from service.store.db import Actor, set_actor
from service.web.admin import ZONE_PROBLEMS
from tests.browser.conftest import watched_context
from tests.conftest import EVIL_TEXT, bearer

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
POINT_LON, POINT_LAT = 117.2151, 28.2903  # inside the demo city, near its centre


def _unexpected(errors: list[str], *statuses: int) -> list[str]:
    """Console errors other than Chromium's own line for a response with one of ``statuses``."""
    return [e for e in errors if not any(f"status of {s}" in e for s in statuses)]


def _sign_in(page, server, path: str, name: str, password: str):
    page.goto(server + path)
    assert "/login" in page.url
    page.fill("#username", name)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("button[type=submit]")


def _count(page, item: str) -> int:
    return int(page.inner_text(f"#checklist tr[data-item='{item}'] .cw-count"))


def _fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def _forget(engine, sql: str, **params) -> None:
    with engine.begin() as conn:
        set_actor(conn, Actor(None, "test"))
        conn.execute(text(sql), params)


def _me(server: str, token: str) -> int:
    req = urllib.request.Request(server + "/api/me", headers=bearer(token))
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as e:
        return e.code


def test_an_admin_checks_and_imports_a_file_and_runs_the_zone_check(
    browser, server, engine, demo, tokens, tmp_path
):
    code = f"TADM{time.monotonic_ns() % 10**8}"
    good = tmp_path / "points.csv"
    good.write_text(
        f"code,name,category,lon,lat\n{code},管理员导入的学校,school,{POINT_LON},{POINT_LAT}\n",
        encoding="utf-8",
    )
    bad = tmp_path / "bad_points.csv"
    bad.write_text(
        "code,name,category,lon,lat\n"
        f"{code}B,好的一行,school,{POINT_LON},{POINT_LAT}\n"
        f"{code}C,类别不对,no_such_category,{POINT_LON},{POINT_LAT}\n"
        f"{code}D,在城外,school,100.0,20.0\n",
        encoding="utf-8",
    )
    with engine.connect() as conn:
        points = conn.execute(
            text("SELECT count(*) FROM assessment_point WHERE city_id = :c"), {"c": demo[0]}
        ).scalar()
    try:
        with watched_context(browser) as (ctx, watch):
            page = ctx.new_page()
            _sign_in(page, server, "/admin/city", "t_admin", "admin-password")
            assert page.url.endswith("/admin/city")
            assert _count(page, "assessment_points") == points
            assert _count(page, "boundary") == 1 and _count(page, "units") > 0
            # every importable collection has its upload box; templates where there are
            assert page.locator("form.cw-import").count() >= 5
            box = page.locator("#import-assessment_points")
            assert (
                box.locator("a.cw-template")
                .get_attribute("href")
                .endswith("/api/templates/assessment_points.xlsx")
            )
            assert page.locator("#import-zones a.cw-template").count() == 0

            # the good file: checked first (nothing written), then imported
            box.locator("input[type=file]").set_input_files(str(good))
            assert box.locator(".cw-import-go").is_disabled()
            box.locator(".cw-dry-run").click()
            box.locator(".cw-report-dry").wait_for(timeout=15000)
            assert "1" in box.locator(".cw-report-dry").inner_text()
            assert _count(page, "assessment_points") == points
            box.locator(".cw-import-go").click()
            box.locator(".cw-report-ok").wait_for(timeout=15000)
            page.wait_for_function(
                "(n) => document.querySelector(\"#checklist tr[data-item='assessment_points'] "
                '.cw-count").textContent === String(n)',
                arg=points + 1,
            )
            with engine.connect() as conn:
                row = conn.execute(
                    text(
                        "SELECT name, category_code, ST_X(geom), ST_Y(geom) FROM assessment_point "
                        "WHERE city_id = :c AND code = :code"
                    ),
                    {"c": demo[0], "code": code},
                ).one()
            assert row[0] == "管理员导入的学校" and row[1] == "school"
            assert abs(row[2] - POINT_LON) < 1e-6 and abs(row[3] - POINT_LAT) < 1e-6

            # a file with bad rows: the rows' errors, nothing imported
            box.locator("input[type=file]").set_input_files(str(bad))
            box.locator(".cw-dry-run").click()
            box.locator(".cw-problem").wait_for(timeout=15000)
            errors = box.locator(".cw-errors li").all_inner_texts()
            assert any(e.startswith("第 2 行: category") for e in errors), errors
            assert any(e.startswith("第 3 行: geometry") for e in errors), errors
            assert not any(e.startswith("第 1 行") for e in errors), errors
            assert box.locator(".cw-import-go").is_disabled()
            assert _count(page, "assessment_points") == points + 1

            # the zone check's counts
            page.click("#zone-check-run")
            page.locator("#zone-check-result").wait_for(state="visible", timeout=60000)
            shown = page.locator("#zone-check-result tr[data-problem]").all_inner_texts()
            assert len(shown) == len(ZONE_PROBLEMS), shown
            assert all(s.split()[-1].isdigit() for s in shown), shown
            assert page.inner_text("#zone-check-status")

            # a phone's width: nothing wider than the screen
            page.set_viewport_size(PHONE)
            _fits(page, PHONE["width"])
            assert watch.outside == [] and _unexpected(watch.errors, 422) == []
        with engine.connect() as conn:
            assert not conn.execute(
                text("SELECT 1 FROM assessment_point WHERE city_id = :c AND code LIKE :p"),
                {"c": demo[0], "p": f"{code}_"},
            ).first()
    finally:
        _forget(
            engine,
            "DELETE FROM assessment_point WHERE city_id = :c AND code LIKE :p",
            c=demo[0],
            p=f"{code}%",
        )


def test_an_admin_manages_a_user_and_finds_it_in_the_audit_log(browser, server, engine, demo):
    name = f"t_made_{time.monotonic_ns() % 10**8}"
    try:
        with watched_context(browser) as (ctx, watch):
            page = ctx.new_page()
            _sign_in(page, server, "/", "t_admin", "admin-password")
            # the map's title bar links the admin's pages
            page.wait_for_selector(".cw-bar nav a[href='/admin/users']")
            assert page.locator(".cw-bar nav a[href='/admin/city']").count() == 1
            assert page.locator(".cw-bar nav a[href='/admin/audit']").count() == 1
            page.click(".cw-bar nav a[href='/admin/users']")
            page.wait_for_selector("#users tbody tr[data-user='t_admin']")

            # create a unit's user, its unit from the pick list
            page.fill("#new-name", name)
            page.fill("#new-display-name", EVIL_TEXT)  # shown as text, never run
            page.select_option("#new-role", "unit")
            unit = page.locator("#new-unit option").nth(1).get_attribute("value")
            page.select_option("#new-unit", unit)
            page.fill("#new-password", "first-password")
            page.click("#new-user button[type=submit]")
            row = page.locator(f"#users tbody tr[data-user='{name}']")
            row.wait_for()
            assert unit in row.inner_text() and EVIL_TEXT in row.inner_text()
            page.locator("#user-detail:not([hidden])").wait_for()
            assert name in page.inner_text("#user-detail-name")
            assert EVIL_TEXT in page.inner_text("#user-detail-name")
            with engine.connect() as conn:
                user_id, role = conn.execute(
                    text("SELECT id, role FROM app_user WHERE name = :n"), {"n": name}
                ).one()
            assert role == "unit"

            # disable, enable
            page.click("#user-toggle")
            page.wait_for_function(
                f"document.querySelector(\"#users tr[data-user='{name}']\")"
                ".classList.contains('cw-disabled')"
            )
            assert "已停用" in row.locator(".cw-active").inner_text()
            page.click("#user-toggle")
            page.wait_for_function(
                f"!document.querySelector(\"#users tr[data-user='{name}']\")"
                ".classList.contains('cw-disabled')"
            )

            # a new password
            page.fill("#reset-password-value", "second-password")
            page.click("#reset-password button[type=submit]")
            page.wait_for_function(
                "document.querySelector('#user-status').textContent.includes('新密码')"
            )
            with engine.connect() as conn:
                assert authenticate(conn, name, "second-password") is not None

            # a token, shown once, that works until it is revoked
            page.fill("#token-label", "导入脚本")
            page.click("#issue-token button[type=submit]")
            page.locator("#new-token:not([hidden])").wait_for()
            token = page.inner_text("#new-token-value").strip()
            assert len(token) > 20 and _me(server, token) == 200
            revoke = page.locator("#tokens li .cw-revoke")
            revoke.wait_for()
            assert "导入脚本" in page.inner_text("#tokens")
            revoke.click()
            page.wait_for_function("document.querySelectorAll('#tokens .cw-revoke').length === 0")
            assert "已撤销" in page.inner_text("#tokens")
            assert _me(server, token) == 401

            # the audit log, filtered by table: the creation by t_admin
            page.click(".cw-bar nav a[href='/admin/audit']")
            page.select_option("#audit-table", "app_user")
            with page.expect_navigation():
                page.click("#audit-filter button[type=submit]")
            assert "table=app_user" in page.url
            cells = [
                r.locator("td").all_inner_texts() for r in page.locator("#audit tbody tr").all()
            ]
            assert all(c[3] == "app_user" for c in cells)
            made = [c for c in cells if c[2] == "新增" and c[4] == str(user_id)]
            assert len(made) == 1 and made[0][1].startswith("t_admin"), cells[:5]
            assert any(c[2] == "修改" and c[4] == str(user_id) for c in cells)  # disabled

            # a bad day is shown, not a failure
            page.goto(server + "/admin/audit?day=2026-02-30")
            assert "day" in page.inner_text(".cw-problem")
            page.goto(server + "/admin/users?lang=en")
            assert page.inner_text("h2") == "The city's users"
            page.set_viewport_size(PHONE)
            page.wait_for_selector(f"#users tbody tr[data-user='{name}']")
            _fits(page, PHONE["width"])
            assert page.evaluate("window.__xss") is None
            page.goto(server + "/admin/audit?table=app_user")
            _fits(page, PHONE["width"])
            assert watch.outside == [] and watch.errors == []
    finally:
        _forget(engine, "DELETE FROM app_user WHERE name = :n", n=name)


def test_a_unit_user_is_refused_the_admin_pages(browser, server):
    with watched_context(browser) as (ctx, watch):
        page = ctx.new_page()
        _sign_in(page, server, "/", "t_unit", "unit-password")
        for path in ("/admin/city", "/admin/users", "/admin/audit"):
            assert page.goto(server + path).status == 403
        page.goto(server + "/")
        page.wait_for_selector(".cw-bar nav")
        assert page.locator(".cw-bar nav a[href^='/admin/']").count() == 0
        assert watch.outside == [] and _unexpected(watch.errors, 403) == []


def _upload(page, collection: str, path) -> None:
    """Check a file in a collection's upload box, then import it."""
    box = page.locator(f"#import-{collection}")
    box.locator("input[type=file]").set_input_files(str(path))
    box.locator(".cw-dry-run").click()
    box.locator(".cw-report-dry").wait_for(timeout=15000)
    box.locator(".cw-import-go").click()
    box.locator(".cw-report-ok").wait_for(timeout=15000)


def test_an_admin_brings_in_units_and_persons_from_sheets_with_chinese_headers(
    browser, server, engine, demo, tmp_path
):
    import pandas as pd

    tag = f"TU{time.monotonic_ns() % 10**7}"
    units = tmp_path / "units.xlsx"
    pd.DataFrame(
        {
            "单位编码": [f"{tag}-C", f"{tag}-S"],  # the child first: parents are found in the file
            "单位名称": ["测试社区居委会", "测试街道办事处"],
            "类型": ["社区", "街道"],
            "上级单位编码": [f"{tag}-S", None],
        }
    ).to_excel(units, index=False)
    persons = tmp_path / "persons.xlsx"
    pd.DataFrame({"姓名": ["测试网格员"], "单位编码": [f"{tag}-C"], "职责": ["网格员"]}).to_excel(
        persons, index=False
    )
    try:
        with watched_context(browser) as (ctx, watch):
            page = ctx.new_page()
            _sign_in(page, server, "/admin/city", "t_admin", "admin-password")
            before = {k: _count(page, k) for k in ("units", "persons")}
            _upload(page, "units", units)
            page.wait_for_function(
                "(n) => document.querySelector(\"#checklist tr[data-item='units'] "
                '.cw-count").textContent === String(n)',
                arg=before["units"] + 2,
            )
            _upload(page, "persons", persons)
            page.wait_for_function(
                "(n) => document.querySelector(\"#checklist tr[data-item='persons'] "
                '.cw-count").textContent === String(n)',
                arg=before["persons"] + 1,
            )
            assert watch.outside == [] and watch.errors == []
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT u.code, u.kind, p.code FROM unit u LEFT JOIN unit p ON p.city_id = "
                    "u.city_id AND p.id = u.parent_id WHERE u.city_id = :c AND u.code LIKE :t "
                    "ORDER BY u.code"
                ),
                {"c": demo[0], "t": f"{tag}%"},
            ).all()
            title = conn.execute(
                text("SELECT title FROM person WHERE city_id = :c AND name = '测试网格员'"),
                {"c": demo[0]},
            ).scalar()
        assert [tuple(r) for r in rows] == [
            (f"{tag}-C", "territorial", f"{tag}-S"),
            (f"{tag}-S", "territorial", None),
        ]
        assert title == "网格员"
    finally:
        _forget(engine, "DELETE FROM person WHERE city_id = :c AND name = '测试网格员'", c=demo[0])
        _forget(
            engine, "DELETE FROM unit WHERE city_id = :c AND code = :k", c=demo[0], k=f"{tag}-C"
        )
        _forget(
            engine, "DELETE FROM unit WHERE city_id = :c AND code = :k", c=demo[0], k=f"{tag}-S"
        )
