"""Problems say what is wrong twice: ``detail``/``reason`` in English for programs, and
``message`` in the request's language (Chinese unless English is asked for)."""

import re

import pytest

from tests.conftest import bearer

CJK = re.compile("[\u4e00-\u9fff]")
EN = {"Accept-Language": "en-US,en;q=0.9"}
ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}


def _problem(resp, status: int) -> dict:
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json()
    assert body["message"] and all(e["message"] for e in body["errors"])
    return body


def _bad_search(client, tokens, headers):
    return client.get(
        "/api/search?q=x&colour=red", headers={**bearer(tokens["planner"][1]), **headers}
    )


@pytest.mark.parametrize("headers", [{}, ZH])
def test_a_400_is_said_in_chinese_by_default(client, tokens, headers):
    body = _problem(_bad_search(client, tokens, headers), 400)
    assert body["detail"] == "Some query parameters are not understood."
    assert body["message"] == "部分查询参数无法识别。"
    (error,) = body["errors"]
    assert error["field"] == "colour" and error["reason"] == "unknown parameter; takes q, limit"
    assert error["message"] == "未知参数；可用参数：q, limit"


def test_a_400_in_english_on_request(client, tokens):
    body = _problem(_bad_search(client, tokens, EN), 400)
    assert body["message"] == body["detail"] == "Some query parameters are not understood."
    assert body["errors"][0]["message"] == body["errors"][0]["reason"]


def test_the_lang_cookie_and_parameter_win_over_accept_language(client, tokens):
    client.set_cookie("lang", "en")
    body = _problem(_bad_search(client, tokens, ZH), 400)
    assert body["message"] == body["detail"]
    client.delete_cookie("lang")
    resp = client.get(
        "/api/inspection-plans/987654321?lang=zh",
        headers={**bearer(tokens["leader"][1]), **EN},
    )
    assert _problem(resp, 404)["message"] == "没有编号为 987654321 的巡查计划。"


def test_a_404_with_its_value_in_the_chinese(client, tokens):
    url = "/api/inspection-plans/987654321"
    zh = _problem(client.get(url, headers=bearer(tokens["leader"][1])), 404)
    assert zh["detail"] == "No inspection plan 987654321."
    assert zh["message"] == "没有编号为 987654321 的巡查计划。"
    en = _problem(client.get(url + "?lang=en", headers=bearer(tokens["leader"][1])), 404)
    assert en["message"] == en["detail"] == "No inspection plan 987654321."


def test_werkzeug_s_404_is_said_by_its_status(client, tokens):
    zh = _problem(client.get("/no/such/address", headers=bearer(tokens["planner"][1])), 404)
    assert zh["detail"].startswith("The requested URL was not found")
    assert zh["message"] == "此地址没有内容。"
    en = _problem(client.get("/no/such/address?lang=en", headers=bearer(tokens["planner"][1])), 404)
    assert en["message"] == en["detail"]


def _bad_case(client, tokens, headers):
    feature = {
        "type": "Feature",
        "properties": {"category": "", "description": "长" * 2001, "status": "gone"},
        "geometry": {"type": "Point", "coordinates": [117.215, 28.29]},
    }
    return client.post(
        "/collections/violations/items",
        json=feature,
        headers={**bearer(tokens["inspector"][1]), **headers},
    )


def test_a_422_from_pydantic_is_said_by_type_and_context(client, tokens):
    body = _problem(_bad_case(client, tokens, {}), 422)
    assert body["detail"] == "The feature is not valid." and body["message"] == "要素内容有误。"
    said = {e["field"]: e for e in body["errors"]}
    category = said["properties.category"]
    assert category["reason"] == "String should have at least 1 character"
    assert category["message"] == "不能为空"
    assert said["properties.description"]["message"] == "最多 2000 个字符"
    assert said["properties.status"]["message"].startswith("应为以下之一：'open'、")
    assert all("_pydantic" not in e for e in body["errors"])


