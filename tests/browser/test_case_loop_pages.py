"""The loop's phone pages walked by three people in three browsers: an inspector reports a
case in the unit user's zone; the unit user, on /tasks at 390 × 844 with the phone's position
near the case, accepts it and fixes it with an after-photo from the camera; the inspector, on
/verify (linked from the rounds page), fails it with a reason; the unit fixes it again; the
inspector passes it. The case is closed with one rework and its history has every step in
order, and the loop's figures for the day moved by one case received, fixed, reworked once and
closed on time. A unit's user has no verify button, the API refuses it the step (403) and
/verify is not its page (403); another unit's case is not on its /tasks and acting on it is a
404. No request leaves the server;
no console error but the refusals provoked on purpose."""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import urllib.request
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlalchemy import text

from tests.browser.conftest import sign_in_as, watched_context

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
PROVOKED = ("status of 422", "status of 403")  # the refusals this test asks for


FIGURES = ("received", "fixed_cases", "reworks", "reworked_cases", "closed", "closed_on_time",
           "verify_fail", "verify_pass", "disputes")  # fmt: skip


def _figures(server: str, token: str) -> dict:
    """Today's figures per unit (``GET /api/kpis`` as a program asks, with no session), by
    unit code."""
    req = urllib.request.Request(
        f"{server}/api/kpis?from={_today()}&to={_today()}&level=unit",
        headers={"Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(req) as resp:
        return {r["code"]: r for r in json.loads(resp.read())["rows"]}


def _today() -> str:
    """Today in the demo city (Asia/Shanghai)."""
    return dt.datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()


def _png(colour) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(buf, "PNG")
    return buf.getvalue()


def _near(lon, lat, metres):
    """A point ``metres`` east of (lon, lat)."""
    return lon + metres / (111_320 * math.cos(math.radians(lat))), lat


def _places(engine, city_id: int, unit_id: int):
    """A point inside a zone of the unit user's unit (or one of its communities), and one in
    another unit's zone."""
    with engine.connect() as conn:
        rows = [
            conn.execute(
                text(
                    "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(z.geom) p "
                    "FROM zone z JOIN unit u ON u.city_id = z.city_id AND u.id = z.unit_id "
                    "WHERE z.city_id = :c "
                    f"AND {cond} AND z.valid_to IS NULL ORDER BY ST_Area(z.geom) DESC LIMIT 1) s"
                ),
                {"c": city_id, "u": unit_id},
            ).one()
            for cond in (
                "(u.id = :u OR u.parent_id = :u)",
                "u.id <> :u AND coalesce(u.parent_id, 0) <> :u",
            )
        ]
    return tuple(rows[0]), tuple(rows[1])


def _report(ctx, server, token, lon, lat, photo: bytes) -> dict:
    resp = ctx.request.post(
        server + "/api/reports",
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        multipart={
            "category": "graffiti",
            "lon": str(lon),
            "lat": str(lat),
            "description": "墙面涂鸦<b>未清除</b>",
            "photos": {"name": "before.png", "mimeType": "image/png", "buffer": photo},
        },
    )
    assert resp.status == 201, resp.text()
    return resp.json()


def _status_is(page, cid: int, status: str) -> None:
    """Wait until the page (reloaded after a step) shows the case in ``status``."""
    page.wait_for_function(
        "([id, s]) => document.readyState === 'complete' && "
        "document.querySelector('#case-' + id) !== null && "
        "document.querySelector('#case-' + id).dataset.status === s && "
        "document.querySelector('#case-' + id + ' .cw-step-form').hidden",
        arg=[cid, status],
        timeout=20000,
    )


def _gone(page, cid: int) -> None:
    page.wait_for_function(
        "(id) => document.readyState === 'complete' && !document.querySelector('#case-' + id)",
        arg=cid,
        timeout=20000,
    )


def _fix(unit, cid: int, photo_path) -> None:
    card = unit.locator(f"#case-{cid}")
    card.locator(".cw-act-fix").click()
    form = card.locator("form.cw-step[data-action=fix]")
    photos = form.locator("input[type=file]")
    assert photos.get_attribute("accept") == "image/*"
    assert photos.get_attribute("capture") == "environment"
    assert photos.get_attribute("multiple") is not None
    photos.set_input_files(str(photo_path))
    # the phone's position, with its accuracy, before it is sent
    unit.wait_for_function(
        "(id) => /\\d/.test(document.querySelector('#case-' + id + ' .cw-where').textContent)",
        arg=cid,
        timeout=10000,
    )
    assert "9" in form.locator(".cw-where").inner_text()  # accuracy 9 m
    form.locator("textarea").fill("已清除，墙面恢复")
    form.locator(".cw-send").click()
    _status_is(unit, cid, "resolved")


def test_one_case_round_the_loop_on_the_phone_pages(
    browser, server, engine, demo, tokens, tmp_path
):  # fmt: skip
    city_id = demo[0]
    unit_user, unit_token = tokens["unit"]
    inspector_token = tokens["inspector"][1]
    (lon, lat), (olon, olat) = _places(engine, city_id, unit_user.unit_id)
    after = tmp_path / "after.png"
    after.write_bytes(_png((30, 160, 60)))
    near = _near(lon, lat, 10)
    phone = {
        "viewport": PHONE,
        "is_mobile": True,
        "has_touch": True,
        "geolocation": {"longitude": near[0], "latitude": near[1], "accuracy": 9},
        "permissions": ["geolocation"],
    }
    with (
        watched_context(browser, **phone) as (ictx, iwatch),
        watched_context(browser, **phone) as (uctx, uwatch),
    ):
        # the loop's figures for today, per unit, before the walk (as the office reads them)
        before = _figures(server, tokens["planner"][1])
        # the inspector reports a case in the unit's zone, and one in another unit's
        case = _report(ictx, server, inspector_token, lon, lat, _png((200, 30, 30)))
        cid, case_no = case["id"], case["properties"]["case_no"]
        assert case["properties"]["status"] == "dispatched"
        foreign = _report(ictx, server, inspector_token, olon, olat, _png((30, 30, 200)))

        # the unit's user lands on its tasks
        unit = uctx.new_page()
        sign_in_as(unit, server, "t_unit", "unit-password")
        assert unit.url.endswith("/tasks"), unit.url
        card = unit.locator(f"#case-{cid}")
        assert card.count() == 1
        assert unit.locator(f"#case-{foreign['id']}").count() == 0
        assert foreign["properties"]["case_no"] not in unit.content()
        assert unit.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        # names, a countdown, the distance from the phone, a locator, the before-photo
        shown = card.inner_text()
        assert case_no in shown and "乱涂乱画" in shown
        assert "剩余" in card.locator(".cw-countdown").inner_text()
        assert "<b>" in shown  # the description as text, not markup
        unit.wait_for_function(
            "(id) => /距您 \\d+ m/.test(document.querySelector('#case-' + id + "
            "' .cw-distance').textContent)",
            arg=cid,
        )
        card.scroll_into_view_if_needed()
        unit.wait_for_function(
            "(id) => [...document.querySelectorAll('#case-' + id + ' img')]"
            ".every(i => i.complete && i.naturalWidth > 0)",
            arg=cid,
        )
        assert card.locator(".cw-locator img").count() >= 1
        assert card.locator("img.cw-before").count() == 1
        # large tap targets; no verify button for a unit
        box = card.locator(".cw-act-accept").bounding_box()
        assert box["height"] >= 44 and box["width"] >= 120
        assert unit.locator(".cw-act-verify_pass, .cw-act-verify_fail").count() == 0
        # a step the state does not allow yet is disabled and says why
        assert card.locator(".cw-act-accept").is_enabled()

        # a dispute without a reason: the server's refusal, in the page's language
        card.locator(".cw-act-dispute").click()
        card.locator("form.cw-step .cw-send").click()
        refusal = card.locator(".cw-step-status")
        refusal.wait_for(state="visible")
        unit.wait_for_function(
            "(id) => document.querySelector('#case-' + id + ' .cw-step-status')"
            ".textContent.startsWith('未能提交')",
            arg=cid,
        )
        assert "理由" in refusal.inner_text() or "原因" in refusal.inner_text()
        card.locator(".cw-cancel").click()

        card.locator(".cw-act-accept").click()
        _status_is(unit, cid, "rectifying")
        card = unit.locator(f"#case-{cid}")
        accept = card.locator(".cw-act-accept")
        assert accept.is_disabled() and "整改中" in accept.get_attribute("title")
        _fix(unit, cid, after)
        # fixed: shown apart, awaiting verification
        assert unit.locator(f"#awaiting-cases #case-{cid}").count() == 1
        # the unit may not verify: not on the page, not through the API, no /verify
        etag = unit.locator(f"#case-{cid}").get_attribute("data-etag")
        refused = uctx.request.post(
            f"{server}/api/cases/{cid}/events",
            headers={"X-CSRFToken": unit.locator("#cw-tasks").get_attribute("data-csrf"),
                     "If-Match": etag},
            data={"action": "verify_pass"},
        )  # fmt: skip
        assert refused.status == 403, refused.text()
        with_token = ictx.request.post(  # a program's request: the inspector's context
            f"{server}/api/cases/{cid}/events",  # has no session yet
            headers={"Authorization": f"Bearer {unit_token}", "If-Match": etag},
            data={"action": "verify_pass"},
        )
        assert with_token.status == 403, with_token.text()
        assert uctx.request.get(server + "/verify").status == 403
        # nor act on another unit's case: for it, that case does not exist
        other = uctx.request.post(
            f"{server}/api/cases/{foreign['id']}/events",
            headers={"X-CSRFToken": unit.locator("#cw-tasks").get_attribute("data-csrf"),
                     "If-Match": "*"},
            data={"action": "accept"},
        )  # fmt: skip
        assert other.status == 404, other.text()

        # the inspector: from the rounds page to /verify; before and after side by side
        insp = ictx.new_page()
        sign_in_as(insp, server, "t_inspector", "inspector-password")
        assert insp.url.endswith("/rounds"), insp.url
        insp.click("#verify-link")
        insp.wait_for_load_state()
        assert insp.url.endswith("/verify")
        vcard = insp.locator(f"#case-{cid}")
        vcard.scroll_into_view_if_needed()
        insp.wait_for_function(
            "(id) => [...document.querySelectorAll('#case-' + id + ' img.cw-thumb')]"
            ".filter(i => i.complete && i.naturalWidth > 0).length === 2",
            arg=cid,
        )
        before_box = vcard.locator("img.cw-before").bounding_box()
        after_box = vcard.locator("img.cw-after").bounding_box()
        assert abs(before_box["y"] - after_box["y"]) < 2 and after_box["x"] > before_box["x"]
        # nearest first: the phone stands by this case
        insp.wait_for_function(
            "(id) => document.querySelector('#verify-cases .cw-case').id === 'case-' + id",
            arg=cid,
        )
        vcard.locator(".cw-act-verify_fail").click()
        vcard.locator("form.cw-step textarea").fill("墙角仍有残留")
        vcard.locator("form.cw-step .cw-send").click()
        _gone(insp, cid)

        # back to the unit: rectifying again, one rework; fixed again
        unit.reload()
        _status_is(unit, cid, "rectifying")
        assert "返工 1 次" in unit.locator(f"#case-{cid}").inner_text()
        _fix(unit, cid, after)

        # the inspector passes it
        insp.reload()
        insp.locator(f"#case-{cid} .cw-act-verify_pass").click()
        _gone(insp, cid)
        unit.reload()
        unit.wait_for_load_state()
        assert unit.locator(f"#case-{cid}").count() == 0

        # the figures moved by this case alone: received, fixed, one rework, closed on time
        after_figures = _figures(server, tokens["planner"][1])
        for watch in (iwatch, uwatch):
            assert watch.outside == []
            assert [e for e in watch.errors if not any(p in e for p in PROVOKED)] == []
        assert any("status of 422" in e for e in uwatch.errors)  # the dispute refused

    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT status, rework_count, closed_at IS NOT NULL FROM violation WHERE id = :i"),
            {"i": cid},
        ).one()
        steps = conn.execute(
            text(
                "SELECT action, to_status, comment, accuracy_m, jsonb_array_length(photos) "
                "FROM case_event WHERE violation_id = :i ORDER BY at, id"
            ),
            {"i": cid},
        ).all()
    assert tuple(row) == ("closed", 1, True)
    with engine.connect() as conn:
        owner = conn.execute(
            text("SELECT u.code FROM violation v JOIN unit u ON u.id = v.unit_id WHERE v.id = :i"),
            {"i": cid},
        ).scalar()
    was = before.get(owner, dict.fromkeys(after_figures[owner], 0))
    moved = {k: after_figures[owner][k] - was[k] for k in FIGURES}
    assert moved == {
        "received": 1, "fixed_cases": 1, "reworks": 1, "reworked_cases": 1, "closed": 1,
        "closed_on_time": 1, "verify_fail": 1, "verify_pass": 1, "disputes": 0,
    }, moved  # fmt: skip
    assert [s.action for s in steps] == [
        "report", "dispatch", "accept", "fix", "verify_fail", "fix", "verify_pass",
    ]  # fmt: skip
    fixes = [s for s in steps if s.action == "fix"]
    assert all(s.accuracy_m == 9 and s[4] == 1 and s.comment == "已清除，墙面恢复" for s in fixes)
    assert steps[4].comment == "墙角仍有残留" and steps[4].to_status == "rectifying"
