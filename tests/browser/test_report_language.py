"""A refused report on a Chinese phone page is said in Chinese: the server's ``message``,
never its English ``detail`` or ``reason``, and no other English sentence from the server."""

import re

import pytest

from tests.browser.conftest import sign_in_as, watched_context

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
# An English sentence: three or more English words in a row, a word being two or more
# letters between single spaces. Codes (grid_cells, GCJ-02), numbers, units and lists of
# codes ("from, to, limit") are not such a run.
ENGLISH_RUN = re.compile(r"(?<![\w./-])[A-Za-z]{2,}(?: [A-Za-z]{2,}){2,}(?![\w/-])")


def _english(page) -> list[str]:
    return ENGLISH_RUN.findall(page.evaluate("document.body.innerText"))


def _refused(watch, status: int) -> list[str]:
    """Console errors other than Chromium's own line for the refused request."""
    return [e for e in watch.errors if f"status of {status}" not in e]


def _shown(page, selector: str) -> str:
    page.wait_for_function(
        f"(() => {{ const e = document.querySelector({selector!r}); "
        "return e && !e.hidden && e.textContent.trim() !== ''; })()",
        timeout=15000,
    )
    return page.inner_text(selector)


def test_a_refused_report_is_said_in_chinese_on_the_phone(browser, server):
    with watched_context(browser, viewport=PHONE, is_mobile=True, has_touch=True) as (ctx, w):
        phone = ctx.new_page()
        sign_in_as(phone, server, "t_inspector", "inspector-password")
        phone.goto(server + "/report")
        phone.wait_for_selector("#report")
        assert _english(phone) == []

        # no place at all: the report is not complete
        phone.select_option("#category", index=1)
        phone.click("#submit")
        phone.wait_for_function(
            "document.querySelector('#report-status').className.includes('cw-bad')",
            timeout=15000,
        )
        status = phone.inner_text("#report-status")
        assert "上报内容不完整。" in status and "not complete" not in status
        assert _shown(phone, ".cw-field-error[data-field='lon']") == "必填"
        assert phone.inner_text(".cw-field-error[data-field='lat']") == "必填"
        assert _english(phone) == []

        # a place, but no category and too long a description: pydantic's words, said by
        # their type
        phone.select_option("#category", "")
        phone.fill("#lon", "117.2158")
        phone.fill("#lat", "28.2912")
        phone.evaluate("document.querySelector('#description').value = '描'.repeat(2001)")
        phone.click("#submit")
        phone.wait_for_function(
            "document.querySelector('#report-status').textContent.includes('要素内容有误')",
            timeout=15000,
        )
        assert _shown(phone, ".cw-field-error[data-field='category']") == "不能为空"
        assert _shown(phone, ".cw-field-error[data-field='description']") == "最多 2000 个字符"
        assert "String should" not in phone.evaluate("document.body.innerText")
        assert _english(phone) == []

        # a position that is no number says what it got
        phone.fill("#lon", "东经117度")
        phone.click("#submit")
        phone.wait_for_function(
            "document.querySelector(\"[data-field='lon']\").textContent.includes('应为数字')",
            timeout=15000,
        )
        assert "东经117度" in phone.inner_text(".cw-field-error[data-field='lon']")
        assert _english(phone) == []
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert w.outside == [] and _refused(w, 422) == []


def test_a_page_refused_to_a_unit_user_is_a_chinese_page(browser, server):
    with watched_context(browser, viewport=PHONE, is_mobile=True, has_touch=True) as (ctx, w):
        phone = ctx.new_page()
        sign_in_as(phone, server, "t_unit", "unit-password")
        resp = phone.goto(server + "/report")
        assert resp.status == 403
        text = phone.inner_text("#problem-message")
        assert text.startswith("上报问题需要以下角色之一：")
        assert _english(phone) == []
        assert w.outside == [] and _refused(w, 403) == []