def test_a_422_from_pydantic_in_english(client, tokens):
    body = _problem(_bad_case(client, tokens, EN), 422)
    assert body["message"] == body["detail"]
    assert all(e["message"] == e["reason"] for e in body["errors"])


def test_a_geometry_outside_the_city_is_said_with_its_place(client, tokens):
    feature = {
        "type": "Feature",
        "properties": {"category": "graffiti"},
        "geometry": {"type": "Point", "coordinates": [28.29, 117.215]},  # lat, lon
    }
    resp = client.post(
        "/collections/violations/items", json=feature, headers=bearer(tokens["inspector"][1])
    )
    (error,) = _problem(resp, 422)["errors"]
    assert error["reason"].startswith("lies outside the city (28.2900000,117.2150000)")
    assert error["message"].startswith("位于城市范围之外（28.2900000,117.2150000）")
    assert "GeoJSON 要求经度在前" in error["message"]


def test_a_report_refused_on_a_phone_is_said_in_chinese(client, tokens):
    resp = client.post(
        "/api/reports",
        data={"category": "street_vending", "lon": "east"},
        headers=bearer(tokens["inspector"][1]),
        content_type="multipart/form-data",
    )
    body = _problem(resp, 422)
    assert body["message"] == "上报内容不完整。"
    said = {e["field"]: e["message"] for e in body["errors"]}
    assert said == {"lon": "应为数字，收到的是 'east'", "lat": "必填"}


def _signed_in(client, name: str, password: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', page).group(1)
    resp = client.post("/login", data={"csrf_token": token, "username": name, "password": password})
    assert resp.status_code == 302


def test_a_page_that_cannot_be_shown_is_a_page_in_the_page_s_language(client, tokens):
    _signed_in(client, "t_unit", "unit-password")
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    resp = client.get("/report", headers=browser)
    assert resp.status_code == 403 and resp.mimetype == "text/html"
    page = resp.get_data(as_text=True)
    assert "上报问题需要以下角色之一：" in page and "Reporting needs" not in page
    en = client.get("/report?lang=en", headers=browser).get_data(as_text=True)
    assert "Reporting needs one of the roles:" in en
    client.set_cookie("lang", "zh")
    missing = client.get("/inspection-plans/987654321", headers=browser)
    assert missing.status_code == 404 and missing.mimetype == "text/html"
    assert "没有编号为 987654321 的巡查计划。" in missing.get_data(as_text=True)
    # a script's fetch still gets JSON
    fetched = client.get("/inspection-plans/987654321", headers={"Accept": "*/*"})
    assert fetched.mimetype == "application/problem+json"


def test_the_login_page_says_a_stale_form_in_chinese(client, tokens):
    resp = client.post("/login", data={"username": "t_leader", "password": "leader-password"})
    page = resp.get_data(as_text=True)
    assert "缺少安全令牌" in page and "CSRF token is missing" not in page


def test_the_audit_page_says_a_bad_filter_in_chinese(client, tokens):
    _signed_in(client, "t_admin", "admin-password")
    page = client.get("/admin/audit?day=yesterday").get_data(as_text=True)
    assert "部分查询参数无法识别。" in page
    assert "应为 YYYY-MM-DD 格式的日期，收到的是 " in page and "yesterday" in page


def test_the_json_module_s_words_and_nul_are_said_in_chinese(client, tokens):
    resp = client.post(
        "/collections/violations/items",
        data=b'{"type": "Feature",',
        headers={**bearer(tokens["inspector"][1]), "Content-Type": "application/geo+json"},
    )
    body = _problem(resp, 400)
    assert body["message"] == "请求内容不是 JSON。"
    assert body["errors"][0]["reason"].startswith("Expecting property name enclosed in double")
    said = "此处应为用双引号括起的属性名：第 1 行第 20 列（第 19 个字符）"
    assert body["errors"][0]["message"] == said
    nul = _problem(client.get("/api/search?q=a%00", headers=bearer(tokens["planner"][1])), 400)
    assert nul["errors"][0]["message"] == "查询参数中含有 NUL 字符"
